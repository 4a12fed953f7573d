//! The live tail: the access log's records, as JSON lines, fanned out to
//! whoever watches them (the console's tail, through `GET /@tail`), whatever
//! the access log's own target and format (it may be off).
//!
//! Publishing never waits on a watcher. With none, a record costs one relaxed
//! atomic load. With some, it is formatted once and put in a bounded ring
//! (a [`tokio::sync::broadcast`] channel of [`CAPACITY`] lines) that each
//! watcher reads at its own pace; one that falls more than [`CAPACITY`] lines
//! behind loses the oldest and is told how many ([`Tailed::Lost`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::broadcast;

use super::access_log::{AccessLogFormat, EventRecord, SwapRecord};
use crate::connection::ConnectionId;

/// Lines a watcher may fall behind before it loses some.
pub const CAPACITY: usize = 1024;

/// Watchers at once: each holds one of the management listener's
/// connections for as long as it watches, so a few forgotten console tabs
/// must not take them all from the `@connections` API.
pub const MAX_WATCHERS: usize = 16;

/// The fan-out of access log records to watchers; cheap to clone.
#[derive(Clone, Debug)]
pub struct LiveTail {
    shared: Arc<Shared>,
    /// What `apiId` says on every event's line, as in the access log.
    api_id: Option<Arc<str>>,
}

#[derive(Debug)]
struct Shared {
    /// Watchers now: checked before any work is done for them.
    watchers: AtomicUsize,
    lines: broadcast::Sender<TailLine>,
}

/// One record as a watcher gets it: the JSON line, and the fields a watcher
/// filters on.
#[derive(Clone, Debug)]
pub struct TailLine {
    /// The record as one JSON object, as the access log writes it in its
    /// JSON format (no newline).
    pub json: Bytes,
    /// The route it is about.
    pub route: String,
    /// The connection whose event it is (none for a swap).
    pub connection: Option<ConnectionId>,
    /// The event's status (none for a swap).
    pub status: Option<u16>,
}

/// What a watcher reads next.
#[derive(Debug)]
pub enum Tailed {
    /// The next line.
    Line(TailLine),
    /// This many lines were lost: the watcher fell too far behind.
    Lost(u64),
}

impl LiveTail {
    /// A tail nobody watches yet, whose event lines name the API `api_id`.
    pub fn new(api_id: Option<&str>) -> Self {
        let (lines, _) = broadcast::channel(CAPACITY);
        LiveTail {
            shared: Arc::new(Shared {
                watchers: AtomicUsize::new(0),
                lines,
            }),
            api_id: api_id.map(Arc::from),
        }
    }

    /// Whether anyone watches: a stale answer only misses or formats a line
    /// around the moment a watcher comes or goes.
    pub fn is_watched(&self) -> bool {
        self.shared.watchers.load(Ordering::Relaxed) > 0
    }

    /// Offers an event's record to the watchers.
    pub fn event(&self, record: &EventRecord<'_>) {
        if !self.is_watched() {
            return;
        }
        let mut json = Vec::with_capacity(1024);
        record.write_line(&AccessLogFormat::Json, self.api_id.as_deref(), &mut json);
        self.publish(TailLine {
            json: line(json),
            route: record.route_key.to_owned(),
            connection: Some(record.connection.id().clone()),
            status: Some(record.outcome.status()),
        });
    }

    /// Offers a hot swap's record to the watchers.
    pub fn swap(&self, record: &SwapRecord<'_>) {
        if !self.is_watched() {
            return;
        }
        let mut json = Vec::with_capacity(256);
        record.write_line(&AccessLogFormat::Json, &mut json);
        self.publish(TailLine {
            json: line(json),
            route: record.route_key.to_owned(),
            connection: None,
            status: None,
        });
    }

    fn publish(&self, line: TailLine) {
        // An error only means the last watcher left meanwhile.
        let _ = self.shared.lines.send(line);
    }

    /// Starts watching: every line published from now on; none while
    /// [`MAX_WATCHERS`] watch already.
    pub fn watch(&self) -> Option<Watcher> {
        let watchers = &self.shared.watchers;
        watchers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                (now < MAX_WATCHERS).then_some(now + 1)
            })
            .ok()?;
        Some(Watcher {
            lines: self.shared.lines.subscribe(),
            shared: Arc::clone(&self.shared),
        })
    }
}

/// The line as a watcher gets it: without its newline.
fn line(mut json: Vec<u8>) -> Bytes {
    if json.last() == Some(&b'\n') {
        json.pop();
    }
    Bytes::from(json)
}

/// One watcher of the tail; stops watching when dropped.
#[derive(Debug)]
pub struct Watcher {
    lines: broadcast::Receiver<TailLine>,
    shared: Arc<Shared>,
}

impl Watcher {
    /// The next line, or how many were lost since the last one read.
    pub async fn next(&mut self) -> Tailed {
        match self.lines.recv().await {
            Ok(line) => Tailed::Line(line),
            Err(broadcast::error::RecvError::Lagged(lost)) => Tailed::Lost(lost),
            // The tail keeps the sender for as long as it lives, and the
            // watcher keeps the tail.
            Err(broadcast::error::RecvError::Closed) => {
                unreachable!("the tail outlives its watchers")
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swap(route: &str) -> SwapRecord<'_> {
        SwapRecord {
            route_key: route,
            change: "swapped",
            component: Some("echo.wasm"),
            version: Some("abc"),
            generation: Some(2),
            time: 0,
        }
    }

    #[tokio::test]
    async fn watchers_get_json_lines_and_are_told_what_they_lost() {
        let tail = LiveTail::new(None);
        assert!(!tail.is_watched());
        tail.swap(&swap("unseen"));
        let mut watcher = tail.watch().expect("room for a watcher");
        assert!(tail.is_watched());
        tail.swap(&swap("first"));
        let Tailed::Line(line) = watcher.next().await else {
            panic!("a line")
        };
        let json: serde_json::Value = serde_json::from_slice(&line.json).unwrap();
        assert_eq!(json["routeKey"], "first");
        assert_eq!(json["eventType"], "SWAP");
        assert_eq!((line.route.as_str(), line.status), ("first", None));
        for _ in 0..CAPACITY + 5 {
            tail.swap(&swap("flood"));
        }
        assert!(matches!(watcher.next().await, Tailed::Lost(5)));
        assert!(matches!(watcher.next().await, Tailed::Line(_)));
        drop(watcher);
        assert!(!tail.is_watched());
    }

    #[test]
    fn no_more_than_max_watchers_watch_at_once() {
        let tail = LiveTail::new(None);
        let mut watchers: Vec<Watcher> = (0..MAX_WATCHERS)
            .map(|_| tail.watch().expect("room for a watcher"))
            .collect();
        assert!(tail.watch().is_none(), "one watcher too many");
        watchers.pop();
        assert!(
            tail.watch().is_some(),
            "a watcher that left frees its place"
        );
    }
}
