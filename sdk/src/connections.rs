//! Reach any connection of the gateway, not only the one an event came from.

use crate::bindings::wsgate::gateway::types as wit;
use crate::event::find;
use crate::host::connections as host;
use crate::{Payload, SendError};

/// Queues a message for a connection. Messages to one connection arrive in the
/// order they were sent; a send to a connection whose `$connect` is still
/// running is delivered right after its handshake.
pub fn send(id: &str, payload: impl Into<Payload>) -> Result<(), SendError> {
    host::send(id, payload.into())
}

/// Queues a text message for a connection, like [`send`].
pub fn send_text(id: &str, text: impl Into<String>) -> Result<(), SendError> {
    send(id, Payload::Text(text.into()))
}

/// Closes a connection with a WebSocket close code (1000, or 3000-4999) and a
/// reason; its `$disconnect` runs with [`Initiator::Handler`](crate::Initiator::Handler).
pub fn close(id: &str, code: u16, reason: &str) -> Result<(), SendError> {
    host::close(id, code, reason)
}

/// What the gateway knows about a live connection.
pub fn info(id: &str) -> Result<ConnectionInfo, SendError> {
    host::info(id)
}

/// What the gateway knows about a live connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo(pub(crate) wit::ConnectionInfo);

impl ConnectionInfo {
    /// The connection's id.
    pub fn connection_id(&self) -> &str {
        &self.0.connection_id
    }

    /// When the connection was accepted, in milliseconds since the Unix epoch.
    pub fn connected_at(&self) -> u64 {
        self.0.connected_at
    }

    /// When the connection last sent a message, in milliseconds since the Unix
    /// epoch.
    pub fn last_active_at(&self) -> u64 {
        self.0.last_active_at
    }

    /// The client's IP address.
    pub fn source_ip(&self) -> &str {
        &self.0.source_ip
    }

    /// The client's `User-Agent`, empty when it sent none.
    pub fn user_agent(&self) -> &str {
        &self.0.user_agent
    }

    /// A value of the connection context set by `$connect`.
    pub fn get(&self, key: &str) -> Option<&str> {
        find(&self.0.context, |name| name == key)
    }

    /// The whole connection context, in the order `$connect` set it.
    pub fn connection_context(&self) -> &[(String, String)] {
        &self.0.context
    }
}
