//! [`BrowserScript`]: a script of `tests/browser/` that drives a page in
//! headless Chromium with playwright-core, run under Node. It reports the
//! steps it reached as lines on its stdout and reads the test's answers on
//! its stdin; its screenshots go to a directory under the target directory
//! ([`screenshot_dir`]), kept after the test as its artifacts.
//! `cargo xtask test` installs Debian's `chromium` and the scripts' npm
//! dependencies (`tests/browser/node_modules`, from its lockfile).

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use crate::artifacts::{assert_prepared, target_dir};
use crate::node::NodeScript;
use crate::{eventually, workspace_root};

/// How long a script may take to reach its next step: a browser starts
/// and renders slowly on a loaded machine.
pub const STEP: Duration = Duration::from_secs(60);

/// A browser script, running; killed when dropped.
pub struct BrowserScript {
    script: NodeScript,
    /// Lines already expected.
    seen: usize,
}

/// Where the screenshots of the browser test `name` go (made empty).
pub fn screenshot_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("test-artifacts").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// The Chromium the scripts drive: `WSGATE_TEST_CHROMIUM`, or `chromium`
/// on `PATH` (Debian's package, which `cargo xtask test` installs).
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("WSGATE_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not on PATH: run the suite with `cargo xtask test`, which installs it"
            )
        })
}

impl BrowserScript {
    /// Starts `tests/browser/{script}` with `args`.
    pub fn start(script: &str, args: &[&str]) -> BrowserScript {
        let dir = workspace_root().join("tests/browser");
        assert_prepared(&dir.join("node_modules/playwright-core"), Path::is_dir);
        let chromium = chromium();
        let env = [("CHROMIUM", chromium.as_os_str())];
        BrowserScript {
            script: NodeScript::start(&dir, script, args, &env, "browser"),
            seen: 0,
        }
    }

    /// Waits for the script's next line, which must be `step`.
    pub async fn reached(&mut self, step: &str) {
        let what = format!("the browser script reaches `{step}`");
        let line = eventually(&what, STEP, async || {
            self.script
                .output(|output| match output.lines.get(self.seen) {
                    Some(line) => Ok(line.clone()),
                    None if output.ended => {
                        panic!("the browser script ended before `{step}` (its stderr says why)")
                    }
                    None => Err("not yet"),
                })
        })
        .await;
        assert_eq!(line, step, "the browser script's step");
        self.seen += 1;
    }

    /// Tells the script `line`.
    pub fn tell(&mut self, line: &str) {
        self.script.tell(line);
    }

    /// Waits for the script to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.script.wait_exit("the browser script exits", STEP)
    }
}
