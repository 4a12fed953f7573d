//! A real Redis server for the cluster tests: `redis-server` (installed by
//! `cargo xtask test`) on a free loopback port, without persistence, in a
//! temporary directory; killed when dropped. It can be stopped and started
//! again on the same port, to test the loss of Redis, and frozen (SIGSTOP)
//! and thawed (SIGCONT), to test a hung one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::Process;
use crate::{WAIT, eventually_blocking};

/// A running (or stopped) `redis-server`.
pub struct Redis {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Process>,
    frozen: bool,
}

impl Redis {
    /// Starts a server on a free loopback port and waits until it answers.
    pub fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let mut redis = Redis {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir: tempfile::tempdir().expect("a directory for redis"),
            child: None,
            frozen: false,
        };
        redis.restart();
        redis
    }

    /// The `redis://` URL gateways join the cluster with.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Where the server listens (for a proxy in front of it).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server with SIGSTOP: connections stay open, nothing is
    /// answered, as when Redis hangs.
    pub fn freeze(&mut self) {
        self.signal(libc::SIGSTOP);
        self.frozen = true;
    }

    /// Resumes a frozen server with SIGCONT.
    pub fn thaw(&mut self) {
        if self.frozen {
            self.signal(libc::SIGCONT);
            self.frozen = false;
        }
    }

    fn signal(&self, signal: i32) {
        self.child
            .as_ref()
            .expect("redis-server is running")
            .signal(signal);
    }

    /// Kills the server (its data is lost, as persistence is off), thawing it
    /// first if it is frozen.
    pub fn stop(&mut self) {
        self.thaw();
        // Dropping the process kills it and waits for it.
        self.child = None;
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.addr.port().to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(Process::spawn(
            command,
            "start redis-server (installed by `cargo xtask test`)",
        ));
        eventually_blocking("redis-server answers PING", WAIT, || {
            self.answers().then_some(()).ok_or("no PONG")
        });
    }

    /// Runs one command given in Redis's inline form (`DBSIZE`) and returns
    /// the raw reply.
    pub fn command(&self, inline: &str) -> String {
        let mut stream = TcpStream::connect(self.addr).expect("connect to redis");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(format!("{inline}\r\n").as_bytes())
            .expect("write to redis");
        let mut reply = vec![0u8; 64 * 1024];
        let read = stream.read(&mut reply).expect("read from redis");
        String::from_utf8_lossy(&reply[..read]).into_owned()
    }

    /// Watches every command the server runs from now on (`MONITOR`), so a
    /// test can wait for one that a gateway sent while the server was frozen.
    pub fn monitor(&self) -> Monitor {
        let mut stream = TcpStream::connect(self.addr).expect("connect to redis");
        stream.write_all(b"MONITOR\r\n").expect("write to redis");
        let mut monitor = Monitor {
            stream,
            seen: String::new(),
        };
        monitor.wait_for(&["+OK"]);
        monitor
    }

    fn answers(&self) -> bool {
        TcpStream::connect(self.addr).is_ok() && self.command("PING").starts_with("+PONG")
    }
}

/// A `MONITOR` connection: the commands the server has run since it opened,
/// one line each, as Redis prints them.
pub struct Monitor {
    stream: TcpStream,
    seen: String,
}

impl Monitor {
    /// Waits until the server has run a command whose line holds every one
    /// of `parts` (a script's text, an argument); returns that line.
    pub fn wait_for(&mut self, parts: &[&str]) -> String {
        let what = format!("redis runs a command with {parts:?}");
        self.stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("a read timeout");
        eventually_blocking(&what, WAIT, || {
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("redis closed the MONITOR connection"),
                Ok(read) => self.seen.push_str(&String::from_utf8_lossy(&chunk[..read])),
                Err(error) if is_timeout(&error) => {}
                Err(error) => panic!("reading MONITOR: {error}"),
            }
            let line = self
                .seen
                .lines()
                .find(|line| parts.iter().all(|part| line.contains(part)));
            line.map(str::to_owned)
                .ok_or_else(|| format!("{} bytes of commands", self.seen.len()))
        })
    }
}

/// Whether a read failed only because nothing came within its timeout.
fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
