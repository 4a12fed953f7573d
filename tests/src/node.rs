//! [`NodeScript`]: a Node.js script run by a test, which reports on its
//! stdout, one line at a time, and reads the test's lines on its stdin. The
//! browser scripts ([`crate::browser`]) and the JavaScript client's recorder
//! ([`crate::js_client`]) run on it.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::process::Process;

/// A Node.js script, running; killed when dropped.
pub struct NodeScript {
    process: Process,
    stdin: ChildStdin,
    output: Arc<Mutex<Output>>,
}

/// What a script printed so far.
#[derive(Default)]
pub struct Output {
    /// Its stdout lines, in order.
    pub lines: Vec<String>,
    /// Its stdout is closed: no line will come.
    pub ended: bool,
}

impl NodeScript {
    /// Starts `node SCRIPT ARGS…` in `dir`, with `env` added; its stderr
    /// goes to the test's, its stdout lines also, tagged `[tag]`.
    pub fn start<A: AsRef<OsStr>>(
        dir: &Path,
        script: &str,
        args: &[A],
        env: &[(&str, &OsStr)],
        tag: &'static str,
    ) -> NodeScript {
        let mut command = Command::new("node");
        command
            .current_dir(dir)
            .arg(script)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut process = Process::spawn(command, "start node (Node.js 20 or later)");
        let stdin = process.take_stdin().expect("piped stdin");
        let stdout = process.take_stdout().expect("piped stdout");
        let output = Arc::new(Mutex::new(Output::default()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[{tag}] {line}");
                sink.lock().unwrap().lines.push(line);
            }
            sink.lock().unwrap().ended = true;
        });
        NodeScript {
            process,
            stdin,
            output,
        }
    }

    /// Reads what the script printed so far.
    pub fn output<R>(&self, read: impl FnOnce(&Output) -> R) -> R {
        read(&self.output.lock().unwrap())
    }

    /// Writes `line` to the script's stdin.
    pub fn tell(&mut self, line: &str) {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .expect("a line to the Node script");
    }

    /// Waits at most `deadline` for the script to exit; `what` names the wait.
    pub fn wait_exit(&mut self, what: &str, deadline: Duration) -> ExitStatus {
        self.process.wait_exit(what, deadline)
    }
}
