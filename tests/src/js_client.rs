//! [`JsClient`]: the JavaScript client of the reliable subprotocol
//! (`clients/js`, `@wsgate/client`) in a test. It runs
//! `clients/js/test/e2e/record.js` under Node against a URL, records every
//! event the client dispatches (one JSON object a line on the script's
//! stdout) and sends it commands (`send TEXT`, `close`) on its stdin.
//! `cargo xtask test` installs the package's npm dependencies
//! (`clients/js/node_modules`) from its lockfile.

use std::path::Path;
use std::process::ExitStatus;

use serde_json::Value;

use crate::artifacts::assert_prepared;
use crate::node::NodeScript;
use crate::{WAIT, eventually, workspace_root};

/// The JavaScript client, running; killed when dropped.
pub struct JsClient {
    script: NodeScript,
}

impl JsClient {
    /// Starts the client on `url`.
    pub fn start(url: &str) -> JsClient {
        let package = workspace_root().join("clients/js");
        assert_prepared(&package.join("node_modules/ws"), Path::is_dir);
        let script = "test/e2e/record.js";
        JsClient {
            script: NodeScript::start(&package, script, &[url], &[], "js-client"),
        }
    }

    /// Every event so far, in order. A line that is not JSON is kept as a
    /// string, for the assertion that fails on it to show.
    pub fn events(&self) -> Vec<Value> {
        self.script.output(|output| {
            output
                .lines
                .iter()
                .map(|line| serde_json::from_str(line).unwrap_or(Value::String(line.clone())))
                .collect()
        })
    }

    /// The events so far whose `event` is `kind` (`message`, `session`…).
    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        let mut events = self.events();
        events.retain(|event| event["event"] == kind);
        events
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
        self.script.tell(line);
    }

    /// Waits for the script to exit, which it does once the client has
    /// closed and left nothing running.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.script.wait_exit("the JavaScript client exits", WAIT)
    }
}
