//! Plugin files: checking one with `wsgate check`, patched versions of the
//! `tagger` component, and deploying a version into a plugins directory.

use std::path::Path;
use std::process::Command;

use crate::{component, wsgate_binary};

/// Runs `wsgate check` on `path`: whether it passed, and what it said.
pub fn check(path: &Path) -> (bool, String) {
    let output = Command::new(wsgate_binary())
        .arg("check")
        .arg(path)
        .output()
        .expect("run wsgate check");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
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
