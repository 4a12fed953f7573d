//! A real Redis server for the cluster tests: `redis-server` (installed by
//! `cargo xtask test`) on a free loopback port, without persistence, in a
//! temporary directory; killed when dropped. It can be stopped and started
//! again on the same port, to test the loss of Redis, and frozen (SIGSTOP)
//! and thawed (SIGCONT), to test a hung one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};

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

    fn answers(&self) -> bool {
        TcpStream::connect(self.addr).is_ok() && self.command("PING").starts_with("+PONG")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
