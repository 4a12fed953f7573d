//! The component toolchains of the other guest languages, installed from PyPI
//! and npm into `target/toolchains/` at the versions pinned in
//! `xtask/toolchains/`:
//!
//! - `target/toolchains/python`: a virtual environment with `componentize-py`
//!   (`requirements.txt`);
//! - `target/toolchains/node`: `jco` and `componentize-js`, installed with
//!   `npm ci` from `package.json` and `package-lock.json`.
//!
//! Each install records the pins it was made from and is skipped while they
//! are unchanged, so only the first run (or a version bump) pays for it.
//! [`python_venv`] also makes the test suite's Python environment, and
//! [`redis_server`] installs the Redis server the cluster tests start.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::run;

/// The file inside an install that records the pins it was made from.
const STAMP: &str = ".wsgate-pins";

/// An installed toolchain.
pub struct Toolchain {
    dir: PathBuf,
    command: PathBuf,
}

impl Toolchain {
    /// Its main command.
    pub fn command(&self) -> &Path {
        &self.command
    }

    /// A file that changes whenever the toolchain is reinstalled.
    pub fn stamp(&self) -> PathBuf {
        self.dir.join(STAMP)
    }
}

/// The installed toolchains.
pub struct Toolchains {
    /// `componentize-py`, in a virtual environment.
    pub python: Toolchain,
    /// `jco` (with `componentize-js`), in a `node_modules`.
    pub node: Toolchain,
}

/// Installs whichever toolchain is missing or out of date.
pub fn ensure(root: &Path, target: &Path) -> anyhow::Result<Toolchains> {
    let pins = root.join("xtask/toolchains");
    let installs = target.join("toolchains");
    let python = installs.join("python");
    let node = installs.join("node");
    let requirements = pins.join("requirements.txt");
    let lock = pins.join("package-lock.json");

    python_venv(&python, &requirements)?;
    if !is_current(&node, &lock)? {
        println!(
            "installing the JavaScript component toolchain into {}",
            node.display()
        );
        std::fs::create_dir_all(&node)?;
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(pins.join(file), node.join(file))?;
        }
        run(Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel",
                "error",
                "--prefix",
            ])
            .arg(&node))?;
        stamp(&node, &lock)?;
    }
    Ok(Toolchains {
        python: Toolchain {
            command: python.join("bin/componentize-py"),
            dir: python,
        },
        node: Toolchain {
            command: node.join("node_modules/.bin/jco"),
            dir: node,
        },
    })
}

/// Makes (or remakes, when `requirements` changed) a virtual environment in
/// `venv` holding the packages of `requirements`, with the machine's `python3`.
pub fn python_venv(venv: &Path, requirements: &Path) -> anyhow::Result<()> {
    if is_current(venv, requirements)? {
        return Ok(());
    }
    println!(
        "installing {} into {}",
        requirements.display(),
        venv.display()
    );
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv))
    .context("python3 with the venv module is needed")?;
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements))?;
    stamp(venv, requirements)
}

/// Installs `redis-server` from the distribution's packages (`apt-get`) when
/// it is not on `PATH`: the cluster tests start real Redis servers.
pub fn redis_server() -> anyhow::Result<()> {
    if on_path("redis-server") {
        return Ok(());
    }
    println!("installing redis-server with apt-get (for the cluster tests)");
    let install = || {
        run(Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "redis-server",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    // A fresh machine has no package lists yet.
    if install().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        install().context(
            "redis-server is needed by the cluster tests; install it with apt-get as root",
        )?;
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn is_current(install: &Path, pins: &Path) -> anyhow::Result<bool> {
    let recorded = std::fs::read(install.join(STAMP)).unwrap_or_default();
    Ok(recorded == read(pins)?)
}

fn stamp(install: &Path, pins: &Path) -> anyhow::Result<()> {
    std::fs::write(install.join(STAMP), read(pins)?)
        .with_context(|| format!("recording the pins of {}", install.display()))
}

fn read(pins: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(pins).with_context(|| format!("reading {}", pins.display()))
}
