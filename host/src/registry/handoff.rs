//! What the registry hands the server when a session moves between nodes
//! (the reliable subprotocol across a rolling restart, docs/reliable.md): a
//! session another node parked, taken over here, and a parked session that
//! ended without a resume, whose `$disconnect` is due.

use tokio_tungstenite::tungstenite::Message;

use crate::connection::{ConnectionId, DisconnectInfo, Fields, Peer, SessionSnapshot};

/// A session another node parked when it stopped, claimed by this one.
#[derive(Debug)]
pub struct ParkedSession {
    /// The claim, to hand to [`super::Registry::adopt`] with the connection.
    pub claim: u64,
    /// The connection's id, which stays the same.
    pub id: ConnectionId,
    /// Who is on the other end, as the first node saw it.
    pub peer: Peer,
    /// When it was accepted (ms since the Unix epoch).
    pub connected_at: u64,
    /// When it last sent a message (ms since the Unix epoch).
    pub last_active_at: u64,
    /// The context `$connect` attached.
    pub context: Fields,
    /// Its numbering and the frames it still owes the client.
    pub session: SessionSnapshot,
    /// What it was sent while parked, to be numbered after `session`'s frames.
    pub tail: Vec<Message>,
}

/// A parked session that ended without being resumed (its window passed,
/// it was closed, or what it was sent overflowed its buffer).
#[derive(Debug)]
pub struct EndedSession {
    /// The connection's id.
    pub id: ConnectionId,
    /// Who was on the other end.
    pub peer: Peer,
    /// When it was accepted (ms since the Unix epoch).
    pub connected_at: u64,
    /// When it last sent a message (ms since the Unix epoch).
    pub last_active_at: u64,
    /// The context `$connect` attached.
    pub context: Fields,
    /// How it ended, for its `$disconnect`.
    pub info: DisconnectInfo,
}
