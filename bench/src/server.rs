//! The servers under test, each in its own process: the real `wsgate` binary,
//! in the [`Config`] a scenario asks for, and the [`baseline`](crate::baseline)s
//! (this binary's `baseline` subcommand), plus the child processes that hold
//! idle connections.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::baseline::Baseline;
use crate::client::{self, HELD, Target};

/// The line both servers log once they accept clients, followed by the address.
pub const LISTENING: &str = "listening for WebSocket clients on ws://";

/// How long a server may take to start (a debug build compiling components
/// is slow).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the gateway binary and the guest components are.
#[derive(Clone, Debug)]
pub struct Artifacts {
    /// The `wsgate` binary.
    pub gateway: PathBuf,
    /// The directory of components built by `cargo xtask plugins`.
    pub components: PathBuf,
}

impl Artifacts {
    /// The defaults for a bench binary in `target/<profile>/`: the gateway next
    /// to it, the components in `target/wasm32-wasip2/plugin/`.
    pub fn beside_this_binary() -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let profile_dir = exe.parent().context("the bench binary has a directory")?;
        let target_dir = profile_dir
            .parent()
            .context("the bench binary lives in target/<profile>/")?;
        Ok(Artifacts {
            gateway: profile_dir.join("wsgate"),
            components: target_dir.join("wasm32-wasip2").join("plugin"),
        })
    }

    /// The component built from `crate_name`.
    pub fn component(&self, crate_name: &str) -> PathBuf {
        let lib = self
            .components
            .join(format!("{}.wasm", crate_name.replace('-', "_")));
        match lib.is_file() {
            true => lib,
            // A guest in another language, by the name the xtask gives it.
            false => self.components.join(format!("{crate_name}.wasm")),
        }
    }
}

/// A temporary plugins directory.
pub struct PluginsDir(tempfile::TempDir);

impl PluginsDir {
    /// An empty plugins directory.
    pub fn new() -> anyhow::Result<Self> {
        Ok(PluginsDir(tempfile::tempdir()?))
    }

    /// Copies the component built from `crate_name` in as `file`.
    pub fn add(&self, artifacts: &Artifacts, file: &str, crate_name: &str) -> anyhow::Result<()> {
        let from = artifacts.component(crate_name);
        std::fs::copy(&from, self.0.path().join(file)).with_context(|| {
            format!(
                "copying {}: build the components with `cargo xtask plugins`",
                from.display()
            )
        })?;
        Ok(())
    }

    /// Writes the directory's `wsgate.toml`.
    pub fn config(&self, toml: &str) -> anyhow::Result<()> {
        Ok(std::fs::write(self.0.path().join("wsgate.toml"), toml)?)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// A running server process, killed when dropped.
pub struct Server {
    child: Child,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// From spawning the process to its [`LISTENING`] line.
    pub ready_after: Duration,
    /// The server's log lines after start-up.
    log: mpsc::Receiver<String>,
    /// The gateway's data directory (its key-value store, and with
    /// [`Config::Shipped`] its access log), removed with the server.
    _data: Option<tempfile::TempDir>,
}

/// How the gateway is configured, beyond a scenario's own flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// The shipped defaults: the access log on (JSON, to standard output,
    /// which goes to a file in the gateway's data directory so that real bytes
    /// are written) and the per-connection rate limit at its default.
    Shipped,
    /// Like the baseline, which neither logs nor limits: no access log and no
    /// per-connection rate limit (`--access-log off --connection-rate 0`).
    NoLogNoLimit,
}

impl Config {
    /// The configuration's name in result lines.
    pub fn label(self) -> &'static str {
        match self {
            Config::Shipped => "defaults",
            Config::NoLogNoLimit => "log-off",
        }
    }
}

impl Server {
    /// Starts the gateway on loopback with `plugins`.
    pub fn gateway(artifacts: &Artifacts, plugins: &Path, config: Config) -> anyhow::Result<Self> {
        Self::gateway_with(artifacts, plugins, config, &[])
    }

    /// Starts the gateway with `plugins` and `extra` flags.
    pub fn gateway_with(
        artifacts: &Artifacts,
        plugins: &Path,
        config: Config,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        Self::gateway_on("127.0.0.1:0", artifacts, plugins, config, extra)
    }

    /// Starts the gateway with its client listener on `listen`.
    pub fn gateway_on(
        listen: &str,
        artifacts: &Artifacts,
        plugins: &Path,
        config: Config,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let data = tempfile::tempdir().context("creating the gateway's data directory")?;
        let mut command = Command::new(&artifacts.gateway);
        command
            .arg("serve")
            .arg("--plugins")
            .arg(plugins)
            .args(["--listen", listen, "--api-listen", "127.0.0.1:0"])
            .args(extra)
            .env("WSGATE_LOG", "info")
            .env("WSGATE_DATA_DIR", data.path());
        let stdout = match config {
            Config::Shipped => {
                let log = data.path().join("access.log");
                Stdio::from(File::create(&log).context("creating the access log file")?)
            }
            Config::NoLogNoLimit => {
                command.args(["--access-log", "off", "--connection-rate", "0"]);
                Stdio::null()
            }
        };
        let mut server = Self::start(command, stdout)
            .with_context(|| format!("starting the gateway {}", artifacts.gateway.display()))?;
        server._data = Some(data);
        Ok(server)
    }

    /// Starts a baseline server (this binary's `baseline` subcommand) with
    /// a read buffer of `read_buffer` bytes.
    pub fn baseline(baseline: Baseline, read_buffer: usize) -> anyhow::Result<Self> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["baseline", "--listen", "127.0.0.1:0"]);
        command.args(["--read-buffer", &read_buffer.to_string()]);
        if baseline == Baseline::Broadcasting {
            command.arg("--broadcast");
        }
        Self::start(command, Stdio::null()).context("starting the baseline server")
    }

    fn start(mut command: Command, stdout: Stdio) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("piped stderr")?;
        let (lines, listening) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining the log after start-up so the server never blocks
            // on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut log = String::new();
        loop {
            let Ok(line) = listening.recv_timeout(START_TIMEOUT) else {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not start; its log:\n{log}");
            };
            if let Some(addr) = address_after(&line, LISTENING) {
                return Ok(Server {
                    child,
                    addr,
                    ready_after: started.elapsed(),
                    log: listening,
                    _data: None,
                });
            }
            log.push_str(&line);
            log.push('\n');
        }
    }

    /// Waits for a log line containing `needle`; returns when it was seen.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .log
                .recv_timeout(left)
                .with_context(|| format!("the server never logged `{needle}`"))?;
            if line.contains(needle) {
                return Ok(Instant::now());
            }
        }
    }

    /// The process's resident memory, from `/proc/PID/status`, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(self.child.id())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn address_after(line: &str, marker: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.split(|c: char| c.is_whitespace() || c == '\u{1b}')
        .next()?
        .parse()
        .ok()
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// The CPU time (user + system, all threads) a process has used so far,
/// from `/proc/PID/stat`, in clock ticks of 10 ms (`CLK_TCK` is 100 on Linux).
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    const TICK: Duration = Duration::from_millis(10);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which may itself contain spaces: the
    // 14th and 15th fields (utime, stime) are the 12th and 13th from here.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc/PID/stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |index: usize| -> anyhow::Result<u32> {
        Ok(fields
            .get(index)
            .context("a short /proc/PID/stat line")?
            .parse()?)
    };
    Ok(TICK * (ticks(11)? + ticks(12)?))
}

/// Child processes holding idle connections open, closed when dropped.
pub struct Holders(Vec<(Child, Option<ChildStdin>)>);

impl Holders {
    /// Opens `total` connections to `target` from child processes of at most
    /// `per_process` connections each (each from its own source address), and
    /// waits until every one is open.
    pub fn open(target: &Target, total: usize, per_process: usize) -> anyhow::Result<Self> {
        let mut holders = Holders(Vec::new());
        let mut left = total;
        while left > 0 {
            let count = left.min(per_process.max(1));
            let mut child = Command::new(std::env::current_exe()?)
                .args(["hold", "--addr", &target.addr.to_string()])
                .args(["--path", &target.path])
                .args(["--source", &client::next_source().to_string()])
                .args(["--connections", &count.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdin = child.stdin.take();
            let stdout = child.stdout.take().context("piped stdout")?;
            holders.0.push((child, stdin));
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            if !line.starts_with(HELD) {
                bail!("a holder failed to open its {count} connections");
            }
            left -= count;
        }
        Ok(holders)
    }
}

impl Drop for Holders {
    fn drop(&mut self) {
        for (child, stdin) in &mut self.0 {
            drop(stdin.take());
            let _ = child.wait();
        }
    }
}
