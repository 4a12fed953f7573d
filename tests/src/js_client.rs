//! [`JsClient`]: the JavaScript client of the reliable subprotocol
//! (`clients/js`, `@wsgate/client`) in a test. It runs
//! `clients/js/test/e2e/record.js` under Node against a URL, records every
//! event the client dispatches (one JSON object a line on the script's
//! stdout) and sends it commands (`send TEXT`, `close`) on its stdin.
//! `cargo xtask test` installs the package's npm dependencies
//! (`clients/js/node_modules`) from its lockfile.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::artifacts::assert_prepared;
use crate::process::Process;
use crate::{WAIT, eventually, workspace_root};

/// The JavaScript client, running; killed when dropped.
pub struct JsClient {
    process: Process,
    stdin: ChildStdin,
    events: Arc<Mutex<Vec<Value>>>,
}

impl JsClient {
    /// Starts the client on `url`.
    pub fn start(url: &str) -> JsClient {
        let package = workspace_root().join("clients/js");
        assert_prepared(&package.join("node_modules/ws"), Path::is_dir);
        let mut command = Command::new("node");
        command
            .current_dir(&package)
            .arg("test/e2e/record.js")
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut process = Process::spawn(command, "start node (Node.js 20 or later)");
        let stdin = process.take_stdin().expect("piped stdin");
        let stdout = process.take_stdout().expect("piped stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // A line that is not JSON is kept as a string, for the
                // assertion that fails on it to show.
                let event = serde_json::from_str(&line).unwrap_or(Value::String(line));
                sink.lock().unwrap().push(event);
            }
        });
        JsClient {
            process,
            stdin,
            events,
        }
    }

    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// The events so far whose `event` is `kind` (`message`, `session`…).
    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|event| event["event"] == kind)
            .cloned()
            .collect()
    }

    /// Waits until there are `count` events of `kind`.
    pub async fn wait_for(&self, kind: &str, count: usize) {
        let what = format!("{count} `{kind}` events from the JavaScript client");
        eventually(&what, WAIT, async || {
            let seen = self.events_of(kind).len();
            match seen >= count {
                true => Ok(()),
                false => {
                    let events = self.events();
                    let last = &events[events.len().saturating_sub(3)..];
                    Err(format!("{seen} so far; the last events: {last:?}"))
                }
            }
        })
        .await
    }

    /// Sends the client a command: `send TEXT` or `close`.
    pub fn command(&mut self, line: &str) {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .expect("a command to the JavaScript client");
    }

    /// Waits for the script to exit, which it does once the client has
    /// closed and left nothing running.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.process.wait_exit("the JavaScript client exits", WAIT)
    }
}
