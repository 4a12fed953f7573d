//! A connection's own message rate limit, and when running over it turns
//! into a close.

use tokio_tungstenite::tungstenite::Message;

use crate::connection::{CloseInitiator, Connection, ConnectionLimits};
use crate::limits::{Strikes, TokenBucket};
use crate::routing::{ErrorFrame, error_frame};

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

    /// Whether the connection may send this message now; if not, the client
    /// has been told.
    pub fn admit(&mut self, connection: &Connection) -> bool {
        if self.bucket.as_ref().is_none_or(TokenBucket::allow) {
            self.strikes.clear();
            return true;
        }
        self.refuse(
            connection,
            error_frame(connection, ErrorFrame::TooManyRequests),
        );
        false
    }

    /// Tells the client it is over a limit; closes it (1008) when it keeps on.
    pub fn refuse(&mut self, connection: &Connection, frame: Message) {
        let _ = connection.send(frame);
        if self.strikes.strike() {
            connection.close(1008, "rate limit exceeded", CloseInitiator::Server);
        }
    }
}
