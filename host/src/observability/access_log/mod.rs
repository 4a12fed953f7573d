//! The access log: one line per connect, message and disconnect, with the
//! fields of AWS API Gateway's `$context` (requestId, connectionId, routeKey,
//! eventType, status, sourceIp, userAgent, requestTime, integrationLatency,
//! errorMessage…), as JSON lines, `key=value` text or the operator's
//! template of `$context` variables (API Gateway's own format strings work
//! verbatim), to stdout, stderr or a file, or off.
//!
//! A line is formatted on the event's task, from fields borrowed from the
//! event, into that thread's reused buffer, and appended to a shared batch;
//! a dedicated thread writes the batch (every [`BATCH_INTERVAL`] while lines
//! keep coming, at once after a quiet spell), so a slow disk never holds up a
//! connection and a busy gateway makes one `write` per batch, not per line.
//! If the writer falls [`BACKLOG`] bytes behind, further lines are dropped and
//! counted in the log.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

mod line;
mod record;
mod template;
#[cfg(test)]
mod tests;
mod writer;

pub use record::{EventRecord, Outcome, SwapRecord};
pub use template::{Template, TemplateError};

/// Bytes of lines waiting for the writer before new ones are dropped.
pub const BACKLOG: usize = 16 * 1024 * 1024;

/// How often the writer writes while lines keep coming.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(5);

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
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AccessLogFormat {
    /// One JSON object per line (the default).
    #[default]
    Json,
    /// `key=value` pairs, values quoted when they need it.
    Text,
    /// The operator's line of `$context` variables (events only).
    Template(Arc<Template>),
}

impl FromStr for AccessLogFormat {
    type Err = String;

    /// `json`, `text`, or a template of `$context` variables.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "json" => Ok(AccessLogFormat::Json),
            "text" => Ok(AccessLogFormat::Text),
            text if !text.contains('$') => Err(format!(
                "`{text}` is no access log format: use json, text or a template of $context variables (as API Gateway's access_log_settings.format)"
            )),
            template => Template::parse(template)
                .map(|template| AccessLogFormat::Template(Arc::new(template)))
                .map_err(|error| error.to_string()),
        }
    }
}

impl TryFrom<String> for AccessLogFormat {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// A handle to the access log writer; cheap to clone.
#[derive(Clone)]
pub struct AccessLog {
    shared: Option<Arc<Shared>>,
    format: AccessLogFormat,
    /// What `apiId` says on every line.
    api_id: Option<Arc<str>>,
}

impl std::fmt::Debug for AccessLog {
    /// The format and the counters, never the pending lines (up to [`BACKLOG`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("on", &self.shared.is_some())
            .field("format", &self.format)
            .field("api_id", &self.api_id)
            .field("dropped", &self.dropped())
            .finish()
    }
}

/// What the event tasks and the writer thread share.
#[derive(Default)]
struct Shared {
    batch: Mutex<Batch>,
    /// Wakes a writer that is asleep (or asked to flush).
    wake: Condvar,
    dropped: AtomicU64,
}

/// Lines not yet written, and who waits for them to be.
#[derive(Default)]
struct Batch {
    lines: Vec<u8>,
    flushes: Vec<SyncSender<()>>,
    /// The writer waits without a timeout: the next line must wake it.
    asleep: bool,
}

impl Shared {
    fn batch(&self) -> MutexGuard<'_, Batch> {
        // A panic while holding the lock leaves a batch that is still whole.
        self.batch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl AccessLog {
    /// Starts writing to `target` (a file is created or appended to), in
    /// `format`, each event's line naming the API `api_id`.
    pub fn start(
        target: &AccessLogTarget,
        format: AccessLogFormat,
        api_id: Option<&str>,
    ) -> anyhow::Result<Self> {
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
        let mut log = Self::start_writing(out, format)?;
        log.api_id = api_id.map(Arc::from);
        Ok(log)
    }

    /// Starts the writer thread on `out`.
    fn start_writing(out: Box<dyn Write + Send>, format: AccessLogFormat) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || writer::write_batches(&writer, out))
            .context("cannot start the access log writer")?;
        Ok(AccessLog {
            shared: Some(shared),
            format,
            api_id: None,
        })
    }

    /// An access log that writes nothing.
    pub fn off() -> Self {
        AccessLog {
            shared: None,
            format: AccessLogFormat::default(),
            api_id: None,
        }
    }

    /// Waits (at most `timeout`) until every line logged so far is written:
    /// at shutdown, after the last `$disconnect`.
    pub fn flush(&self, timeout: Duration) {
        let Some(shared) = &self.shared else {
            return;
        };
        let (done, written) = sync_channel(1);
        shared.batch().flushes.push(done);
        shared.wake.notify_one();
        if written.recv_timeout(timeout).is_err() {
            tracing::warn!("the access log was not flushed in time");
        }
    }

    /// What `apiId` says on every event's line.
    pub fn api_id(&self) -> Option<&str> {
        self.api_id.as_deref()
    }

    /// Lines dropped so far because the writer was [`BACKLOG`] bytes behind.
    pub fn dropped(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |shared| shared.dropped.load(Ordering::Relaxed))
    }

    /// Logs one event.
    pub fn write(&self, record: &EventRecord<'_>) {
        let api_id = self.api_id.as_deref();
        self.append(|format, line| record.write_line(format, api_id, line));
    }

    /// Logs a hot swap (not with a template: AWS has no such event).
    pub fn swap(&self, record: &SwapRecord<'_>) {
        if !matches!(self.format, AccessLogFormat::Template(_)) {
            self.append(|format, line| record.write_line(format, line));
        }
    }

    /// Formats a line into this thread's buffer and adds it to the batch.
    fn append(&self, format_line: impl FnOnce(&AccessLogFormat, &mut Vec<u8>)) {
        thread_local! {
            static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let Some(shared) = &self.shared else {
            return;
        };
        LINE.with_borrow_mut(|line| {
            line.clear();
            format_line(&self.format, line);
            let mut batch = shared.batch();
            if batch.lines.len() + line.len() > BACKLOG {
                drop(batch);
                let dropped = shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        "the access log writer cannot keep up; lines were dropped"
                    );
                }
                return;
            }
            batch.lines.extend_from_slice(line);
            if batch.asleep {
                batch.asleep = false;
                drop(batch);
                shared.wake.notify_one();
            }
        });
    }
}
