//! Layering guard for the host crate: reads `host/src` and fails on
//! (1) an import cycle between its top-level modules and (2) a source file
//! longer than [`MAX_LINES`]. The layout groups code by stage of the data path;
//! a cycle between two stages means they are really one, and a long file means
//! a module wants splitting. Nothing here starts a binary.
//!
//! Design choice: a small hand-written scanner, not `syn`. Line numbers from
//! `syn` need proc-macro2's `span-locations` feature, which the workspace's
//! proc macros share, so most of the dependency tree would rebuild; and `syn`
//! leaves macro bodies (`info!(...)`, `matches!(...)`) as opaque tokens, hiding
//! `crate::` paths inside them. The scanner only has to skip comments and
//! string/char literals, then find `crate :: NAME` and `crate :: { ... }`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The host crate's sources, relative to this (tests) crate.
const HOST_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../host/src");
/// Longest allowed source file, in lines.
const MAX_LINES: usize = 400;

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
/// mention `crate::x` never become tokens.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        let skip = skipped_len(&c, i);
        let len = skip.unwrap_or_else(|| token_len(&c[i..]));
        let text: String = c[i..i + len].iter().collect();
        let newlines = text.matches('\n').count();
        if skip.is_none() && !text.starts_with(char::is_whitespace) {
            out.push((text, line));
        }
        (i, line) = (i + len, line + newlines);
    }
    out
}

/// Length of the code token at the start of `s`.
fn token_len(s: &[char]) -> usize {
    match s {
        [':', ':', ..] => 2,
        [c, ..] if is_ident(*c) => s.iter().take_while(|c| is_ident(**c)).count(),
        _ => 1,
    }
}

/// Length of the comment or string/char literal at `c[i]`, if one starts there.
/// A lifetime such as `'a` is none: it stays in the code as harmless punctuation.
fn skipped_len(c: &[char], i: usize) -> Option<usize> {
    let s = &c[i..];
    match s {
        ['/', '/', ..] => Some(run_until(s, '\n')),
        ['/', '*', ..] => Some(block_comment_len(s)),
        ['\'', '\\', _, rest @ ..] => Some(run_until(rest, '\'') + 4), // '\n', '\'', '\u{..}'
        ['\'', _, '\'', ..] => Some(3),
        _ => string_len(c, i),
    }
}

/// How many chars of `s` come before the first `c` (all of them if there is none).
fn run_until(s: &[char], c: char) -> usize {
    s.iter().position(|&x| x == c).unwrap_or(s.len())
}

/// Length of the (possibly nested) `/* */` comment at the start of `s`.
fn block_comment_len(s: &[char]) -> usize {
    let (mut depth, mut i) = (0usize, 0);
    while i < s.len() {
        match &s[i..] {
            ['/', '*', ..] => (depth, i) = (depth + 1, i + 2),
            ['*', '/', ..] => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
        if depth == 0 {
            return i;
        }
    }
    s.len()
}

/// Length of a string literal at `c[i]`: `"..."` or raw `r#"..."#` (any number
/// of `#`, also `br`/`cr`); the `b`/`c` of `b"..."` stay as harmless tokens.
/// `r#ident` is no string.
fn string_len(c: &[char], i: usize) -> Option<usize> {
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
            return Some(k + 1 + hashes);
        } else {
            k += 1;
        }
    }
    Some(s.len())
}

/// Every first path segment after `crate::`, with its line: `crate::a::X`
/// gives `a`; `crate::{a::X, b::{Y, Z}}` gives `a` and `b` (the names that
/// open an item directly inside a `crate::{...}` group). Non-modules are
/// filtered out later.
fn crate_refs(src: &str) -> Vec<Tok> {
    let toks = tokens(src);
    // One entry per open brace: whether it opens a `crate::{...}` group.
    let (mut refs, mut groups) = (Vec::new(), Vec::new());
    for (i, t) in toks.iter().enumerate() {
        let back = |n: usize| i.checked_sub(n).map_or("", |j| toks[j].0.as_str());
        let after_crate = back(2) == "crate" && back(1) == "::";
        let opens_item = groups.last() == Some(&true) && matches!(back(1), "{" | ",");
        match t.0.as_str() {
            "{" => groups.push(after_crate),
            "}" => drop(groups.pop()),
            s if s.starts_with(is_ident) && (after_crate || opens_item) => refs.push(t.clone()),
            _ => {}
        }
    }
    refs
}

/// A file's top-level module: the first component of its path under `src`;
/// `None` for the crate roots `lib.rs` and `main.rs` (main.rs's `wsgate::`
/// paths are never `crate::` paths anyway).
fn top_module(rel: &str) -> Option<&str> {
    let first = rel.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then_some(name)
}

/// All edges between distinct top-level modules in `files` (path under `src`,
/// contents). Targets that are not top-level modules (root items) are dropped.
fn edges(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> Vec<Edge> {
    let modules = files.iter().filter_map(|f| top_module(f.0.as_ref()));
    let modules: BTreeSet<&str> = modules.collect();
    let mut out = Vec::new();
    for (path, src) in files {
        let Some(from) = top_module(path.as_ref()) else {
            continue;
        };
        for (to, line) in crate_refs(src.as_ref()) {
            if to != from && modules.contains(to.as_str()) {
                let (from, site) = (from.to_string(), (path.as_ref().to_string(), line));
                out.push(Edge { from, to, site });
            }
        }
    }
    out.sort();
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
        let mut sites: BTreeMap<(&str, &str, &str), Vec<String>> = BTreeMap::new();
        for e in edges.iter().filter(|e| inside(&e.from) && inside(&e.to)) {
            let lines = sites.entry((&*e.from, &*e.to, &*e.site.0)).or_default();
            lines.push(e.site.1.to_string());
        }
        for ((from, to, file), lines) in sites {
            let lines = lines.join(",");
            out += &format!("    {from} -> {to}    host/src/{file}:{lines}\n");
        }
    }
    out
}

/// Every `.rs` file under `host/src` as (path under it with `/`, contents),
/// sorted by path so that every report is deterministic.
fn host_sources() -> Vec<(String, String)> {
    let root = Path::new(HOST_SRC);
    let (mut dirs, mut files) = (vec![root.to_path_buf()], Vec::new());
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(dir).expect("read host/src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under host/src");
                let text = fs::read_to_string(&path).expect("read source");
                files.push((rel.to_string_lossy().replace('\\', "/"), text));
            }
        }
    }
    files.sort();
    assert!(files.len() > 10, "too few sources in {HOST_SRC}");
    files
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    let edges = edges(&host_sources());
    let cycles = cycles(&edges);
    let report = report(&edges, &cycles);
    assert!(cycles.is_empty(), "import cycles in host/src:\n{report}");
}

#[test]
fn no_source_file_is_too_long() {
    let long = (host_sources().iter())
        .map(|(path, src)| (path, src.lines().count()))
        .filter(|&(_, n)| n > MAX_LINES)
        .map(|(path, n)| format!("    host/src/{path}: {n} lines"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(long.is_empty(), "files over {MAX_LINES} lines:\n{long}");
}

/// The guard's own parts on in-memory fixtures, so that it cannot silently pass.
mod fixtures {
    use super::*;

    /// The edges out of `c.rs` holding `src`, beside modules `a`, `b` and `d`, as `to@line`.
    fn refs_from_c(src: &str) -> Vec<String> {
        let list = [("a.rs", ""), ("b/mod.rs", ""), ("c.rs", src), ("d.rs", "")];
        let e = edges(&list);
        e.iter().map(|e| format!("{}@{}", e.to, e.site.1)).collect()
    }

    const NONE: [&str; 0] = [];

    #[test]
    fn grouped_multi_line_use() {
        let src = "use crate::{\n    a::X,\n    b::{Y, Z, c::W},\n};\npub(crate) use crate::d::V;";
        assert_eq!(refs_from_c(src), ["a@2", "b@3", "d@5"]);
    }

    #[test]
    fn qualified_paths_in_code_and_macros() {
        let src = "fn f() -> crate::a::T {\n    crate::b::M::new(); info!(\"{}\", crate::d::X)\n}";
        assert_eq!(refs_from_c(src), ["a@1", "b@2", "d@2"]);
    }

    #[test]
    fn comments_and_doc_links_do_not_count() {
        let src = "// use crate::a::X;\n/* crate::b /* nested */ crate::d */\n/// [`crate::b::Y`]";
        assert_eq!(refs_from_c(src), NONE);
        assert_eq!(refs_from_c("//! See [`crate::a`].\nfn f() {}"), NONE);
    }

    #[test]
    fn strings_and_chars_do_not_count_but_code_after_them_does() {
        let src = r##"fn f<'x>(s: &'x str) {
            let _ = ("crate::a", "esc \" crate::b", b"crate::a", c"crate::b", '"', '\'');
            let _ = (r#"crate::b "quoted" "#, br"crate::a", '\u{22}', "crate::a");
            crate::d::g();
        }"##;
        assert_eq!(refs_from_c(src), ["d@4"]);
    }

    #[test]
    fn self_edges_roots_and_root_items_are_ignored() {
        let list = [
            ("b/mod.rs", "pub mod x;"),
            ("b/x.rs", "use crate::b::y;\nuse crate::Options;"),
            ("lib.rs", "use crate::b;"),
            ("main.rs", "use crate::b; use wsgate::b;"),
        ];
        assert_eq!(edges(&list), []);
    }

    #[test]
    fn two_module_cycle_is_reported_with_its_sites() {
        let list = [
            ("a.rs", "use crate::b::X;"),
            ("b/x.rs", "\nuse crate::a::{Y, Z};"),
        ];
        let e = edges(&list);
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
        cycles(&edges(&spec.split(' ').map(file).collect::<Vec<_>>()))
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
