//! wsgate's project tasks, run with `cargo xtask <task>` and nothing but cargo:
//!
//! - `plugins`: build every guest crate (first-party plugins, examples, test
//!   plugins) for wasm32-wasip2 and install each component where its crate's
//!   `[package.metadata.wsgate] install` says (a path, or a list of them);
//!   then install the Python, JavaScript and C toolchains ([`toolchains`])
//!   and build the examples written in other languages ([`languages`]);
//! - `test`: build everything and run the whole test suite (formatting, lints,
//!   unit tests, the guest crates' native unit tests, the JavaScript
//!   client's tests and end-to-end tests against the real binary), after
//!   installing the Python tools some tests drive the gateway with (boto3,
//!   schemathesis) into a virtual environment under `target/python`, and
//!   `redis-server` (with apt-get, if missing) for the cluster tests;
//! - `demo`: build the plugins and run the gateway with the chat example;
//! - `soak --minutes N`: the churn test of the suite (`tests/tests/churn.rs`),
//!   round after round for N minutes, with a progress line per round;
//! - `bench`: build the plugins, the gateway and the benchmark suite in
//!   release mode and run the suite (see `BENCHMARKS.md`); arguments after
//!   `bench` go to `wsgate-bench run`.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

mod languages;
mod toolchains;

const GUEST_TARGET: &str = "wasm32-wasip2";
const GUEST_PROFILE: &str = "plugin";
/// The guest crates with native unit tests (`cargo test` of the default
/// members leaves them out).
const GUEST_UNIT_TESTS: &[&str] = &[
    "wsgate-sdk",
    "chat",
    "wsgate-example-auth",
    "wsgate-jwt-authorizer",
];

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root()?;
    match task.as_str() {
        "plugins" => plugins(&root),
        "test" => test(&root),
        "demo" => demo(&root),
        "soak" => soak(&root, std::env::args().skip(2)),
        "bench" => bench(&root, std::env::args().skip(2)),
        _ => {
            eprintln!("usage: cargo xtask <plugins|test|demo|soak|bench>");
            eprintln!("  plugins  build every plugin, example and test plugin as .wasm components");
            eprintln!("  test     build everything and run the whole test suite");
            eprintln!("  demo     build the plugins and run the gateway with the chat example");
            eprintln!(
                "  soak     --minutes N: run the churn test for N minutes (WSGATE_CHURN_SEED replays)"
            );
            eprintln!(
                "  bench    build in release mode and run the benchmark suite (BENCHMARKS.md)"
            );
            bail!("unknown task `{task}`")
        }
    }
}

/// A guest crate: a workspace member with a `[package.metadata.wsgate]` table.
struct Guest {
    package: String,
    artifact: String,
    /// Where its component is installed: none, one place or several.
    install: Vec<PathBuf>,
}

fn plugins(root: &Path) -> anyhow::Result<()> {
    ensure_guest_target()?;
    let guests = guests(root)?;
    let mut build = cargo(root);
    build.args([
        "build",
        "--profile",
        GUEST_PROFILE,
        "--target",
        GUEST_TARGET,
    ]);
    for guest in &guests {
        build.args(["-p", &guest.package]);
    }
    run(&mut build)?;
    let out = target_dir(root).join(GUEST_TARGET).join(GUEST_PROFILE);
    for guest in &guests {
        for install_path in &guest.install {
            install(root, &out.join(&guest.artifact), install_path)?;
        }
    }
    let tools = toolchains::ensure(root, &target_dir(root))?;
    languages::build(root, &out, &tools)
}

/// Copies a built component to where it is installed: written, then renamed,
/// so a running gateway never sees half a file.
fn install(root: &Path, built: &Path, install: &Path) -> anyhow::Result<()> {
    if let Some(dir) = install.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = install.with_extension("wasm.partial");
    std::fs::copy(built, &partial).with_context(|| format!("copying {}", built.display()))?;
    std::fs::rename(&partial, install)?;
    println!(
        "installed {}",
        install.strip_prefix(root).unwrap_or(install).display()
    );
    Ok(())
}

fn test(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    run(cargo(root).args(["fmt", "--all", "--check"]))?;
    run(cargo(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The default members, so the dependencies are built with the same
    // features `cargo test` unifies and are compiled once, not twice.
    run(cargo(root).args(["build"]))?;
    // The guest crates' own unit tests, natively: off wasm32 the SDK answers
    // their calls to the gateway from `wsgate_sdk::testing`. Quick, so first.
    let mut unit_tests = cargo(root);
    unit_tests.arg("test");
    for package in GUEST_UNIT_TESTS {
        unit_tests.args(["-p", package]);
    }
    run(&mut unit_tests)?;
    js_client(root)?;
    let python = python_env(root)?;
    toolchains::redis_server()?;
    toolchains::nginx()?;
    // The console's test (tests/tests/console.rs) drives Chromium from Node.
    toolchains::npm_dependencies(&root.join("tests/browser"))?;
    toolchains::chromium()?;
    run(cargo(root).args(["test"]).env("WSGATE_TEST_PYTHON", python))
}

/// The JavaScript client's own tests (`clients/js`: its types, and its unit
/// tests against an in-process stand-in of the gateway), after installing
/// its npm dependencies, which the suite's test of it against the real
/// gateway (`tests/tests/reliable_client.rs`) uses too.
fn js_client(root: &Path) -> anyhow::Result<()> {
    let package = root.join("clients/js");
    toolchains::npm_dependencies(&package)?;
    run(Command::new("npm").arg("test").current_dir(&package))
}

/// The interpreter of a virtual environment under `target/` holding the
/// packages of `tests/python/requirements.txt`.
fn python_env(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = target_dir(root).join("python");
    toolchains::python_venv(&venv, &root.join("tests/python/requirements.txt"))
        .context("preparing the Python tools of the AWS SDK and OpenAPI tests")?;
    Ok(venv.join("bin").join("python"))
}

fn soak(root: &Path, mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let minutes = match (args.next().as_deref(), args.next()) {
        (Some("--minutes"), Some(minutes)) => minutes
            .parse::<u64>()
            .with_context(|| format!("--minutes takes a whole number, not `{minutes}`"))?,
        _ => bail!("usage: cargo xtask soak --minutes N"),
    };
    plugins(root)?;
    run(cargo(root).args(["build"]))?;
    run(cargo(root)
        .args([
            "test",
            "--test",
            "churn",
            "--",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("WSGATE_SOAK_MINUTES", minutes.to_string()))
}

fn demo(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    let plugins = root.join("examples/chat/plugins");
    println!();
    println!("chat example: connect with a WebSocket client, e.g.");
    println!("  npx wscat -c 'ws://localhost:8080/?room=lobby&name=ann'");
    println!("then send {{\"action\":\"sendmessage\",\"data\":\"hello\"}}");
    println!("or serve the checkout (python3 -m http.server -d . 8000) and open");
    println!("http://localhost:8000/examples/chat/ in a browser. Ctrl-C stops the gateway.");
    println!();
    // The default members, as `test` builds them: `cargo run -p wsgate`
    // would unify other features and compile most dependencies a second time.
    run(cargo(root).arg("build"))?;
    run(Command::new(target_dir(root).join("debug/wsgate"))
        .args(["serve", "--plugins"])
        .arg(plugins))
}

fn bench(root: &Path, args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    plugins(root)?;
    run(cargo(root).args(["build", "--release", "-p", "wsgate", "-p", "wsgate-bench"]))?;
    toolchains::redis_server()?;
    let suite = target_dir(root).join("release").join("wsgate-bench");
    run(Command::new(suite).arg("run").args(args))
}

fn ensure_guest_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32-wasip2 target")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == GUEST_TARGET)
    {
        run(Command::new("rustup").args(["target", "add", GUEST_TARGET]))?;
    }
    Ok(())
}

fn guests(root: &Path) -> anyhow::Result<Vec<Guest>> {
    let output = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut guests = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let wsgate = &package["metadata"]["wsgate"];
        if wsgate.is_null() {
            continue;
        }
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        let target = package["targets"]
            .as_array()
            .and_then(|targets| targets.first())
            .context("a guest crate without targets")?;
        let is_bin = target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
        let stem = target["name"].as_str().unwrap_or_default();
        let artifact = match is_bin {
            true => format!("{stem}.wasm"),
            false => format!("{}.wasm", stem.replace('-', "_")),
        };
        let manifest_dir = Path::new(package["manifest_path"].as_str().unwrap_or_default())
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let install = match &wsgate["install"] {
            serde_json::Value::Array(paths) => {
                paths.iter().filter_map(|path| path.as_str()).collect()
            }
            path => path.as_str().into_iter().collect::<Vec<_>>(),
        };
        let install = install
            .into_iter()
            .map(|path| normalized(&manifest_dir.join(path)))
            .collect();
        guests.push(Guest {
            package: name,
            artifact,
            install,
        });
    }
    Ok(guests)
}

/// `path` without its `.` and `..` parts, read as text: an install path may
/// lead out of its crate (`../../examples/auth/plugins/…`), and the log
/// names it plainly.
fn normalized(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            part => clean.push(part),
        }
    }
    clean
}

/// The workspace `cargo xtask` was run in. Located at run time (cargo sets
/// `CARGO_MANIFEST_DIR` for what `cargo run` starts), not from the path the
/// xtask was compiled at: two clones sharing one `CARGO_TARGET_DIR` run the
/// same binary, and each must build and install into its own tree.
fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest_dir = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let located = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["locate-project", "--workspace", "--message-format", "plain"])
                .output()
                .context("running cargo locate-project")?;
            if !located.status.success() {
                bail!("run the tasks with `cargo xtask` inside a wsgate checkout");
            }
            let manifest = PathBuf::from(String::from_utf8(located.stdout)?.trim());
            return Ok(manifest
                .parent()
                .context("a manifest in a directory")?
                .to_path_buf());
        }
    };
    Ok(manifest_dir
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}
