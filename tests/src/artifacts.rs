//! Where the things `cargo xtask test` builds and installs are: the
//! workspace, its target directory, the `wsgate` binary, the Python tools
//! and the test components.

use std::path::{Path, PathBuf};

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The workspace's target directory (`CARGO_TARGET_DIR` if set).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `wsgate` binary built by `cargo build -p wsgate`.
pub fn wsgate_binary() -> PathBuf {
    let binary = target_dir().join("debug").join("wsgate");
    assert_prepared(&binary, Path::is_file);
    binary
}

/// A program of the Python environment `cargo xtask test` prepares (boto3,
/// schemathesis), by name: `python`, `schemathesis`.
pub fn python_tool(name: &str) -> PathBuf {
    let python = std::env::var_os("WSGATE_TEST_PYTHON").unwrap_or_else(|| {
        panic!("WSGATE_TEST_PYTHON is not set: run the suite with `cargo xtask test`, which installs boto3 and schemathesis into target/python")
    });
    let tool = Path::new(&python).with_file_name(name);
    assert_prepared(&tool, Path::is_file);
    tool
}

/// A component built by `cargo xtask plugins`, by crate name (`probe`,
/// `wsgate-echo`, `chat`, `faulty`, `not-a-handler`) or, for a guest in
/// another language, by the name the xtask gives it (`python-calc`,
/// `js-chat`, `wat-echo`, `c-echo`). `v0.1/NAME` is one of the kept builds of
/// `wsgate:gateway@0.1.0` in `tests/fixtures/v0.1/` (`echo`, `chat`,
/// `probe`; see its README).
pub fn component(crate_name: &str) -> PathBuf {
    if let Some(fixture) = crate_name.strip_prefix("v0.1/") {
        let path = fixtures_v0_1().join(format!("{fixture}.wasm"));
        assert!(path.is_file(), "no 0.1.0 fixture {}", path.display());
        return path;
    }
    let release = target_dir().join("wasm32-wasip2").join("plugin");
    let lib = release.join(format!("{}.wasm", crate_name.replace('-', "_")));
    let bin = release.join(format!("{crate_name}.wasm"));
    let path = if lib.is_file() { lib } else { bin };
    assert!(
        path.is_file(),
        "component {crate_name} is not built: run the suite with `cargo xtask test`"
    );
    path
}

/// `tests/fixtures/v0.1/`: components built against `wsgate:gateway@0.1.0`
/// before the SDK moved to 0.2.0, kept as built.
pub fn fixtures_v0_1() -> PathBuf {
    workspace_root().join("tests/fixtures/v0.1")
}

/// Asserts that `path`, which `cargo xtask test` prepares, `is` there (a
/// file, a directory), naming the command that prepares it if not.
pub(crate) fn assert_prepared(path: &Path, is: fn(&Path) -> bool) {
    assert!(
        is(path),
        "{} is missing: run the suite with `cargo xtask test`",
        path.display()
    );
}
