//! Layering guard for the host crate: reads `host/src` and fails when a
//! top-level module uses one in its own or a higher tier, on an import cycle
//! between top-level modules, on a path the scan cannot place, and on a source
//! file of `host/src` or of the harness (`tests/src`) over [`MAX_LINES`] lines.
//! A cycle between two stages of the data path means they are really one; a
//! long file means a module wants splitting. Nothing here starts a binary.
//!
//! # Tiers
//!
//! The one place the layering is written down (`host/src/lib.rs` tells it in
//! prose); [`tiers`] reads it from here. Bottom first; every edge must go to a
//! strictly lower tier, and every top-level module must be listed:
//!
//! > 0: clock, limits · 1: connection · 2: event · 3: observability, keyvalue ·
//! > 4: registry · 5: runtime · 6: routing · 7: server · 8: management ·
//! > 9: config · 10: hot_swap · 11: gateway · 12: cli
//!
//! # Design
//!
//! A small hand-written scanner, not `syn`: line numbers from `syn` need
//! proc-macro2's `span-locations`, which the workspace's proc macros share, so
//! most of the dependency tree would rebuild; and `syn` leaves macro bodies
//! (`info!(...)`) opaque, hiding paths in them. The scanner skips comments and
//! string/char literals, then takes the name after each path prefix reaching
//! the crate root (`crate::`, or enough `super::` for the module depth), also
//! inside `{...}` groups. A name there that is no top-level module (a root
//! re-export such as `crate::Settings`, or `*`) fails: it would hide an edge.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The host crate's sources, relative to this (tests) crate.
const HOST_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../host/src");
/// The harness's own sources.
const HARNESS_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
/// Longest allowed source file, in lines.
const MAX_LINES: usize = 400;
/// Why a root path to something other than a top-level module fails.
const ROOT_ITEM: &str =
    "is no top-level module; use the item's own module path, e.g. crate::config::Settings";

/// The tiers in the module doc's `> ` lines, bottom first.
fn tiers() -> Vec<Vec<&'static str>> {
    let lines = include_str!("layers.rs").lines();
    let doc = lines.filter_map(|l| l.strip_prefix("//! > "));
    let tiers = doc.flat_map(|l| l.split('·').map(str::trim).filter(|t| !t.is_empty()));
    let tier = |(n, t): (usize, &'static str)| {
        let modules = t.strip_prefix(&format!("{n}: ")).expect("numbered from 0");
        modules.split(", ").collect()
    };
    tiers.enumerate().map(tier).collect()
}

/// One reference from a file in module `from` to the top-level module `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    /// The file (path under `src`) and line of the reference.
    site: (String, usize),
}

/// A token of code: an identifier (or number), `::`, or one punctuation char,
/// with its 1-based line.
type Tok = (String, usize);

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// How many times `c` repeats at the start of `s`.
fn run(s: &[char], c: char) -> usize {
    s.iter().take_while(|&&x| x == c).count()
}

/// Splits source into code tokens. Comments and string/char literals are
/// skipped whole (counting their newlines), so doc links and strings that
/// mention `crate::x` never become tokens. A literal or block comment that
/// runs to the end of the source is a misread, and an error.
fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        let unclosed = |what| format!("{what} from line {line} runs to the end of the file");
        let skip = skipped_len(&c, i).transpose().map_err(unclosed)?;
        let len = skip.unwrap_or_else(|| token_len(&c[i..]));
        let text: String = c[i..i + len].iter().collect();
        let newlines = text.matches('\n').count();
        if skip.is_none() && !text.starts_with(char::is_whitespace) {
            out.push((text, line));
        }
        (i, line) = (i + len, line + newlines);
    }
    Ok(out)
}

/// Length of the code token at the start of `s`.
fn token_len(s: &[char]) -> usize {
    match s {
        [':', ':', ..] => 2,
        [c, ..] if is_ident(*c) => s.iter().take_while(|c| is_ident(**c)).count(),
        _ => 1,
    }
}

/// Length of the comment or string/char literal at `c[i]`, if one starts
/// there; `Err(what)` if it never ends. A lifetime such as `'a` is none: it
/// stays in the code as harmless punctuation.
fn skipped_len(c: &[char], i: usize) -> Option<Result<usize, &'static str>> {
    let s = &c[i..];
    let closing = |s: &[char], c| s.iter().position(|&x| x == c);
    Some(match s {
        ['/', '/', ..] => Ok(closing(s, '\n').unwrap_or(s.len())),
        ['/', '*', ..] => block_comment_len(s).ok_or("block comment"),
        // '\n', '\'', '\u{..}'
        ['\'', '\\', _, rest @ ..] => closing(rest, '\'').map(|n| n + 4).ok_or("char literal"),
        ['\'', _, '\'', ..] => Ok(3),
        _ => string_len(c, i)?.ok_or("string literal"),
    })
}

/// Length of the (possibly nested) `/* */` comment at the start of `s`.
fn block_comment_len(s: &[char]) -> Option<usize> {
    let (mut depth, mut i) = (0usize, 0);
    while i < s.len() {
        match &s[i..] {
            ['/', '*', ..] => (depth, i) = (depth + 1, i + 2),
            ['*', '/', ..] => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

/// Length of a string literal at `c[i]`, `None` inside if it never ends:
/// `"..."` or raw `r#"..."#` (any number of `#`, also `br`/`cr`); the `b`/`c`
/// of `b"..."` stay as harmless tokens. `r#ident` is no string.
fn string_len(c: &[char], i: usize) -> Option<Option<usize>> {
    let s = &c[i..];
    let word_start = i == 0 || !is_ident(c[i - 1]);
    let j = match s {
        ['b' | 'c', 'r', ..] if word_start => 2,
        ['r', ..] if word_start => 1,
        _ => 0,
    };
    let (raw, hashes) = (j > 0, run(&s[j..], '#'));
    if s.get(j + hashes) != Some(&'"') {
        return None;
    }
    let mut k = j + hashes + 1;
    while k < s.len() {
        if s[k] == '\\' && !raw {
            k += 2;
        } else if s[k] == '"' && run(&s[k + 1..], '#') >= hashes {
            return Some(Some(k + 1 + hashes));
        } else {
            k += 1;
        }
    }
    Some(None)
}

/// Whether the tokens before `toks[i]` end in a path prefix that reaches the
/// crate root: `crate ::`, or a chain of `super ::` at least `depth` long,
/// `depth` being the module depth of the code there.
fn reaches_root(toks: &[Tok], i: usize, depth: usize) -> bool {
    let back = |n: usize| i.checked_sub(n).map_or("", |j| toks[j].0.as_str());
    let supers = (0..).take_while(|n| back(2 * n + 2) == "super" && back(2 * n + 1) == "::");
    let supers = supers.count();
    (back(2) == "crate" && back(1) == "::")
        || (supers > 0 && supers >= depth && back(2 * supers + 1) != "::")
}

/// Every name right after a path prefix reaching the crate root, with its
/// line, in the source of a file `depth` modules deep: `crate::a::X` gives
/// `a`; `crate::{a::X, b::{Y, Z}}` gives `a` and `b` (the names that open an
/// item directly inside the group); in `x/mod.rs`, `super::a` gives `a`.
/// `crate::*` gives `*`. Whether a name is a top-level module is checked later.
fn crate_refs(src: &str, depth: usize) -> Result<Vec<Tok>, String> {
    let toks = tokens(src)?;
    // What each open brace opens: a root group `crate::{...}`, an inline
    // `mod x {...}` (one module level deeper), or anything else ("").
    let (mut refs, mut braces) = (Vec::new(), Vec::new());
    for (i, t) in toks.iter().enumerate() {
        let back = |n: usize| i.checked_sub(n).map_or("", |j| toks[j].0.as_str());
        let depth = depth + braces.iter().filter(|&&b| b == "mod").count();
        let at_root = reaches_root(&toks, i, depth);
        let in_group = braces.last() == Some(&"crate") && matches!(back(1), "{" | ",");
        match t.0.as_str() {
            "{" if at_root => braces.push("crate"),
            "{" if back(2) == "mod" => braces.push("mod"),
            "{" => braces.push(""),
            "}" => drop(braces.pop()),
            "super" => {}
            s if (s.starts_with(is_ident) || s == "*") && (at_root || in_group) => {
                refs.push(t.clone())
            }
            _ => {}
        }
    }
    Ok(refs)
}

/// A file's top-level module: the first component of its path under `src`;
/// `None` for the crate roots `lib.rs` and `main.rs` (main.rs's `wsgate::`
/// paths are never `crate::` paths anyway).
fn top_module(rel: &str) -> Option<&str> {
    let first = rel.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then_some(name)
}

/// The top-level modules that `files` (path under `src`, contents) make up.
fn modules(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> BTreeSet<&str> {
    let tops = files.iter().filter_map(|f| top_module(f.0.as_ref()));
    tops.collect()
}

/// All edges between distinct top-level modules in `files`, and the problems
/// that would hide one: a root path to something that is not a top-level
/// module, and a file the scanner cannot read to its end.
fn edges(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> (Vec<Edge>, Vec<String>) {
    let modules = modules(files);
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for (path, src) in files {
        let path = path.as_ref();
        let Some(from) = top_module(path) else {
            continue;
        };
        // `a.rs`, `a/mod.rs`: 1; `a/b.rs`, `a/b/mod.rs`: 2; ...
        let depth = path.split('/').count() - usize::from(path.ends_with("/mod.rs"));
        let refs = crate_refs(src.as_ref(), depth).unwrap_or_else(|e| {
            problems.push(format!("host/src/{path}: {e}"));
            vec![]
        });
        for (to, line) in refs.into_iter().filter(|r| r.0 != from) {
            if !modules.contains(to.as_str()) {
                problems.push(format!("host/src/{path}:{line}: crate::{to} {ROOT_ITEM}"));
                continue;
            }
            let (from, site) = (from.to_string(), (path.to_string(), line));
            out.push(Edge { from, to, site });
        }
    }
    out.sort();
    (out, problems)
}

/// Sorted `edges` grouped by (from, to, file): the first of each group and
/// all its lines, joined by commas.
fn sites<'e>(edges: impl Iterator<Item = &'e Edge>) -> Vec<(&'e Edge, String)> {
    let mut out: Vec<(&Edge, String)> = Vec::new();
    for e in edges {
        match out.last_mut() {
            Some((f, lines)) if (&f.from, &f.to, &f.site.0) == (&e.from, &e.to, &e.site.0) => {
                *lines += &format!(",{}", e.site.1)
            }
            _ => out.push((e, e.site.1.to_string())),
        }
    }
    out
}

/// What breaks the layering `tiers` (bottom first) in `files`: a top-level
/// module in no tier, a listed module that does not exist, and each edge to
/// the same or a higher tier, as `from (tier a) -> to (tier b)  file:lines`.
fn tier_problems(
    tiers: &[Vec<&str>],
    files: &[(impl AsRef<str>, impl AsRef<str>)],
    edges: &[Edge],
) -> Vec<String> {
    let modules = modules(files);
    let mut tier = BTreeMap::new();
    for (n, t) in tiers.iter().enumerate() {
        tier.extend(t.iter().map(|m| (*m, n)));
    }
    let mut out = Vec::new();
    for m in modules.iter().filter(|m| !tier.contains_key(*m)) {
        out.push(format!(
            "top-level module {m} is in no tier; add it to the list"
        ));
    }
    for m in tier.keys().filter(|m| !modules.contains(*m)) {
        out.push(format!(
            "the tier list names {m}, which is no top-level module"
        ));
    }
    let tiers_of = |e: &Edge| Some((*tier.get(&*e.from)?, *tier.get(&*e.to)?));
    let upward = |e: &&Edge| tiers_of(e).is_some_and(|(a, b)| b >= a);
    for (e, lines) in sites(edges.iter().filter(upward)) {
        let ((a, b), (from, to, file)) = (tiers_of(e).unwrap(), (&e.from, &e.to, &e.site.0));
        out.push(format!(
            "{from} (tier {a}) -> {to} (tier {b})  host/src/{file}:{lines}"
        ));
    }
    out
}

/// Module graph: each module and the modules it refers to.
type Graph<'e> = BTreeMap<&'e str, BTreeSet<&'e str>>;

/// Strongly connected components of more than one module, each sorted, the
/// list sorted: exactly the import cycles. Kosaraju's algorithm: order modules
/// by DFS finishing time, then each DFS on the reversed graph, taken in reverse
/// finishing order, collects one component.
fn cycles(edges: &[Edge]) -> Vec<Vec<String>> {
    let (mut graph, mut reversed) = (Graph::new(), Graph::new());
    for e in edges {
        graph.entry(&*e.from).or_default().insert(&*e.to);
        reversed.entry(&*e.to).or_default().insert(&*e.from);
        graph.entry(&*e.to).or_default();
        reversed.entry(&*e.from).or_default();
    }
    let (mut seen, mut finished) = (BTreeSet::new(), Vec::new());
    for v in graph.keys() {
        dfs(&graph, v, &mut seen, &mut finished);
    }
    let (mut seen, mut out) = (BTreeSet::new(), Vec::new());
    for v in finished.iter().rev() {
        let mut component = Vec::new();
        dfs(&reversed, v, &mut seen, &mut component);
        if component.len() > 1 {
            component.sort();
            out.push(component.into_iter().map(String::from).collect());
        }
    }
    out.sort();
    out
}

/// Depth-first search from `v` over modules not yet `seen`, appending each to
/// `finished` once everything reachable from it is done.
fn dfs<'e>(g: &Graph<'e>, v: &'e str, seen: &mut BTreeSet<&'e str>, finished: &mut Vec<&'e str>) {
    if seen.insert(v) {
        for &w in &g[v] {
            dfs(g, w, seen, finished);
        }
        finished.push(v);
    }
}

/// For each cycle: its modules, the two-way pairs in it (the shortest cycles,
/// often the first to break), and every file and line creating an edge in it.
fn report(edges: &[Edge], cycles: &[Vec<String>]) -> String {
    let pairs: BTreeSet<(&str, &str)> = edges.iter().map(|e| (&*e.from, &*e.to)).collect();
    let mut out = String::new();
    for c in cycles {
        let inside = |m: &str| c.iter().any(|x| x == m);
        let two_way: Vec<String> = (pairs.iter())
            .filter(|&&(a, b)| a < b && inside(a) && pairs.contains(&(b, a)))
            .map(|(a, b)| format!("{a} <-> {b}"))
            .collect();
        out += &format!("cycle between {{{}}}\n", c.join(", "));
        out += &format!("  two-way: {}\n  edges:\n", two_way.join(", "));
        let within = edges.iter().filter(|e| inside(&e.from) && inside(&e.to));
        for (e, lines) in sites(within) {
            let (from, to, file) = (&e.from, &e.to, &e.site.0);
            out += &format!("    {from} -> {to}    host/src/{file}:{lines}\n");
        }
    }
    out
}

/// Every `.rs` file under `root` as (path under it with `/`, contents),
/// sorted by path so that every report is deterministic.
fn sources(root: &str) -> Vec<(String, String)> {
    let root = Path::new(root);
    let (mut dirs, mut files) = (vec![root.to_path_buf()], Vec::new());
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under root");
                let text = fs::read_to_string(&path).expect("read source");
                files.push((rel.to_string_lossy().replace('\\', "/"), text));
            }
        }
    }
    files.sort();
    assert!(files.len() > 10, "too few sources in {}", root.display());
    files
}

/// The host's sources and edges; fails on any path the scan cannot place.
fn host_graph() -> (Vec<(String, String)>, Vec<Edge>) {
    let files = sources(HOST_SRC);
    let (edges, problems) = edges(&files);
    fail_on("paths in host/src that hide an edge", &problems);
    (files, edges)
}

/// Fails if there are `problems`, listing them one a line under `what`.
fn fail_on(what: &str, problems: &[impl Borrow<str>]) {
    assert!(
        problems.is_empty(),
        "{what}:\n    {}",
        problems.join("\n    ")
    );
}

#[test]
fn every_edge_goes_to_a_lower_tier() {
    let (files, edges) = host_graph();
    fail_on(
        "layering broken in host/src",
        &tier_problems(&tiers(), &files, &edges),
    );
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    let edges = host_graph().1;
    let cycles = cycles(&edges);
    let report = report(&edges, &cycles);
    assert!(cycles.is_empty(), "import cycles in host/src:\n{report}");
}

/// A scanner that finds nothing would pass the two tests above.
#[test]
fn known_edges_are_found() {
    let edges = host_graph().1;
    let found = edges.iter().map(|e| format!("{}>{}", e.from, e.to));
    let found: BTreeSet<String> = found.collect();
    let known =
        "gateway>server server>routing routing>runtime runtime>registry registry>connection";
    let missing: Vec<&str> = known.split(' ').filter(|&k| !found.contains(k)).collect();
    fail_on("known edges the scan missed", &missing);
}

#[test]
fn no_source_file_is_too_long() {
    let mut long = Vec::new();
    for (root, name) in [(HOST_SRC, "host/src"), (HARNESS_SRC, "tests/src")] {
        for (path, n) in sources(root).iter().map(|(p, s)| (p, s.lines().count())) {
            long.extend((n > MAX_LINES).then(|| format!("{name}/{path}: {n} lines")));
        }
    }
    fail_on(&format!("files over {MAX_LINES} lines"), &long);
}

/// The guard's own parts on in-memory fixtures, so that it cannot silently pass.
mod fixtures {
    use super::*;

    /// The scan of `path` holding `src`, beside modules `a`, `b` and `d`: the
    /// edges out of it as `to@line`, then the problems.
    fn scan(path: &str, src: &str) -> Vec<String> {
        let (e, problems) = edges(&[("a.rs", ""), ("b/mod.rs", ""), ("d.rs", ""), (path, src)]);
        let e = e.iter().map(|e| format!("{}@{}", e.to, e.site.1));
        e.chain(problems).collect()
    }

    /// The scan of `c.rs` holding `src`.
    fn c(src: &str) -> Vec<String> {
        scan("c.rs", src)
    }

    const NONE: [&str; 0] = [];

    #[test]
    fn grouped_multi_line_use() {
        let src = "use crate::{\n    a::X,\n    b::{Y, Z, c::W},\n};\npub(crate) use crate::d::V;";
        assert_eq!(c(src), ["a@2", "b@3", "d@5"]);
    }

    #[test]
    fn qualified_paths_in_code_and_macros() {
        let src = "fn f() -> crate::a::T {\n    crate::b::M::new(); info!(\"{}\", crate::d::X)\n}";
        assert_eq!(c(src), ["a@1", "b@2", "d@2"]);
    }

    #[test]
    fn comments_and_doc_links_do_not_count() {
        let src = "// use crate::a::X;\n/* crate::b /* nested */ crate::d */\n/// [`crate::b::Y`]";
        assert_eq!(c(src), NONE);
        assert_eq!(c("//! See [`crate::a`].\nfn f() {}"), NONE);
    }

    #[test]
    fn strings_and_chars_do_not_count_but_code_after_them_does() {
        let src = r##"fn f<'x>(s: &'x str) {
            let _ = ("crate::a", "esc \" crate::b", b"crate::a", c"crate::b", '"', '\'');
            let _ = (r#"crate::b "quoted" "#, br"crate::a", '\u{22}', "crate::a");
            crate::d::g();
        }"##;
        assert_eq!(c(src), ["d@4"]);
    }

    #[test]
    fn unclosed_literals_fail_naming_the_file() {
        let cases = [
            ("\n\"crate::a;\ncrate::b;", "string literal from line 2"),
            ("r#\"crate::a\";\ncrate::b;", "string literal from line 1"),
            ("crate::a; /* crate::b", "block comment from line 1"),
            ("'\\u{22};\ncrate::b;", "char literal from line 1"),
        ];
        for (src, what) in cases {
            let want = format!("host/src/c/x.rs: {what} runs to the end of the file");
            assert_eq!(scan("c/x.rs", src), [want], "in {src:?}");
        }
    }

    #[test]
    fn super_that_reaches_the_root_counts_as_crate() {
        assert_eq!(c("fn f() { super::a::g() }"), ["a@1"]);
        let src = "use super::a::X;\nuse super::{b::Y, d};\npub(super) fn f() {}";
        assert_eq!(scan("c/mod.rs", src), ["a@1", "b@2", "d@2"]);
        let src = "use super::a::X;\nuse super::super::b::Y;\nuse super::super::{d::Z};";
        assert_eq!(scan("c/x.rs", src), ["b@2", "d@3"]);
        assert_eq!(scan("c/x/mod.rs", src), ["b@2", "d@3"]);
        let src = "use super::super::a::X;\nuse super::super::super::d::Z;";
        assert_eq!(scan("c/x/y.rs", src), ["d@2"]);
    }

    #[test]
    fn inline_modules_are_one_level_deeper() {
        let src = "mod t {\n use super::*;\n use super::super::a::X;\n}\nuse super::b::Y;";
        assert_eq!(scan("c/mod.rs", src), ["a@3", "b@5"]);
    }

    #[test]
    fn paths_to_root_items_fail() {
        let src = "use crate::{a::X, Gateway};\nsuper::Settings::f();\nuse crate::*;";
        let root = |at| format!("host/src/c/mod.rs:{at} {ROOT_ITEM}");
        let want = ["1: crate::Gateway", "2: crate::Settings", "3: crate::*"].map(root);
        assert_eq!(scan("c/mod.rs", src)[1..], want);
    }

    #[test]
    fn self_edges_and_crate_roots_are_ignored() {
        let list = [
            ("b/mod.rs", "pub mod x;"),
            ("b/x.rs", "use crate::b::y;\nuse super::y::Z;"),
            ("lib.rs", "use crate::b; pub use b::Options;"),
            ("main.rs", "use crate::b; use wsgate::b;"),
        ];
        assert_eq!(edges(&list), (vec![], vec![]));
    }

    #[test]
    fn tiers_come_from_the_module_doc() {
        let tiers = tiers();
        assert_eq!(tiers.len(), 13);
        assert_eq!(
            [tiers[0].join(" "), tiers[12].join(" ")],
            ["clock limits", "cli"]
        );
    }

    #[test]
    fn edges_to_the_same_or_a_higher_tier_fail() {
        let files = [
            ("a.rs", "use crate::c::X;"),
            ("b/mod.rs", "use crate::d::X;\nuse crate::{a::Y, d::Z};"),
            ("c.rs", "use crate::{a::X, b::Y, d::Z};"),
            ("d.rs", ""),
        ];
        let tiers = [vec!["a"], vec!["b", "d"], vec!["c"]];
        let want = [
            "a (tier 0) -> c (tier 2)  host/src/a.rs:1",
            "b (tier 1) -> d (tier 1)  host/src/b/mod.rs:1,2",
        ];
        assert_eq!(tier_problems(&tiers, &files, &edges(&files).0), want);
    }

    #[test]
    fn tier_list_and_modules_must_match() {
        let files = [("a.rs", ""), ("b/mod.rs", ""), ("c.rs", "")];
        let want = [
            "top-level module c is in no tier; add it to the list",
            "the tier list names x, which is no top-level module",
        ];
        assert_eq!(
            tier_problems(&[vec!["a", "x"], vec!["b"]], &files, &[]),
            want
        );
    }

    #[test]
    fn two_module_cycle_is_reported_with_its_sites() {
        let list = [
            ("a.rs", "use crate::b::X;"),
            ("b/x.rs", "\nuse crate::a::{Y, Z};"),
        ];
        let e = edges(&list).0;
        let c = cycles(&e);
        assert_eq!(c, [["a", "b"]]);
        let r = report(&e, &c);
        assert!(r.contains("two-way: a <-> b\n"), "{r}");
        assert!(r.contains("a -> b    host/src/a.rs:1\n"), "{r}");
        assert!(r.contains("b -> a    host/src/b/x.rs:2\n"), "{r}");
    }

    /// The cycles of a module graph written as `"a>b,c b>c c>"`, each module
    /// in a file of its own that `use`s its targets in one group.
    fn cycles_of(spec: &str) -> Vec<Vec<String>> {
        let file = |m: &str| {
            let (name, to) = m.split_once('>').expect("name>targets");
            (format!("{name}.rs"), format!("use crate::{{{to}}};"))
        };
        cycles(&edges(&spec.split(' ').map(file).collect::<Vec<_>>()).0)
    }

    #[test]
    fn three_module_cycle_beside_an_acyclic_tail() {
        assert_eq!(cycles_of("a>b b>c c>a,d d>e e>"), [["a", "b", "c"]]);
    }

    #[test]
    fn separate_cycles_are_separate_components() {
        assert_eq!(cycles_of("d>c c>d b>a,c a>b"), [["a", "b"], ["c", "d"]]);
    }

    #[test]
    fn acyclic_chain_has_no_cycle() {
        assert_eq!(cycles_of("a>b b>c,d c>d d>"), Vec::<Vec<String>>::new());
    }
}
