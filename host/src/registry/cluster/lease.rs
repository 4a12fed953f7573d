//! This node's lease: its heartbeat key in Redis expires `node_expiry` after
//! Redis received the last renewal, and from then on the other nodes answer
//! 410 for this node's connections. So the node holds the lease only until
//! 3/4 of the expiry after it *sent* the last acknowledged renewal (which
//! Redis can only have received later); past that it fences itself: it
//! closes its connections with 1012 and refuses new ones, until a renewal is
//! acknowledged again. No connection is ever reported gone while its client
//! is still connected.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The close code of connections closed because the lease was lost
/// ("service restart": the client may reconnect, through another node).
pub const FENCED: (u16, &str) = (1012, "cluster lease lost");

/// Until when this node may hold connections.
pub(super) struct Lease {
    base: Instant,
    /// Milliseconds after `base` until which the lease holds; 0: never held.
    holds_until: AtomicU64,
    fenced: AtomicBool,
    renewed: Notify,
    expiry: Duration,
}

impl Lease {
    /// A lease not held yet (the node is fenced until its first renewal).
    pub(super) fn new(expiry: Duration) -> Self {
        Lease {
            base: Instant::now(),
            holds_until: AtomicU64::new(0),
            fenced: AtomicBool::new(true),
            renewed: Notify::new(),
            expiry,
        }
    }

    /// Records a renewal sent at `sent` and acknowledged by Redis. Answers
    /// whether the node was fenced (it must register its connections again).
    pub(super) fn renewed(&self, sent: Instant) -> bool {
        let until = sent + self.expiry * 3 / 4;
        let until = until.saturating_duration_since(self.base).as_millis() as u64;
        self.holds_until.fetch_max(until, Ordering::AcqRel);
        if Instant::now() >= self.fence_at() {
            return self.is_fenced();
        }
        let was_fenced = self.fenced.swap(false, Ordering::AcqRel);
        self.renewed.notify_one();
        was_fenced
    }

    /// Whether the node has fenced itself (or never held the lease).
    pub(super) fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    /// Gives the lease up for good (the node left the cluster).
    pub(super) fn retire(&self) {
        self.fenced.store(true, Ordering::Release);
    }

    fn fence_at(&self) -> Instant {
        self.base + Duration::from_millis(self.holds_until.load(Ordering::Acquire))
    }

    /// Waits until the lease runs out, marks the node fenced and answers;
    /// `fence` then closes its connections. Returns at once if the lease is
    /// already out but the node not fenced yet.
    pub(super) async fn expired(&self) {
        loop {
            let at = self.fence_at();
            if Instant::now() >= at {
                if !self.fenced.swap(true, Ordering::AcqRel) {
                    return;
                }
                self.renewed.notified().await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = self.renewed.notified() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_lease_runs_out_three_quarters_of_the_expiry_after_the_last_renewal_was_sent() {
        let lease = Lease::new(Duration::from_millis(400));
        assert!(lease.is_fenced());
        let sent = Instant::now();
        assert!(
            lease.renewed(sent),
            "the first renewal ends the initial fence"
        );
        assert!(!lease.is_fenced());
        tokio::time::timeout(Duration::from_secs(5), lease.expired())
            .await
            .expect("the lease runs out");
        assert!(lease.is_fenced());
        assert!(Instant::now() >= sent + Duration::from_millis(300));
        assert!(
            lease.renewed(Instant::now()),
            "a renewal after the fence ends it"
        );
        assert!(!lease.is_fenced());
    }
}
