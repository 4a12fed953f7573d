//! What one connection may do and how long it may live: the value the
//! configuration resolves and the connection's task enforces.

use std::time::Duration;

use crate::limits::Rate;

/// What one connection may do and how long it may live.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Largest message in either direction.
    pub max_message_size: usize,
    /// Largest frame from a client.
    pub max_frame_size: usize,
    /// Outbound queue length.
    pub outbound_queue: usize,
    /// Outbound queue size in payload bytes.
    pub outbound_queue_bytes: usize,
    /// Ping period; none disables pings.
    pub ping_interval: Option<Duration>,
    /// Time allowed for a pong.
    pub ping_timeout: Duration,
    /// Close after this long without traffic; none disables.
    pub idle_timeout: Option<Duration>,
    /// Close after this long in any case; none disables.
    pub max_duration: Option<Duration>,
    /// Messages per second a connection may send.
    pub rate: Option<Rate>,
    /// Consecutive rate-limited messages before the connection is closed.
    pub close_after_throttled: u32,
}
