//! A live client connection as every layer sees it: its identity, its
//! outbound queue, its limits and how it ends (close requests and close
//! codes). Near the bottom: it uses only [`crate::clock`] and
//! [`crate::limits`].
//!
//! [`Connection`] is the handle every other part of the gateway holds (the
//! registry, host imports, the management API). The connection's own task
//! ([`crate::server::task`]) owns the socket: it reads frames and routes them,
//! and its writer drains the outbound queue, so messages to one connection
//! leave in the order they were queued.

mod close;
mod id;
mod limits;
mod queue;
mod session;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio_tungstenite::tungstenite::Message;

use close::TOO_SLOW;

use crate::clock::now_ms;
pub(crate) use close::ending;
pub use close::{
    BINARY_REFUSED, CloseInitiator, CloseRequest, CloseState, DisconnectInfo, GOING_AWAY,
};
pub use id::{ConnectionId, EventToken, node_tag, random_token};
pub use limits::{ConnectionLimits, ResumeLimits};
pub(crate) use queue::OutboundQueue;
pub use session::{RELIABLE_SUBPROTOCOL, Resume, Session, SessionSnapshot, acknowledged};

/// Ordered key/value pairs: headers, query parameters, connection context.
pub type Fields = Vec<(String, String)>;

/// Why an operation on a connection failed. A connection that is closing
/// counts as gone.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum SendError {
    /// The connection does not exist or has closed.
    #[error("the connection is gone")]
    Gone,
    /// The message is larger than the maximum message size.
    #[error("the message is larger than the maximum message size")]
    PayloadTooLarge,
    /// The connection's outbound queue is full.
    #[error("the connection's outbound queue is full")]
    Throttled,
    /// The connection may live on another node, which cannot be reached now
    /// (Redis is down, or that node does not answer): the operation was not
    /// done, and may be retried.
    #[error("the cluster cannot be reached: the connection's node is unknown or does not answer")]
    Unavailable,
}

/// What is known about a client when its upgrade request arrives.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`, empty when none was sent.
    pub user_agent: String,
    /// The `Host` it connected to.
    pub domain_name: String,
}

/// A client connection, from its `$connect` to its `$disconnect`.
#[derive(Debug)]
pub struct Connection {
    id: ConnectionId,
    peer: Peer,
    connected_at: u64,
    last_active_at: AtomicU64,
    last_traffic_at: AtomicU64,
    context: OnceLock<Fields>,
    groups: Mutex<Vec<String>>,
    outbound: OutboundQueue,
    close: CloseState,
    /// The reliable subprotocol's state, when the client opted in (boxed: one
    /// word for every other connection).
    session: Option<Box<Session>>,
    /// Whether it takes sends before `$connect` accepted it.
    sends_during_connect: bool,
}

impl Connection {
    /// A new connection with this id, whose outbound queue has the bounds of
    /// `limits`.
    pub fn new(id: ConnectionId, peer: Peer, limits: &ConnectionLimits) -> Self {
        let now = now_ms();
        Connection {
            id,
            peer,
            connected_at: now,
            last_active_at: AtomicU64::new(now),
            last_traffic_at: AtomicU64::new(now),
            context: OnceLock::new(),
            groups: Mutex::new(Vec::new()),
            outbound: OutboundQueue::new(limits.outbound_queue, limits.outbound_queue_bytes),
            close: CloseState::default(),
            session: None,
            sends_during_connect: limits.sends_during_connect,
        }
    }

    /// The connection on the reliable subprotocol: what it is sent is
    /// numbered and kept until acknowledged, and a drop detaches it for
    /// `limits.window` instead of ending it.
    pub fn reliable(mut self, limits: ResumeLimits) -> Self {
        self.session = Some(Box::new(Session::new(&self.id, limits)));
        self
    }

    /// The connection on the reliable subprotocol with `session`, taken over
    /// from another node.
    pub fn resumed_from(mut self, session: Session) -> Self {
        self.session = Some(Box::new(session));
        self
    }

    /// The same connection accepted at `connected_at` and last active at
    /// `last_active_at` (ms since the Unix epoch): one that lived on another
    /// node first.
    pub fn since(self, connected_at: u64, last_active_at: u64) -> Self {
        self.last_active_at.store(last_active_at, Ordering::Relaxed);
        Connection {
            connected_at,
            ..self
        }
    }

    /// The reliable subprotocol's state, if the client opted in.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// The connection's id.
    pub fn id(&self) -> &ConnectionId {
        &self.id
    }

    /// Who is on the other end.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// When the connection was accepted (ms since the Unix epoch).
    pub fn connected_at(&self) -> u64 {
        self.connected_at
    }

    /// When the last message arrived (ms since the Unix epoch).
    pub fn last_active_at(&self) -> u64 {
        self.last_active_at.load(Ordering::Relaxed)
    }

    /// Records a message from the client at `now`.
    pub fn touch(&self, now: u64) {
        self.last_active_at.store(now, Ordering::Relaxed);
        self.last_traffic_at.store(now, Ordering::Relaxed);
    }

    /// When a message last went either way (ms since the Unix epoch): what the
    /// idle timeout measures.
    pub fn last_traffic_at(&self) -> u64 {
        self.last_traffic_at.load(Ordering::Relaxed)
    }

    /// The context `$connect` attached (empty before it has run).
    pub fn context(&self) -> &[(String, String)] {
        self.context.get().map(Vec::as_slice).unwrap_or_default()
    }

    /// Attaches the context returned by `$connect`; later calls are ignored.
    pub fn set_context(&self, context: Fields) {
        let _ = self.context.set(context);
    }

    /// Queues a message; fails with `Gone` once the connection is closing. A
    /// client too slow to drain its queue (in messages or in bytes) is closed
    /// with 1013 rather than allowed to grow the gateway's memory, and the
    /// sender gets `Throttled`.
    ///
    /// On the reliable subprotocol the message is numbered and kept for a
    /// replay; while the connection is detached it waits only there.
    pub fn send(&self, message: Message) -> Result<(), SendError> {
        if self.close.is_requested() || !self.is_open_to_sends() {
            return Err(SendError::Gone);
        }
        match &self.session {
            None => self.enqueue(message)?,
            Some(session) => session.sequence(&self.id, message, |frame| self.enqueue(frame))?,
        }
        self.last_traffic_at.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    /// Whether sends reach it now: always, unless sends during `$connect` are
    /// off (`--compat aws`) and its `$connect` has not accepted it yet.
    fn is_open_to_sends(&self) -> bool {
        self.sends_during_connect || self.context.get().is_some()
    }

    /// Hands `message`, numbered and kept for a replay on the reliable
    /// subprotocol (as it is), to `deliver`: how a route response goes out,
    /// through the task's writer rather than the queue. Gives it back if the
    /// session was sealed for another node, which must get it instead.
    pub fn number(&self, message: Message, deliver: impl FnOnce(Message)) -> Option<Message> {
        let Some(session) = &self.session else {
            deliver(message);
            return None;
        };
        // A reference count: messages share their bytes.
        let kept = message.clone();
        let numbered = session.sequence(&self.id, message, |frame| {
            deliver(frame);
            Ok(())
        });
        // Else only an ended session refuses, and then nothing is written.
        (numbered.is_err() && session.is_parked()).then_some(kept)
    }

    /// Queues a keepalive ping, which does not count as traffic.
    pub fn ping(&self) -> Result<(), SendError> {
        if self.close.is_requested() {
            return Err(SendError::Gone);
        }
        self.enqueue(Message::Ping(Default::default()))
    }

    /// Queues the reliable subprotocol's first frame ahead of anything
    /// `$connect` sent; nothing for another connection.
    pub fn greet(&self) {
        if let Some(session) = &self.session {
            self.outbound.push_front(session.greeting(&self.id, false));
        }
    }

    /// Attaches a resumed socket: the greeting, then every kept frame after
    /// `last_seq`, go out before anything sent later.
    pub fn attach(&self, last_seq: u64) {
        if let Some(session) = &self.session {
            session.attach(&self.id, last_seq, &self.outbound);
        }
    }

    fn enqueue(&self, message: Message) -> Result<(), SendError> {
        self.outbound.push(message).map_err(|_| {
            self.close_too_slow();
            SendError::Throttled
        })
    }

    /// Closes a client that does not read what it is sent (1013).
    pub(crate) fn close_too_slow(&self) {
        let (code, reason) = TOO_SLOW;
        self.close(code, reason, CloseInitiator::Server);
    }

    /// Asks the connection to close with `code` and `reason`. Messages queued
    /// before still go out first, then the close frame. Closing a connection
    /// that is already closing does nothing.
    pub fn close(&self, code: u16, reason: &str, initiator: CloseInitiator) {
        let request = CloseRequest::new(code, reason, initiator);
        let frame = request.frame();
        if self.close.request(request) {
            self.outbound.push_close(frame);
            self.close.signal();
        }
    }

    /// The messages waiting to be written (drained by the connection's task).
    pub(crate) fn outbound(&self) -> &OutboundQueue {
        &self.outbound
    }

    /// The connection's closing state.
    pub fn close_state(&self) -> &CloseState {
        &self.close
    }

    /// Records that the connection joined `group`, so it can leave on disconnect.
    /// Returns false if it was already a member.
    pub fn remember_group(&self, group: &str) -> bool {
        let mut groups = self.groups.lock().expect("groups lock");
        if groups.iter().any(|g| g == group) {
            return false;
        }
        groups.push(group.to_owned());
        true
    }

    /// Forgets `group` after the connection left it.
    pub fn forget_group(&self, group: &str) {
        self.groups
            .lock()
            .expect("groups lock")
            .retain(|g| g != group);
    }

    /// The groups the connection is in now.
    pub fn groups(&self) -> Vec<String> {
        self.groups.lock().expect("groups lock").clone()
    }

    /// Takes the list of groups the connection is in, on disconnect.
    pub fn take_groups(&self) -> Vec<String> {
        std::mem::take(&mut *self.groups.lock().expect("groups lock"))
    }
}
