//! Embeds the project templates of `wsgate new` (`templates/`), the WIT
//! world and the SDK's sources in the binary, so `wsgate new` works wherever
//! it runs and its projects build wherever they are copied.
//! Every file below those directories is embedded (except the frozen
//! `wit/v0.1/` and the SDK's manifest, which inherits from this workspace: a
//! project's copy gets `templates/sdk/Cargo.toml` instead); adding one needs
//! no code.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let mut code = String::new();
    for (name, dir, skip) in [
        ("TEMPLATES", manifest.join("templates"), None),
        // Projects start on the newest world; the frozen 0.1.0 beside it in
        // `wit/v0.1/` is served but not where anything new begins.
        (
            "WIT",
            manifest.join("../wit"),
            Some(manifest.join("../wit/v0.1")),
        ),
        (
            "SDK",
            manifest.join("../sdk"),
            Some(manifest.join("../sdk/Cargo.toml")),
        ),
    ] {
        println!("cargo::rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        walk(&dir, skip.as_deref(), &mut files);
        files.sort();
        code.push_str(&format!("pub const {name}: &[(&str, &str)] = &[\n"));
        for file in files {
            let relative = file.strip_prefix(&dir).expect("below the directory");
            code.push_str(&format!(
                "    ({:?}, include_str!({:?})),\n",
                relative.to_str().expect("UTF-8 file names"),
                file.to_str().expect("UTF-8 paths"),
            ));
        }
        code.push_str("];\n");
    }
    std::fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
}

/// Every file below `dir`, except those below `skip`.
fn walk(dir: &Path, skip: Option<&Path>, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a directory to embed") {
        let path = entry.expect("a directory entry").path();
        if Some(path.as_path()) == skip {
            continue;
        }
        if path.is_dir() {
            walk(&path, skip, files);
        } else {
            files.push(path);
        }
    }
}
