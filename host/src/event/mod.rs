//! The events the gateway routes to handlers, and a handler's response, in the
//! host's own types (the WIT-generated twins live in `runtime::bindings`).

use crate::connection::{ConnectionId, DisconnectInfo, Fields};

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

/// A WebSocket message body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
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

/// `requestContext`: what every event carries.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// `$connect`, `$disconnect`, `$default` or a custom route key.
    pub route_key: String,
    /// The kind of event.
    pub event_type: EventType,
    /// The connection the event belongs to.
    pub connection_id: ConnectionId,
    /// Unique per message (message events only).
    pub message_id: Option<String>,
    /// Unique per event.
    pub request_id: String,
    /// When the connection was accepted (ms since the Unix epoch).
    pub connected_at: u64,
    /// When this event was received (ms since the Unix epoch).
    pub request_time: u64,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`, empty when none was sent.
    pub user_agent: String,
    /// The `Host` the client connected to.
    pub domain_name: String,
    /// The deployment stage.
    pub stage: String,
    /// The connection context set by `$connect`.
    pub context: Fields,
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
            Payload::Text(text) => Self::Text(text.into()),
            Payload::Binary(bytes) => Self::Binary(bytes.into()),
        }
    }
}
