//! The component toolchains of the other guest languages, installed from PyPI,
//! npm and crates.io into `target/toolchains/` at the versions pinned in
//! `xtask/toolchains/`:
//!
//! - `target/toolchains/python`: a virtual environment with `componentize-py`
//!   (`requirements.txt`);
//! - `target/toolchains/node`: `jco` and `componentize-js`, installed with
//!   `npm ci` from `package.json` and `package-lock.json`;
//! - `target/toolchains/c`: `wit-bindgen` and `wasm-component-ld`, installed
//!   with `cargo install` as `c.txt` says, for the distribution's clang,
//!   lld and wasi-libc, which [`c_compiler`] installs with apt-get.
//!
//! Each install records the pins it was made from and is skipped while they
//! are unchanged, so only the first run (or a version bump) pays for it.
//! [`python_venv`] also makes the test suite's Python environment,
//! [`npm_dependencies`] installs what the JavaScript client's tests and the
//! browser tests use, [`redis_server`] installs the Redis server the cluster
//! tests start, [`nginx`] the proxy of the rolling-restart test and
//! [`chromium`] the browser the console's test drives.

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
    /// `wit-bindgen`, with `wasm-component-ld` beside it, for clang.
    pub c: Toolchain,
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
        npm_ci(&node)?;
        stamp(&node, &lock)?;
    }
    let c = installs.join("c");
    c_tools(&c, &pins.join("c.txt"))?;
    Ok(Toolchains {
        python: Toolchain {
            command: python.join("bin/componentize-py"),
            dir: python,
        },
        node: Toolchain {
            command: node.join("node_modules/.bin/jco"),
            dir: node,
        },
        c: Toolchain {
            command: c.join("bin/wit-bindgen"),
            dir: c,
        },
    })
}

/// Installs the npm dependencies of `package` (the JavaScript client's
/// `ws` and TypeScript, the browser tests' playwright-core) into its
/// `node_modules`, from its `package-lock.json`, when the lock changed since
/// the last install: its tests, and the suite's tests that run its scripts,
/// import them from there.
pub fn npm_dependencies(package: &Path) -> anyhow::Result<()> {
    let modules = package.join("node_modules");
    let lock = package.join("package-lock.json");
    if is_current(&modules, &lock)? {
        return Ok(());
    }
    println!("installing npm dependencies into {}", modules.display());
    npm_ci(package)?;
    stamp(&modules, &lock)
}

/// `npm ci` in `prefix`: exactly the packages of its `package-lock.json`.
fn npm_ci(prefix: &Path) -> anyhow::Result<()> {
    run(Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel",
            "error",
            "--prefix",
        ])
        .arg(prefix))
}

/// Installs the tools of `pins` (one `cargo install` per line) into `root`,
/// and the C compiler they work with.
///
/// Why a linker and not the adapter crate in process, as the WAT guest is
/// made a component: a project `wsgate new --lang c` generates builds without
/// the xtask, and `wasm-component-ld` (which carries the preview 1 adapter)
/// is the one step it needs on top of clang; the example builds the same way.
/// Debian 12's wasi-libc targets only `wasm32-wasi` (preview 1), so clang
/// cannot make a wasm32-wasip2 component by itself.
fn c_tools(root: &Path, pins: &Path) -> anyhow::Result<()> {
    c_compiler()?;
    if is_current(root, pins)? {
        return Ok(());
    }
    println!(
        "installing the C component toolchain into {}",
        root.display()
    );
    let pinned = String::from_utf8(read(pins)?)?;
    let installs = pinned
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    for install in installs {
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["install", "--locked", "--quiet", "--root"])
                .arg(root)
                .args(install.split_whitespace()),
        )?;
    }
    stamp(root, pins)
}

/// The distribution's packages C guests are built with: clang, `wasm-ld`,
/// wasi-libc and clang's wasm32 builtins (Debian's names; the unversioned
/// ones follow the default clang).
const C_PACKAGES: &[&str] = &["clang", "lld", "wasi-libc", "libclang-rt-dev-wasm32"];

/// Installs [`C_PACKAGES`] with apt-get when `dpkg` says one is missing (on a
/// machine without `dpkg`, clang and the rest are the user's to provide).
fn c_compiler() -> anyhow::Result<()> {
    let Ok(status) = Command::new("dpkg-query")
        .args(["--show", "--showformat=${db:Status-Abbrev}\\n"])
        .args(C_PACKAGES)
        .output()
    else {
        return Ok(());
    };
    let listed = String::from_utf8_lossy(&status.stdout);
    let installed = listed.lines().filter(|line| line.starts_with("ii")).count();
    if installed == C_PACKAGES.len() {
        return Ok(());
    }
    apt_install(
        C_PACKAGES,
        "clang, lld and wasi-libc are needed to build C handlers",
    )
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
    apt_install(
        &["redis-server"],
        "redis-server is needed by the cluster tests",
    )
}

/// Installs Debian's `nginx` with apt-get when it is not on `PATH`: the
/// rolling-restart test puts it in front of two replicas, as an Ingress.
pub fn nginx() -> anyhow::Result<()> {
    if on_path("nginx") {
        return Ok(());
    }
    apt_install(&["nginx"], "nginx is needed by the rolling-restart test")
}

/// Installs Debian's `chromium` with apt-get when it is not on `PATH`: the
/// console's test drives it headless with playwright-core (which downloads
/// no browser of its own).
pub fn chromium() -> anyhow::Result<()> {
    if on_path("chromium") {
        return Ok(());
    }
    apt_install(
        &["chromium"],
        "chromium is needed by the web console's browser test",
    )
}

/// Installs the distribution's `packages` with apt-get; `why` says what for
/// when that fails.
fn apt_install(packages: &[&str], why: &str) -> anyhow::Result<()> {
    println!("installing {} with apt-get", packages.join(" "));
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    // A fresh machine has no package lists yet.
    if install().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        install().with_context(|| {
            format!("{why}; install {} with apt-get as root", packages.join(" "))
        })?;
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
