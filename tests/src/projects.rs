//! Building handler projects inside tests, with the toolchains that
//! `cargo xtask plugins` installs in `target/toolchains/` (componentize-py,
//! jco, wit-bindgen; the linker is the Rust toolchain's) and the workspace's cargo.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::artifacts::{assert_prepared, target_dir};
use crate::{workspace_root, wsgate_binary};

/// A `PATH` with the installed guest toolchains first.
pub fn toolchain_path() -> OsString {
    let toolchains = target_dir().join("toolchains");
    let dirs = [
        toolchains.join("python/bin"),
        toolchains.join("node/node_modules/.bin"),
        toolchains.join("c/bin"),
    ];
    for dir in &dirs {
        assert_prepared(dir, Path::is_dir);
    }
    let system = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(dirs.into_iter().chain(std::env::split_paths(&system)))
        .expect("a valid PATH")
}

/// Runs `wsgate new --lang LANG DIR`.
pub fn wsgate_new(lang: &str, dir: &Path) {
    run(Command::new(wsgate_binary())
        .args(["new", "--lang", lang])
        .arg(dir));
}

/// Builds a Rust handler project for wasm32-wasip2 and returns its component.
/// It gets the workspace's `Cargo.lock` (the same dependency versions, no
/// resolution) and a target directory that outlives the test, so reruns are
/// quick.
pub fn cargo_build(project: &Path, artifact: &str) -> PathBuf {
    let target = target_dir().join("new-projects");
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(project)
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .env("CARGO_TARGET_DIR", &target),
    );
    target
        .join("wasm32-wasip2/release")
        .join(format!("{artifact}.wasm"))
}

/// Runs `command` to completion, panicking with its output if it fails.
pub fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("starting {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
