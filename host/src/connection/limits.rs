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
    /// How a connection on the reliable subprotocol survives a drop.
    pub resume: ResumeLimits,
    /// Whether clients may send binary messages; if not, one closes its
    /// connection with 1003, as API Gateway does.
    pub binary_messages: bool,
    /// Whether a connection takes sends while its `$connect` runs (a
    /// greeting); if not, they are refused as gone, as API Gateway does.
    pub sends_during_connect: bool,
}

/// How long a dropped connection on the reliable subprotocol waits for its
/// client, and what it keeps for a replay meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeLimits {
    /// How long a dropped connection stays resumable.
    pub window: Duration,
    /// Unacknowledged frames kept for a replay; more ends resumability.
    pub buffer: usize,
    /// Payload bytes of the unacknowledged frames kept; more ends resumability.
    pub buffer_bytes: usize,
}

impl Default for ResumeLimits {
    /// The shipped defaults (SPEC.md's configuration table).
    fn default() -> Self {
        ResumeLimits {
            window: Duration::from_secs(120),
            buffer: 1024,
            buffer_bytes: 1 << 20,
        }
    }
}

impl Default for ConnectionLimits {
    /// The gateway's shipped defaults (see SPEC.md's configuration table).
    fn default() -> Self {
        ConnectionLimits {
            max_message_size: 128 * 1024,
            max_frame_size: 32 * 1024,
            outbound_queue: 256,
            outbound_queue_bytes: 1 << 20,
            ping_interval: Some(Duration::from_secs(30)),
            ping_timeout: Duration::from_secs(20),
            idle_timeout: Some(Duration::from_secs(600)),
            max_duration: None,
            rate: Rate::new(1000, Some(2000)),
            close_after_throttled: 20,
            resume: ResumeLimits::default(),
            binary_messages: true,
            sends_during_connect: true,
        }
    }
}
