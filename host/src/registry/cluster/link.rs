//! The link to Redis: every request bounded by the cluster timeout, and a
//! circuit breaker. A request that fails or times out opens the breaker;
//! while it is open, requests fail at once instead of each waiting for the
//! timeout, and a probe pings Redis until it answers again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::Notify;

use crate::connection::SendError;
use crate::observability::metrics::Metrics;

/// How often the probe pings Redis while the breaker is open.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// A bounded, breaker-guarded way to Redis.
pub(super) struct Link {
    redis: ConnectionManager,
    timeout: Duration,
    metrics: Arc<Metrics>,
    /// Whether requests may go to Redis (the breaker is closed).
    closed: AtomicBool,
    /// Wakes the probe when the breaker opens.
    opened: Notify,
}

/// What can run against Redis: one command or a pipeline.
pub(super) enum Request {
    One(redis::Cmd),
    Many(redis::Pipeline),
}

impl From<redis::Cmd> for Request {
    fn from(command: redis::Cmd) -> Self {
        Request::One(command)
    }
}

impl From<redis::Pipeline> for Request {
    fn from(pipeline: redis::Pipeline) -> Self {
        Request::Many(pipeline)
    }
}

impl Link {
    /// A link whose breaker starts open: the first heartbeat or probe closes it.
    pub(super) fn new(redis: ConnectionManager, timeout: Duration, metrics: Arc<Metrics>) -> Self {
        Link {
            redis,
            timeout,
            metrics,
            closed: AtomicBool::new(false),
            opened: Notify::new(),
        }
    }

    /// How long one request may take.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the breaker is closed (Redis answered lately).
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Runs a request with a bounded wait; any failure opens the breaker and
    /// makes the operation [`SendError::Unavailable`].
    pub(super) async fn query<T: redis::FromRedisValue>(
        &self,
        request: impl Into<Request>,
    ) -> Result<T, SendError> {
        if !self.is_closed() {
            return Err(SendError::Unavailable);
        }
        match tokio::time::timeout(self.timeout, self.run(request.into())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                tracing::warn!(%error, "cluster request failed");
                self.open();
                Err(SendError::Unavailable)
            }
            Err(_) => {
                tracing::warn!("cluster request timed out");
                self.open();
                Err(SendError::Unavailable)
            }
        }
    }

    /// Runs a request without the breaker or the timeout (for the heartbeat's
    /// own bounded work).
    pub(super) async fn run<T: redis::FromRedisValue>(
        &self,
        request: Request,
    ) -> redis::RedisResult<T> {
        let mut redis = self.redis.clone();
        match request {
            Request::One(command) => command.query_async(&mut redis).await,
            Request::Many(pipeline) => pipeline.query_async(&mut redis).await,
        }
    }

    /// Opens the breaker: requests fail at once until Redis answers.
    pub(super) fn open(&self) {
        if self.closed.swap(false, Ordering::AcqRel) {
            self.metrics.cluster_reachable(false);
            self.opened.notify_one();
        }
    }

    /// Closes the breaker: Redis answered.
    pub(super) fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.metrics.cluster_reachable(true);
        }
    }

    /// Pings Redis while the breaker is open, and closes it when Redis answers.
    pub(super) async fn probe(self: Arc<Self>) {
        loop {
            if self.is_closed() {
                self.opened.notified().await;
            }
            tokio::time::sleep(PROBE_EVERY).await;
            let ping = self.run::<String>(redis::cmd("PING").into());
            if let Ok(Ok(_)) = tokio::time::timeout(self.timeout, ping).await {
                self.close();
            }
        }
    }
}
