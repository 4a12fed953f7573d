//! Plugin files: checking one with `wsgate check`, patched versions of the
//! `tagger` component, and deploying a version into a plugins directory.

use std::path::Path;
use std::process::Command;

use crate::{component, wsgate_binary};

/// Runs `wsgate check` on `path`: whether it passed, and what it said.
pub fn check(path: &Path) -> (bool, String) {
    wsgate(Command::new(wsgate_binary()).arg("check").arg(path))
}

/// Runs `wsgate` with `command`'s arguments: whether it succeeded, and what
/// it said (stdout, then stderr).
pub fn wsgate(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("run wsgate");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Runs `wsgate deploy` of `bytes` (written to a file of their own first)
/// into `dir` for `route`: whether it succeeded, and what it said.
pub fn wsgate_deploy(dir: &Path, route: &str, bytes: &[u8]) -> (bool, String) {
    let built = tempfile::tempdir().expect("a directory for the build");
    let file = built.path().join("build.wasm");
    std::fs::write(&file, bytes).expect("write the build");
    wsgate(
        Command::new(wsgate_binary())
            .arg("deploy")
            .arg(&file)
            .args(["--route", route, "--plugins"])
            .arg(dir),
    )
}

/// A version of the `tagger` test component whose replies carry `tag-<tag>`
/// (`tag` is at most 8 characters): the placeholder in its data is patched.
pub fn tagger_version(tag: &str) -> Vec<u8> {
    const PLACEHOLDER: &[u8] = b"tag-AAAAAAAA";
    assert!(tag.len() <= 8, "tags have at most 8 characters");
    let mut bytes = std::fs::read(component("tagger")).expect("read tagger");
    let at = bytes
        .windows(PLACEHOLDER.len())
        .position(|window| window == PLACEHOLDER)
        .expect("the tagger's placeholder");
    let patched = format!("tag-{tag:_>8}");
    bytes[at..at + PLACEHOLDER.len()].copy_from_slice(patched.as_bytes());
    bytes
}

/// Deploys `bytes` as `file` in `dir` the recommended way: written under a
/// hidden name, then renamed, so the gateway never sees half a file.
pub fn deploy(dir: &Path, file: &str, bytes: &[u8]) {
    let hidden = dir.join(format!(".{file}.partial"));
    std::fs::write(&hidden, bytes).expect("write the new version");
    std::fs::rename(&hidden, dir.join(file)).expect("rename it into place");
}
