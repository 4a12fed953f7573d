//! Starting the real `wsgate` binary: [`GatewayBuilder`] assembles a plugins
//! directory and flags, [`Gateway`] is the running process with its
//! listeners' addresses, its log and its management API.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::process::Process;
use crate::{Client, STARTUP, WAIT, component, eventually, http, wsgate_binary};

/// A plugins directory and flags, ready to start a gateway.
pub struct GatewayBuilder {
    dir: tempfile::TempDir,
    data: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    api_token: Option<String>,
    api_listen: String,
    listen: String,
}

impl Default for GatewayBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl GatewayBuilder {
    /// An empty plugins directory.
    pub fn new() -> Self {
        GatewayBuilder {
            dir: tempfile::tempdir().expect("create a temporary plugins directory"),
            data: tempfile::tempdir().expect("create a temporary data directory"),
            args: Vec::new(),
            env: Vec::new(),
            api_token: None,
            api_listen: "127.0.0.1:0".to_owned(),
            listen: "127.0.0.1:0".to_owned(),
        }
    }

    /// Copies the component built from `crate_name` into the directory as `file`.
    pub fn component(self, file: &str, crate_name: &str) -> Self {
        std::fs::copy(component(crate_name), self.dir.path().join(file)).expect("copy component");
        self
    }

    /// Writes `bytes` into the directory as `file`.
    pub fn file(self, file: &str, bytes: &[u8]) -> Self {
        std::fs::write(self.dir.path().join(file), bytes).expect("write plugin file");
        self
    }

    /// Binds the `probe` test component to `routes` (through `wsgate.toml`).
    pub fn probe(self, routes: &[&str]) -> Self {
        let bindings: String = routes
            .iter()
            .map(|route| format!("\"{route}\" = \"probe.wasm\"\n"))
            .collect();
        self.component("probe.wasm", "probe")
            .config(&format!("[routes]\n{bindings}"))
    }

    /// Writes the directory's `wsgate.toml`.
    pub fn config(self, toml: &str) -> Self {
        self.file("wsgate.toml", toml.as_bytes())
    }

    /// Adds command-line flags.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|arg| arg.to_string()));
        self
    }

    /// Sets an environment variable for the gateway process.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Binds the client listener to `addr` instead of a free loopback port.
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.to_owned();
        self
    }

    /// Binds the management listener to `addr` instead of a free loopback port.
    pub fn api_listen(mut self, addr: &str) -> Self {
        self.api_listen = addr.to_owned();
        self
    }

    /// Requires `token` on the management API; [`Gateway::api`] sends it.
    pub fn api_token(mut self, token: &str) -> Self {
        self.api_token = Some(token.to_owned());
        self.args(&["--api-token", token])
    }

    /// The plugins directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(wsgate_binary());
        command
            .arg("serve")
            .arg("--plugins")
            .arg(self.dir.path())
            .args(["--listen", &self.listen, "--api-listen", &self.api_listen])
            .args(&self.args)
            .env("WSGATE_LOG", "info,wsgate=debug")
            // Each gateway its own key-value store (a flag overrides it).
            .env("WSGATE_DATA_DIR", self.data.path())
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the gateway and waits until both listeners are up.
    pub fn start(self) -> Gateway {
        let mut child = Process::spawn(self.command(), "start wsgate");
        let logs = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        let stderr = child.take_stderr().expect("piped stderr");
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[wsgate] {line}");
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = lines_tx.send(line);
            }
        });
        let (mut client, mut management) = (None, None);
        let deadline = std::time::Instant::now() + STARTUP;
        while client.is_none() || management.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines_rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("wsgate did not start; its log:\n{}", logs.lock().unwrap())
            });
            client = client
                .or_else(|| address_after(&line, "WebSocket clients on ws://"))
                .or_else(|| address_after(&line, "WebSocket clients on wss://"));
            management =
                management.or_else(|| address_after(&line, "management listener on http://"));
        }
        Gateway {
            child,
            addr: client.unwrap(),
            api_addr: management.unwrap(),
            logs,
            api_token: self.api_token,
            dir: self.dir,
            _data: self.data,
        }
    }

    /// Runs the gateway expecting it to refuse to start; returns its stderr.
    pub fn start_and_fail(self) -> String {
        let mut child = Process::spawn(self.command(), "start wsgate");
        let status = child.wait_exit("wsgate refuses to start", WAIT);
        assert!(!status.success(), "wsgate exited successfully");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.take_stderr().unwrap(), &mut stderr).unwrap();
        stderr
    }
}

fn address_after(line: &str, marker: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// A running gateway process; killed when dropped.
pub struct Gateway {
    child: Process,
    /// The client listener.
    pub addr: SocketAddr,
    /// The management listener.
    pub api_addr: SocketAddr,
    logs: Arc<Mutex<String>>,
    api_token: Option<String>,
    dir: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl Gateway {
    /// A management API request, with the builder's API token if it set one.
    pub async fn api(&self, method: &str, path: &str, body: &[u8]) -> http::HttpResponse {
        let authorization = self
            .api_token
            .as_ref()
            .map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("Authorization", value.as_str()))
            .collect();
        http::request(self.api_addr, method, path, &headers, body).await
    }

    /// A `ws://` URL on the client listener; `path` includes any query.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// The gateway's plugins directory.
    pub fn plugins_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the gateway has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Waits until the log contains `text`.
    pub async fn wait_for_log(&self, text: &str) {
        let what = format!("the log says `{text}`");
        self.wait_for_logs(&what, WAIT, |logs| logs.contains(text))
            .await
    }

    /// Waits until one line of the log contains every one of `parts`.
    pub async fn wait_for_line(&self, parts: &[&str]) {
        self.wait_for_line_within(parts, WAIT).await
    }

    /// [`Gateway::wait_for_line`], for what may take longer than the usual
    /// wait (a big component's compilation): up to `deadline`.
    pub async fn wait_for_line_within(&self, parts: &[&str], deadline: Duration) {
        let what = format!("a log line has all of {parts:?}");
        self.wait_for_logs(&what, deadline, |logs| {
            logs.lines()
                .any(|line| parts.iter().all(|part| line.contains(part)))
        })
        .await
    }

    /// Waits until the log so far satisfies `found`; `what` names the wait.
    async fn wait_for_logs(&self, what: &str, deadline: Duration, found: impl Fn(&str) -> bool) {
        eventually(what, deadline, || async {
            let logs = self.logs();
            if found(&logs) {
                Ok(())
            } else {
                Err(format!("\n{logs}"))
            }
        })
        .await
    }

    /// Polls `/metrics` until the series `name` (labels included) has
    /// `value`; the scrape that showed it.
    pub async fn wait_for_sample(&self, name: &str, value: f64) -> String {
        let what = format!("{name} is {value}");
        eventually(&what, WAIT, async || {
            let metrics = self.api("GET", "/metrics", b"").await.text();
            match crate::scrape::sample(&metrics, name) == Some(value) {
                true => Ok(metrics),
                false => Err(format!("\n{metrics}")),
            }
        })
        .await
    }

    /// Connects a client to `path`.
    pub async fn connect(&self, path: &str) -> Client {
        Client::connect(&self.url(path)).await
    }
}

impl Gateway {
    /// Sends the gateway process a signal (e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        self.child.signal(signal);
    }

    /// Whether the process has exited.
    pub fn has_exited(&mut self) -> bool {
        self.child.has_exited()
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        self.child.wait_exit("wsgate exits", timeout)
    }

    /// The process's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .expect("VmRSS");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}
