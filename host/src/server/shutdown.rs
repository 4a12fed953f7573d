//! Graceful shutdown: stop accepting, tell probes we are not ready, close every
//! connection with 1001 and wait — up to the drain timeout — for each
//! connection's `$disconnect` to run.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Whether the gateway is draining, and the connection tasks it waits for.
#[derive(Debug, Default)]
pub struct Shutdown {
    draining: AtomicBool,
    stop_accepting: CancellationToken,
    connections: TaskTracker,
}

impl Shutdown {
    /// Starts a connection's task, which the drain waits for.
    pub fn spawn_connection<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.connections.spawn(task);
    }

    /// Whether shutdown has begun (then `/ready` answers 503).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Resolves once listeners should stop accepting.
    pub async fn stopped_accepting(&self) {
        self.stop_accepting.cancelled().await
    }

    /// Marks the gateway as draining and stops the listeners.
    pub fn begin(&self) {
        self.draining.store(true, Ordering::Release);
        self.stop_accepting.cancel();
    }

    /// Waits until every connection task has finished, or `timeout` passes;
    /// says whether they all finished.
    pub async fn drained(&self, timeout: Duration) -> bool {
        self.connections.close();
        tokio::time::timeout(timeout, self.connections.wait())
            .await
            .is_ok()
    }
}
