//! The access log: one line per connect, message and disconnect, with the
//! fields of AWS API Gateway's `$context` (requestId, connectionId, routeKey,
//! eventType, status, sourceIp, userAgent, requestTime, integrationLatency,
//! errorMessage…), as JSON lines or `key=value` text, to stdout, stderr or a
//! file, or off.
//!
//! Lines are formatted on the event's task and written by a dedicated thread,
//! so a slow disk never holds up a connection; if the writer falls more than
//! [`BACKLOG`] lines behind, further lines are dropped and counted in the log.

use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use anyhow::Context;
use serde::Deserialize;

mod record;

pub use record::{EventRecord, Outcome, SwapRecord};

/// Lines waiting for the writer before new ones are dropped.
pub const BACKLOG: usize = 65_536;

/// Where access log lines go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AccessLogTarget {
    /// Standard output (the default).
    #[default]
    Stdout,
    /// Standard error, with the gateway's own log.
    Stderr,
    /// Appended to a file.
    File(PathBuf),
    /// No access log.
    Off,
}

impl FromStr for AccessLogTarget {
    type Err = String;

    /// `stdout`, `stderr`, `off`, or a file path.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "" => {
                return Err(
                    "the access log target is empty: use stdout, stderr, off or a file path".into(),
                );
            }
            "stdout" | "-" => AccessLogTarget::Stdout,
            "stderr" => AccessLogTarget::Stderr,
            "off" => AccessLogTarget::Off,
            path => AccessLogTarget::File(PathBuf::from(path)),
        })
    }
}

impl TryFrom<String> for AccessLogTarget {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// How an access log line is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogFormat {
    /// One JSON object per line (the default).
    #[default]
    Json,
    /// `key=value` pairs, values quoted when they need it.
    Text,
}

/// What the writer thread receives.
#[derive(Debug)]
enum Entry {
    /// A formatted line.
    Line(String),
    /// Write everything before this, then say so.
    Flush(SyncSender<()>),
}

/// A handle to the access log writer; cheap to clone.
#[derive(Clone, Debug)]
pub struct AccessLog {
    lines: Option<SyncSender<Entry>>,
    format: AccessLogFormat,
    dropped: Arc<AtomicU64>,
}

impl AccessLog {
    /// Starts writing to `target` (a file is created or appended to).
    pub fn start(target: &AccessLogTarget, format: AccessLogFormat) -> anyhow::Result<Self> {
        let out: Box<dyn Write + Send> = match target {
            AccessLogTarget::Off => return Ok(Self::off()),
            AccessLogTarget::Stdout => Box::new(std::io::stdout()),
            AccessLogTarget::Stderr => Box::new(std::io::stderr()),
            AccessLogTarget::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open the access log {}", path.display()))?,
            ),
        };
        let (sender, receiver) = sync_channel(BACKLOG);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(&receiver, out))
            .context("cannot start the access log writer")?;
        Ok(AccessLog {
            lines: Some(sender),
            format,
            dropped: Arc::default(),
        })
    }

    /// An access log that writes nothing.
    pub fn off() -> Self {
        AccessLog {
            lines: None,
            format: AccessLogFormat::default(),
            dropped: Arc::default(),
        }
    }

    /// Waits (at most `timeout`) until every line logged so far is written:
    /// at shutdown, after the last `$disconnect`.
    pub fn flush(&self, timeout: std::time::Duration) {
        let Some(lines) = &self.lines else {
            return;
        };
        let (done, written) = sync_channel(1);
        if lines.send(Entry::Flush(done)).is_ok() && written.recv_timeout(timeout).is_err() {
            tracing::warn!("the access log was not flushed in time");
        }
    }

    /// Logs one event.
    pub fn write(&self, record: &EventRecord<'_>) {
        if self.lines.is_some() {
            self.send(record.line(self.format));
        }
    }

    /// Logs a hot swap.
    pub fn swap(&self, record: &SwapRecord<'_>) {
        if self.lines.is_some() {
            self.send(record.line(self.format));
        }
    }

    fn send(&self, line: String) {
        let Some(lines) = &self.lines else {
            return;
        };
        if let Err(TrySendError::Full(_)) = lines.try_send(Entry::Line(line)) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "the access log writer cannot keep up; lines were dropped"
                );
            }
        }
    }
}

/// Writes lines as they come, flushing whenever none is waiting (and
/// answering flush requests once everything before them is written).
fn write_lines(entries: &Receiver<Entry>, mut out: Box<dyn Write + Send>) {
    let mut batch = String::new();
    let mut flushed = Vec::new();
    while let Ok(entry) = entries.recv() {
        let mut next = Some(entry);
        while let Some(entry) = next.take() {
            match entry {
                Entry::Line(line) => batch.push_str(&line),
                Entry::Flush(done) => flushed.push(done),
            }
            if batch.len() < 64 * 1024 {
                next = entries.try_recv().ok();
            }
        }
        if let Err(error) = out.write_all(batch.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(%error, "cannot write the access log");
        }
        batch.clear();
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}
