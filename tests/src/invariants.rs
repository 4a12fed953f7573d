//! The promises that hold however connections end: once every client is gone,
//! nothing is left in the registry, the listing, the groups or the
//! open-connections gauge, and every connection `$connect` accepted has exactly
//! one CONNECT and one DISCONNECT line in the access log (and, with the probe
//! bound to `$disconnect`, exactly one `$disconnect` run); a rejected one has
//! no DISCONNECT line.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::{Gateway, eventually};

/// The access log's lines, parsed (the last line may still be half-written).
pub fn access_log(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// What the access log says about each connection id.
#[derive(Debug, Default)]
pub struct Ledger {
    /// CONNECT lines with a 2xx status, by connection id.
    pub accepted: BTreeMap<String, usize>,
    /// CONNECT lines with another status, by connection id.
    pub rejected: BTreeMap<String, usize>,
    /// DISCONNECT lines, by connection id.
    pub disconnected: BTreeMap<String, usize>,
}

impl Ledger {
    /// The ledger of the access log at `path`.
    pub fn read(path: &Path) -> Ledger {
        let mut ledger = Ledger::default();
        for line in access_log(path) {
            let id = line["connectionId"].as_str().unwrap_or_default().to_owned();
            let status = line["status"].as_u64().unwrap_or_default();
            let column = match line["eventType"].as_str() {
                Some("CONNECT") if (200..300).contains(&status) => &mut ledger.accepted,
                Some("CONNECT") => &mut ledger.rejected,
                Some("DISCONNECT") => &mut ledger.disconnected,
                _ => continue,
            };
            *column.entry(id).or_default() += 1;
        }
        ledger
    }

    /// Every way the ledger breaks the promise; empty when it holds.
    pub fn problems(&self) -> String {
        let mut problems = String::new();
        for (id, connects) in &self.accepted {
            let disconnects = self.disconnected.get(id).copied().unwrap_or_default();
            if *connects != 1 || disconnects != 1 {
                let _ = writeln!(
                    problems,
                    "{id}: {connects} CONNECT, {disconnects} DISCONNECT lines"
                );
            }
        }
        for (id, disconnects) in &self.disconnected {
            if !self.accepted.contains_key(id) {
                let _ = writeln!(
                    problems,
                    "{id}: {disconnects} DISCONNECT lines, never accepted"
                );
            }
        }
        problems
    }
}

/// Waits (at most `deadline`) until the gateway holds nothing of any
/// connection and its access log balances, then returns the ledger. With
/// `probe_disconnects`, also that the probe's `$disconnect` ran exactly once
/// for every accepted connection.
pub async fn assert_settled(
    gateway: &Gateway,
    log: &Path,
    groups: &[&str],
    probe_disconnects: bool,
    deadline: Duration,
) -> Ledger {
    eventually("the gateway holds no connection", deadline, || async {
        let listed = gateway.api("GET", "/@connections?limit=1000", b"").await;
        let mut left = String::new();
        if !listed.json()["connectionIds"]
            .as_array()
            .is_some_and(Vec::is_empty)
        {
            let _ = write!(left, "listed: {} ", listed.text());
        }
        for group in groups {
            let members = gateway.api("GET", &format!("/@groups/{group}"), b"").await;
            let empty = members.status == 200
                && members.json()["connectionIds"]
                    .as_array()
                    .is_some_and(Vec::is_empty);
            if !empty {
                let _ = write!(left, "group {group}: {} ", members.text());
            }
        }
        let open = open_connections(gateway).await;
        if open != 0 {
            let _ = write!(left, "wsgate_connections_open {open}");
        }
        if left.is_empty() { Ok(()) } else { Err(left) }
    })
    .await;
    let ledger = eventually("the access log balances", deadline, || async {
        let ledger = Ledger::read(log);
        match ledger.problems() {
            problems if problems.is_empty() => Ok(ledger),
            problems => Err(problems),
        }
    })
    .await;
    if probe_disconnects {
        eventually(
            "one $disconnect per accepted connection",
            deadline,
            || async {
                let logs = gateway.logs();
                let wrong: Vec<String> = ledger
                    .accepted
                    .keys()
                    .filter_map(|id| {
                        let runs = logs.matches(&format!("probe $disconnect {id} ")).count();
                        (runs != 1).then(|| format!("{id}: {runs} runs"))
                    })
                    .collect();
                if wrong.is_empty() {
                    Ok(())
                } else {
                    Err(wrong.join(", "))
                }
            },
        )
        .await;
    }
    ledger
}

/// The gateway's `wsgate_connections_open` gauge.
pub async fn open_connections(gateway: &Gateway) -> i64 {
    let metrics = gateway.api("GET", "/metrics", b"").await.text();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("wsgate_connections_open "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wsgate_connections_open in:\n{metrics}"))
}
