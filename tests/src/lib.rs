//! The end-to-end test harness: starts the real `wsgate` binary on loopback with
//! a plugins directory assembled from components built by `cargo xtask plugins`,
//! and talks to it with a real WebSocket client.
//!
//! Every wait is bounded, so a broken gateway fails a test instead of hanging it.

pub mod backend;
pub mod churn;
pub mod cluster;
pub mod http;
pub mod invariants;
pub mod redis;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

pub mod projects;
pub mod proxy;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long a gateway may take to start: the first start with a Python or
/// JavaScript component compiles tens of megabytes of WebAssembly (later
/// starts find it in the compile cache).
pub const STARTUP: Duration = Duration::from_secs(180);

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// Polls `probe` until it answers `Ok`, for at most `deadline`; panics naming
/// `what` and the last thing the probe saw. The one way a test waits for
/// something to happen: never a fixed sleep.
pub async fn eventually<T, E, F>(what: &str, deadline: Duration, mut probe: F) -> T
where
    E: std::fmt::Display,
    F: AsyncFnMut() -> Result<T, E>,
{
    let patience = Patience::new(what, deadline);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => patience.check(last),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for code that cannot await: starting and stopping
/// processes (the gateway, `redis-server`) from synchronous tests.
pub fn eventually_blocking<T, E, F>(what: &str, deadline: Duration, mut probe: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Result<T, E>,
{
    let patience = Patience::new(what, deadline);
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) => patience.check(last),
        }
        std::thread::sleep(POLL);
    }
}

/// Lets `period` pass on purpose, so that a test can then assert that
/// something did *not* happen meanwhile (a second `$disconnect`, a reload
/// without a signal). Never a way to wait for something to happen: that is
/// [`eventually`]; for a client, [`Client::expect_silence`] says more.
pub async fn quiet(period: Duration) {
    tokio::time::sleep(period).await;
}

/// The deadline of one [`eventually`] wait.
struct Patience<'a> {
    what: &'a str,
    deadline: Duration,
    until: std::time::Instant,
}

impl<'a> Patience<'a> {
    fn new(what: &'a str, deadline: Duration) -> Self {
        Patience {
            what,
            deadline,
            until: std::time::Instant::now() + deadline,
        }
    }

    /// Panics, with what the probe saw `last`, once the deadline has passed.
    fn check(&self, last: impl std::fmt::Display) {
        assert!(
            std::time::Instant::now() < self.until,
            "{}: not so within {:?}; last seen: {last}",
            self.what,
            self.deadline
        );
    }
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `wsgate` binary built by `cargo build -p wsgate`.
pub fn wsgate_binary() -> PathBuf {
    let binary = target_dir().join("debug").join("wsgate");
    assert!(
        binary.is_file(),
        "{} is missing: run the suite with `cargo xtask test`",
        binary.display()
    );
    binary
}

/// A program of the Python environment `cargo xtask test` prepares (boto3,
/// schemathesis), by name: `python`, `schemathesis`.
pub fn python_tool(name: &str) -> PathBuf {
    let python = std::env::var_os("WSGATE_TEST_PYTHON").unwrap_or_else(|| {
        panic!("WSGATE_TEST_PYTHON is not set: run the suite with `cargo xtask test`, which installs boto3 and schemathesis into target/python")
    });
    let tool = Path::new(&python).with_file_name(name);
    assert!(
        tool.is_file(),
        "{} is missing: run the suite with `cargo xtask test`",
        tool.display()
    );
    tool
}

/// A component built by `cargo xtask plugins`, by crate name (`probe`,
/// `wsgate-echo`, `chat`, `faulty`, `not-a-handler`) or, for a guest in
/// another language, by the name the xtask gives it (`python-calc`,
/// `js-chat`, `wat-echo`).
pub fn component(crate_name: &str) -> PathBuf {
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
        let mut child = Process::spawn(self.command());
        let logs = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        let stderr = child.0.stderr.take().expect("piped stderr");
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
        let mut child = Process::spawn(self.command());
        let status = child.wait_exit("wsgate refuses to start", WAIT);
        assert!(!status.success(), "wsgate exited successfully");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
        stderr
    }
}

/// A child process, killed when dropped (a test that panics leaves none behind).
struct Process(Child);

impl Process {
    fn spawn(mut command: Command) -> Process {
        Process(command.spawn().expect("start wsgate"))
    }

    /// Waits for the process to exit, at most `timeout`.
    fn wait_exit(&mut self, what: &str, timeout: Duration) -> std::process::ExitStatus {
        eventually_blocking(what, timeout, || {
            self.0
                .try_wait()
                .expect("wait for wsgate")
                .ok_or("still running")
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
        eventually(&what, WAIT, || async {
            let logs = self.logs();
            if logs.contains(text) {
                Ok(())
            } else {
                Err(format!("\n{logs}"))
            }
        })
        .await
    }

    /// Waits until one line of the log contains every one of `parts`.
    pub async fn wait_for_line(&self, parts: &[&str]) {
        let found = |logs: &str| {
            logs.lines()
                .any(|line| parts.iter().all(|part| line.contains(part)))
        };
        let what = format!("a log line has all of {parts:?}");
        eventually(&what, WAIT, || async {
            let logs = self.logs();
            if found(&logs) {
                Ok(())
            } else {
                Err(format!("\n{logs}"))
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
        // SAFETY: kill has no memory-safety preconditions.
        let result = unsafe { libc::kill(self.child.0.id() as i32, signal) };
        assert_eq!(result, 0, "kill failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        self.child.wait_exit("wsgate exits", timeout)
    }

    /// The process's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.0.id())).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .expect("VmRSS");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

/// A byte stream a client can run over: TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A WebSocket client whose every wait is bounded.
pub struct Client {
    ws: WebSocketStream<Box<dyn Io>>,
    /// The response headers of the handshake.
    pub response: tungstenite::handshake::client::Response,
}

impl Client {
    /// Connects, panicking if the gateway refuses.
    pub async fn connect(url: &str) -> Client {
        Self::try_connect(url.into_client_request().unwrap())
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    }

    /// Connects with a prepared request (headers, subprotocols).
    pub async fn try_connect(
        request: tungstenite::handshake::client::Request,
    ) -> Result<Client, tungstenite::Error> {
        let tcp = TcpStream::connect(authority(&request)).await?;
        Self::handshake(request, Box::new(tcp)).await
    }

    /// Connects with `request` expecting the gateway to refuse the upgrade:
    /// the HTTP status and body it answered instead.
    pub async fn refused(request: tungstenite::handshake::client::Request) -> (u16, String) {
        match Self::try_connect(request).await {
            Err(tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                (
                    response.status().as_u16(),
                    String::from_utf8_lossy(body).into_owned(),
                )
            }
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the connection was accepted"),
        }
    }

    /// Connects over TLS (wss), trusting only `root` (a DER certificate).
    pub async fn connect_tls(url: &str, root: &[u8]) -> Result<Client, tungstenite::Error> {
        use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types};
        let request = url.into_client_request()?;
        let mut roots = RootCertStore::empty();
        roots
            .add(pki_types::CertificateDer::from(root.to_vec()))
            .expect("a valid root certificate");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = request.uri().host().unwrap_or("localhost").to_owned();
        let tcp = TcpStream::connect(authority(&request)).await?;
        let name = pki_types::ServerName::try_from(host).expect("a valid server name");
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        Self::handshake(request, Box::new(tls)).await
    }

    async fn handshake(
        request: tungstenite::handshake::client::Request,
        stream: Box<dyn Io>,
    ) -> Result<Client, tungstenite::Error> {
        let handshake = tokio_tungstenite::client_async(request, stream);
        let (ws, response) = tokio::time::timeout(WAIT, handshake)
            .await
            .expect("the handshake timed out")?;
        Ok(Client { ws, response })
    }

    /// The client's connection id, asked of the probe's `whoami` route.
    pub async fn whoami_id(&mut self) -> String {
        self.send_json(serde_json::json!({"action": "whoami"}))
            .await;
        let context = self.recv_json().await;
        context["connectionId"]
            .as_str()
            .expect("whoami answers a connectionId")
            .to_owned()
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send text");
    }

    /// Sends a text frame; false if the connection is gone.
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.ws.send(Message::text(text)).await.is_ok()
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: serde_json::Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("send binary");
    }

    /// The next text or binary message (pings and pongs are skipped).
    pub async fn recv(&mut self) -> Message {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no message arrived in time");
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return message,
                Some(Err(error)) => {
                    panic!("connection failed while waiting for a message: {error}")
                }
                None => panic!("connection ended while waiting for a message"),
            }
        }
    }

    /// The next message, which must be text.
    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Message::Text(text) => text.as_str().to_owned(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message, which must be JSON text.
    pub async fn recv_json(&mut self) -> serde_json::Value {
        let text = self.recv_text().await;
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("expected JSON, got {text}"))
    }

    /// Asserts nothing but pings arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Waits at most `within` for the gateway's next ping and returns its
    /// payload; the client library answers it with a pong as it reads on.
    pub async fn recv_ping(&mut self, within: Duration) -> Vec<u8> {
        let ping = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Ping(payload))) => return payload.to_vec(),
                    Some(Ok(Message::Pong(_))) => continue,
                    other => panic!("expected a ping, got {other:?}"),
                }
            }
        };
        tokio::time::timeout(within, ping)
            .await
            .unwrap_or_else(|_| panic!("no ping from the gateway within {within:?}"))
    }

    /// Waits for the server's close frame and the end of the connection.
    pub async fn recv_close(&mut self) -> Option<CloseFrame> {
        let mut frame = None;
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the connection was not closed in time");
            match next {
                Some(Ok(Message::Close(close))) => frame = close,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return frame,
            }
        }
    }

    /// Records the text messages that arrive, with when each did, until the
    /// connection ends, `marker` (if any) arrives or `deadline` has passed,
    /// whichever comes first.
    pub async fn record(mut self, marker: Option<&str>, deadline: Duration) -> Recording {
        let until = tokio::time::Instant::now() + deadline;
        let mut recording = Recording::default();
        loop {
            match tokio::time::timeout_at(until, self.ws.next()).await {
                Err(_) => return recording,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let done = marker == Some(text.as_str());
                    recording
                        .texts
                        .push((text.as_str().to_owned(), std::time::Instant::now()));
                    if done {
                        return recording;
                    }
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    recording.closed = Some((frame, std::time::Instant::now()));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => {
                    recording
                        .closed
                        .get_or_insert_with(|| (None, std::time::Instant::now()));
                    return recording;
                }
            }
        }
    }

    /// Closes from the client side with `code` and `reason`.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        self.ws.close(Some(frame)).await.expect("send close");
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

/// What [`Client::record`] saw.
#[derive(Debug, Default)]
pub struct Recording {
    /// The text messages, in order, with when each arrived.
    pub texts: Vec<(String, std::time::Instant)>,
    /// The close frame (if one came) and when the connection ended, if it did.
    pub closed: Option<(Option<CloseFrame>, std::time::Instant)>,
}

impl Recording {
    /// When `text` arrived, if it did.
    pub fn arrival(&self, text: &str) -> Option<std::time::Instant> {
        self.texts
            .iter()
            .find(|(received, _)| received == text)
            .map(|(_, at)| *at)
    }

    /// The close code the server sent, if it sent one.
    pub fn close_code(&self) -> Option<u16> {
        let (frame, _) = self.closed.as_ref()?;
        frame.as_ref().map(|frame| u16::from(frame.code))
    }
}

fn authority(request: &tungstenite::handshake::client::Request) -> String {
    let uri = request.uri();
    format!(
        "{}:{}",
        uri.host().unwrap_or("127.0.0.1"),
        uri.port_u16().unwrap_or(80)
    )
}

/// A client speaking raw WebSocket frames, for what a well-behaved client
/// library will not send.
pub struct RawClient {
    /// The socket, after the 101 response.
    pub stream: TcpStream,
}

impl RawClient {
    /// Completes a handshake by hand on `addr`.
    pub async fn connect(addr: SocketAddr) -> RawClient {
        let (response, client) = Self::send_head(addr, upgrade_head(addr, "").as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        client
    }

    /// Writes `head` (a request head, whole or not) on a new connection to
    /// `addr` and reads the response head: all of it, or what came before the
    /// gateway ended the connection (then with the reason).
    pub async fn send_head(addr: SocketAddr, head: &[u8]) -> (String, RawClient) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(head)
            .await
            .expect("write the request head");
        // Read the response head byte by byte, so no frame is consumed with it.
        let mut response = Vec::new();
        let mut ended = None;
        while ended.is_none() && !response.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            match tokio::time::timeout(WAIT, stream.read(&mut byte)).await {
                Err(_) => panic!(
                    "no response head in time: {}",
                    String::from_utf8_lossy(&response)
                ),
                Ok(Ok(0)) => ended = Some("connection closed".to_owned()),
                Ok(Ok(_)) => response.push(byte[0]),
                Ok(Err(error)) => ended = Some(error.to_string()),
            }
        }
        let mut response = String::from_utf8_lossy(&response).into_owned();
        if let Some(reason) = ended {
            response.push_str(&format!("[{reason}]"));
        }
        (response, RawClient { stream })
    }

    /// Sends one frame: `first_byte` is FIN, RSV and opcode; masked as a client must,
    /// unless `masked` is false.
    pub async fn send_frame(&mut self, first_byte: u8, payload: &[u8], masked: bool) {
        use tokio::io::AsyncWriteExt;
        assert!(payload.len() < 126, "short frames only");
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut frame = vec![
            first_byte,
            payload.len() as u8 | if masked { 0x80 } else { 0 },
        ];
        if masked {
            frame.extend_from_slice(&mask);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            frame.extend_from_slice(payload);
        }
        self.stream.write_all(&frame).await.expect("write frame");
    }

    /// Reads until the server's close frame; returns its code.
    pub async fn recv_close_code(&mut self) -> u16 {
        use tokio::io::AsyncReadExt;
        loop {
            let mut header = [0u8; 2];
            tokio::time::timeout(WAIT, self.stream.read_exact(&mut header))
                .await
                .expect("no frame in time")
                .expect("read frame header");
            let len = usize::from(header[1] & 0x7f);
            assert!(len < 126, "short frames only");
            let mut payload = vec![0u8; len];
            self.stream
                .read_exact(&mut payload)
                .await
                .expect("read frame");
            if header[0] & 0x0f == 0x8 {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    }
}

/// Sends a WebSocket upgrade request for `path` to `addr` and, `after` it was
/// sent, vanishes without reading a byte of the answer: a client gone before,
/// while or after `$connect` runs. To the gateway the socket is closed (a FIN);
/// the client then reads until the gateway closes its side too, so that every
/// test client is done when this returns (the gateway may still be running
/// the connection's `$connect` and `$disconnect`).
pub async fn upgrade_and_vanish(addr: SocketAddr, path: &str, after: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(upgrade_head_for(addr, path, "").as_bytes())
        .await
        .expect("write the upgrade request");
    tokio::time::sleep(after).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    assert!(
        ended.is_ok(),
        "the gateway kept a vanished client's socket open"
    );
}

/// A WebSocket upgrade request head for `/` on `addr`, with `extra` header
/// lines (each ending in CRLF) before the blank line.
pub fn upgrade_head(addr: SocketAddr, extra: &str) -> String {
    upgrade_head_for(addr, "/", extra)
}

/// A WebSocket upgrade request head for `path` on `addr`, with `extra` header
/// lines (each ending in CRLF) before the blank line.
pub fn upgrade_head_for(addr: SocketAddr, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Sends a raw HTTP/1.1 `GET` and returns the whole response text.
pub async fn http_get(addr: SocketAddr, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    String::from_utf8_lossy(&http::exchange(addr, request.as_bytes()).await).into_owned()
}
