//! The events the gateway routes to handlers, and a handler's response, in the
//! host's own types (the WIT-generated twins live in `runtime::bindings`).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use tokio_tungstenite::tungstenite::{Bytes, Utf8Bytes};

use crate::connection::{Connection, ConnectionId, DisconnectInfo, EventToken, Fields, Peer};

/// The decoded query parameters of a request URI, in order.
pub fn query_fields(uri: &http::Uri) -> Fields {
    uri.query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Which of the three kinds of event an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// The HTTP upgrade request, before the handshake is answered.
    Connect,
    /// A text or binary message from the client.
    Message,
    /// The connection has ended.
    Disconnect,
}

impl EventType {
    /// The name AWS uses in `requestContext.eventType`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Connect => "CONNECT",
            EventType::Message => "MESSAGE",
            EventType::Disconnect => "DISCONNECT",
        }
    }
}

/// A WebSocket message body: the bytes the socket read, shared (a 0.2.0
/// handler is lent them; only a 0.1.0 one gets a copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl Payload {
    /// The body's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(text) => text.len(),
            Payload::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A route key: the route table's, or one of the gateway's own (`$connect`,
/// `$disconnect`, `-` for a message no route took). Made with [`intern`].
pub type RouteKey = &'static str;

/// The one copy of `text` kept for the process's life: route keys and the
/// stage, which every event, access log record and metric label carries.
/// Copying a `&'static str` costs nothing, where an `Arc` shared by every
/// event of a route is counted up and down by every worker thread on one
/// cache line. They are the names an operator configures, so few: a name
/// is kept once however often it is interned.
pub fn intern(text: &str) -> &'static str {
    static KEPT: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);
    let mut kept = KEPT.lock().expect("interned names lock");
    match kept.get(text) {
        Some(name) => name,
        None => {
            let name: &'static str = Box::leak(text.into());
            kept.insert(name);
            name
        }
    }
}

/// `requestContext`: what every event carries.
///
/// Built for every event, so it copies nothing of the connection: what the
/// connection knows (its id, peer, context, when it was accepted) is read
/// from it, the route key and the stage are shared, and the ids are
/// copyable tokens. Only a 0.1.0 handler needs the strings themselves (its
/// event is one record); a 0.2.0 one reads a field only when it asks.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// `$connect`, `$disconnect`, `$default` or a custom route key.
    pub route_key: RouteKey,
    /// The kind of event.
    pub event_type: EventType,
    /// The connection the event belongs to.
    pub connection: Arc<Connection>,
    /// Unique per message (message events only).
    pub message_id: Option<EventToken>,
    /// Unique per event.
    pub request_id: EventToken,
    /// When this event was received (ms since the Unix epoch).
    pub request_time: u64,
    /// The deployment stage.
    pub stage: &'static str,
}

impl RequestContext {
    /// The connection's id.
    pub fn connection_id(&self) -> &ConnectionId {
        self.connection.id()
    }

    /// When the connection was accepted (ms since the Unix epoch).
    pub fn connected_at(&self) -> u64 {
        self.connection.connected_at()
    }

    /// The client: IP address, `User-Agent` and the `Host` it connected to.
    pub fn peer(&self) -> &Peer {
        self.connection.peer()
    }

    /// The connection context set by `$connect` (empty during `$connect`).
    pub fn connection_context(&self) -> &[(String, String)] {
        self.connection.context()
    }
}

/// The HTTP upgrade request a `$connect` handler decides on.
#[derive(Clone, Debug)]
pub struct ConnectRequest {
    /// The HTTP method (always `GET` for a valid upgrade).
    pub method: String,
    /// The request path.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: Fields,
    /// Decoded query parameters.
    pub query: Fields,
    /// The subprotocols offered in `Sec-WebSocket-Protocol`.
    pub subprotocols: Vec<String>,
}

/// What happened.
#[derive(Clone, Debug)]
pub enum EventKind {
    /// A client asks to connect.
    Connect(ConnectRequest),
    /// A client sent a message.
    Message(Payload),
    /// A connection ended.
    Disconnect(DisconnectInfo),
}

/// One event routed to a handler.
#[derive(Clone, Debug)]
pub struct Event {
    /// The request context.
    pub context: RequestContext,
    /// The event itself.
    pub kind: EventKind,
}

/// A handler's answer to an event.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// For `$connect`: 2xx accepts, anything else rejects with this status.
    pub status: u16,
    /// A `$connect` rejection's body, or a message's route response.
    pub body: Option<Payload>,
    /// For `$connect`: the subprotocol to accept.
    pub subprotocol: Option<String>,
    /// For `$connect`: the connection context.
    pub context: Fields,
    /// For `$connect`: headers for the 101 when it accepts, or for the
    /// rejection's response.
    pub headers: Fields,
}

impl Response {
    /// Done, nothing to answer.
    pub fn ok() -> Self {
        Response {
            status: 200,
            ..Response::default()
        }
    }

    /// A message's route response, if any.
    pub fn reply(body: Option<Payload>) -> Self {
        Response {
            body,
            ..Response::ok()
        }
    }
}

impl From<Payload> for tokio_tungstenite::tungstenite::Message {
    fn from(payload: Payload) -> Self {
        match payload {
            Payload::Text(text) => Self::Text(text),
            Payload::Binary(bytes) => Self::Binary(bytes),
        }
    }
}
