//! Which component serves which route: file names in the plugins directory
//! (`$connect.wasm`, `sendmessage.wasm`, …), plus `[routes]` in `wsgate.toml`
//! for a component that serves several routes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

/// One route bound to one component file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The route key.
    pub route: String,
    /// The component file.
    pub file: PathBuf,
}

/// The bindings of a plugins directory.
///
/// Every `NAME.wasm` binds route `NAME`, except files that `configured` (route
/// key → file name in `dir`) names: those serve exactly the routes configured
/// for them. Hidden files (a deploy's temporary `.name.wasm`) are skipped. A
/// file that leads outside `dir` (through `..` or a symlink) is refused: the
/// first such problem is the error (see [`bind_routes_checked`] for all).
pub fn bind_routes(
    dir: &Path,
    configured: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<Binding>> {
    let (bindings, problems) = bind_routes_checked(dir, configured)?;
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(bindings),
    }
}

/// The bindings of a plugins directory, as [`bind_routes`] makes them, and
/// every route that cannot be bound (its file is missing, unresolvable or
/// outside `dir`) beside them. An error only if `dir` cannot be read.
pub fn bind_routes_checked(
    dir: &Path,
    configured: &BTreeMap<String, String>,
) -> anyhow::Result<(Vec<Binding>, Vec<anyhow::Error>)> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the plugins directory {}", dir.display()))?;
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve the plugins directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if !name.starts_with('.') && name.ends_with(".wasm") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();

    let mut bindings = Vec::new();
    let mut problems = Vec::new();
    for (route, file) in configured {
        let path = dir.join(file);
        if !path.is_file() {
            problems.push(anyhow!(
                "wsgate.toml binds route `{route}` to `{file}`, which is not in {}",
                dir.display()
            ));
            continue;
        }
        match inside(dir, &root, route, &path) {
            Ok(file) => bindings.push(Binding {
                route: route.clone(),
                file,
            }),
            Err(problem) => problems.push(problem),
        }
    }
    for path in files {
        // Bound (or refused) above, as `[routes]` says.
        if configured.values().any(|file| dir.join(file) == path) {
            continue;
        }
        let route = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("");
        let file = match inside(dir, &root, route, &path) {
            Ok(file) => file,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let configured_file = bindings.iter().any(|binding| binding.file == file);
        let configured_route = configured.contains_key(route);
        if !configured_file && !configured_route {
            bindings.push(Binding {
                route: route.to_owned(),
                file,
            });
        }
    }
    bindings.sort_by(|a, b| a.route.cmp(&b.route));
    Ok((bindings, problems))
}

/// ` (it holds directories: a, b)` when `dir` has subdirectories: a source
/// tree given instead of the directory its builds go to.
pub fn subdirectories(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    match names.is_empty() {
        true => String::new(),
        false => format!(" (it holds directories: {})", names.join(", ")),
    }
}

/// `path`, the component of `route`, as a path in `dir` once `..` and
/// symlinks are resolved (`root` is `dir` resolved); an error if it leads
/// outside.
fn inside(dir: &Path, root: &Path, route: &str, path: &Path) -> anyhow::Result<PathBuf> {
    let resolved = path
        .canonicalize()
        .with_context(|| format!("route `{route}`: cannot resolve {}", path.display()))?;
    match resolved.strip_prefix(root) {
        Ok(relative) => Ok(dir.join(relative)),
        Err(_) => bail!(
            "route `{route}`: {} is outside the plugins directory {} (it resolves to {}); a component must be inside it",
            path.display(),
            dir.display(),
            resolved.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_bind_routes_and_config_binds_shared_components() {
        let dir = std::env::temp_dir().join(format!("wsgate-bind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in [
            "$default.wasm",
            "chat.wasm",
            "sendmessage.wasm",
            ".tmp.wasm",
            "notes.txt",
        ] {
            std::fs::write(dir.join(file), b"").unwrap();
        }
        let configured = BTreeMap::from([
            ("$connect".to_owned(), "chat.wasm".to_owned()),
            ("sendmessage".to_owned(), "chat.wasm".to_owned()),
        ]);
        let routes: Vec<(String, String)> = bind_routes(&dir, &configured)
            .unwrap()
            .into_iter()
            .map(|b| {
                (
                    b.route,
                    b.file.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect();
        let expected = [
            ("$connect", "chat.wasm"),
            ("$default", "$default.wasm"),
            ("sendmessage", "chat.wasm"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(r, f)| (r.to_string(), f.to_string()))
            .collect();
        assert_eq!(routes, expected);

        let missing = BTreeMap::from([("x".to_owned(), "absent.wasm".to_owned())]);
        let error = bind_routes(&dir, &missing).unwrap_err().to_string();
        assert!(error.contains("absent.wasm"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
