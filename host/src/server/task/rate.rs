//! A connection's own message rate limit, and when running over it turns
//! into a close.

use tokio_tungstenite::tungstenite::Message;

use crate::connection::{CloseInitiator, Connection, ConnectionLimits};
use crate::limits::{Strikes, TokenBucket};

/// A connection's own rate limit, and the count of refusals in a row that
/// turns a burst into abuse.
pub(super) struct RateGuard {
    bucket: Option<TokenBucket>,
    strikes: Strikes,
}

impl RateGuard {
    /// The guard of a connection with these limits.
    pub fn new(limits: &ConnectionLimits) -> Self {
        RateGuard {
            bucket: limits.rate.map(TokenBucket::new),
            strikes: Strikes::new(limits.close_after_throttled),
        }
    }

    /// Whether the connection may send a message now; if not, it is to be
    /// [refused](Self::refuse).
    pub fn admit(&mut self) -> bool {
        let admitted = self.bucket.as_ref().is_none_or(TokenBucket::allow);
        if admitted {
            self.strikes.clear();
        }
        admitted
    }

    /// Tells the client it is over a limit, its own or its route's, with
    /// `frame`; closes it (1008) when it keeps on.
    pub fn refuse(&mut self, connection: &Connection, frame: Message) {
        let _ = connection.send(frame);
        if self.strikes.strike() {
            connection.close(1008, "rate limit exceeded", CloseInitiator::Server);
        }
    }
}
