//! The connection registry: which connections exist, which groups they are in,
//! and how a message reaches one of them.
//!
//! Every send, close or group operation, whether from a handler or the
//! management API, goes through a [`Registry`]. The embedded [`LocalRegistry`]
//! holds this process's connections; the [`ClusterRegistry`] wraps it and
//! reaches the connections of other gateway processes through Redis, without
//! routing, the host imports or the management API changing.

mod cluster;
mod handoff;
mod local;

use std::sync::Arc;

use async_trait::async_trait;
use tokio_tungstenite::tungstenite::Message;

pub use cluster::{ClusterRegistry, ClusterSettings};
pub use handoff::{EndedSession, ParkedSession};
pub use local::LocalRegistry;

use crate::connection::{CloseInitiator, Connection, ConnectionId, Fields, SendError};

/// What the registry knows about a live connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The connection's id.
    pub id: ConnectionId,
    /// When it was accepted (ms since the Unix epoch).
    pub connected_at: u64,
    /// When it last sent a message (ms since the Unix epoch).
    pub last_active_at: u64,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// The context `$connect` attached.
    pub context: Fields,
    /// The groups it is in, in the order it joined them.
    pub groups: Vec<String>,
}

/// The most ids one page of a listing holds, whatever `limit` asks for: the
/// management API refuses a larger `limit`, and both registries clamp to it.
pub const MAX_PAGE: u32 = 1000;

/// One page of a paginated listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The ids on this page, in ascending order.
    pub ids: Vec<ConnectionId>,
    /// The cursor for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// One page of the names of the groups that have members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupPage {
    /// The names on this page, in ascending order.
    pub names: Vec<String>,
    /// The cursor for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

impl GroupPage {
    /// The page of `names` (in ascending order, each once) after `cursor`,
    /// at most `limit` (clamped to 1-1000) long; the cursor of the next page
    /// is the last name of this one.
    pub fn of<'n>(
        names: impl IntoIterator<Item = &'n str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Self {
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let mut rest = names
            .into_iter()
            .filter(|name| cursor.is_none_or(|cursor| *name > cursor));
        let names: Vec<String> = rest.by_ref().take(limit).map(str::to_owned).collect();
        let next_cursor = match rest.next() {
            Some(_) => names.last().cloned(),
            None => None,
        };
        GroupPage { names, next_cursor }
    }
}

/// Where connections live and how to reach them.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Makes a connection reachable (before its `$connect` runs, so that
    /// `$connect` can send to it and add it to groups).
    async fn register(&self, connection: Arc<Connection>);

    /// Removes a connection and its group memberships; later sends to it fail
    /// with `Gone`.
    async fn unregister(&self, id: &ConnectionId);

    /// Queues a message for one connection.
    async fn send(&self, id: &ConnectionId, message: Message) -> Result<(), SendError>;

    /// Closes one connection with a code and reason.
    async fn close(
        &self,
        id: &ConnectionId,
        code: u16,
        reason: &str,
        initiator: CloseInitiator,
    ) -> Result<(), SendError>;

    /// Closes every connection this process holds (at shutdown).
    async fn close_local(&self, code: u16, reason: &str, initiator: CloseInitiator);

    /// What is known about one connection.
    async fn info(&self, id: &ConnectionId) -> Result<ConnectionInfo, SendError>;

    /// Adds a connection to a group.
    async fn join(&self, group: &str, id: &ConnectionId) -> Result<(), SendError>;

    /// Removes a connection from a group.
    async fn leave(&self, group: &str, id: &ConnectionId);

    /// Sends to every member of a group but `exclude`.
    async fn send_to_group(
        &self,
        group: &str,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError>;

    /// Sends to every connection but `exclude`.
    async fn broadcast(
        &self,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError>;

    /// A page of a group's members after `cursor`, at most `limit` long.
    async fn members(&self, group: &str, cursor: Option<&str>, limit: u32) -> Page;

    /// A page of every connection's id after `cursor`, at most `limit` long.
    async fn connections(&self, cursor: Option<&str>, limit: u32) -> Page;

    /// A page of the names of the groups that have members, after `cursor`,
    /// at most `limit` long.
    async fn groups(&self, cursor: Option<&str>, limit: u32) -> GroupPage;

    /// An id for a new connection.
    fn new_id(&self) -> ConnectionId {
        ConnectionId::random()
    }

    /// Why this process cannot take connections now (a cluster node that lost
    /// its lease); none while it can.
    fn unavailable(&self) -> Option<&'static str> {
        None
    }

    /// Leaves the cluster after the drain, so that other nodes answer 410
    /// for this node's connections at once.
    async fn retire(&self) {}

    /// Parks this node's resumable sessions in the cluster as it stops, so
    /// that their clients resume on another node: each is closed with 1012,
    /// without its `$disconnect`. Answers how many; none for a registry that
    /// keeps sessions only in this process.
    async fn park_sessions(&self) -> usize {
        0
    }

    /// Takes over the session of `token` from the cluster (parked by a node
    /// that stopped, or held by another node, which parks it), if it can be
    /// resumed after frame `last_seq`; then [`Registry::adopt`] must follow.
    /// `Unavailable` if the node holding it does not answer.
    async fn claim(
        &self,
        _token: &str,
        _last_seq: u64,
    ) -> Result<Option<ParkedSession>, SendError> {
        Ok(None)
    }

    /// Makes the connection built from a claimed session reachable here, in
    /// the order of what was sent to it: before this returns, anything sent
    /// to it has gone to the parked session or waits for this connection.
    async fn adopt(&self, _claim: u64, _connection: Arc<Connection>) {}

    /// Takes the parked sessions that ended without a resume, whose
    /// `$disconnect` this node then runs (each is taken by one node once).
    async fn ended_sessions(&self) -> Vec<EndedSession> {
        Vec::new()
    }
}
