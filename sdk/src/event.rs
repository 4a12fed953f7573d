//! The events a handler receives.

use serde::Deserialize;

use crate::Payload;
use crate::bindings::wsgate::gateway::types as wit;

/// What every event carries, like the `requestContext` of an AWS API Gateway
/// WebSocket event.
#[derive(Debug, Clone)]
pub struct RequestContext(pub(crate) wit::RequestContext);

impl RequestContext {
    /// The selected route: `$connect`, `$disconnect`, `$default` or a custom
    /// route key such as `sendmessage`.
    pub fn route_key(&self) -> &str {
        &self.0.route_key
    }

    /// Which kind of event this is.
    pub fn event_type(&self) -> EventType {
        match self.0.event_type {
            wit::EventType::Connect => EventType::Connect,
            wit::EventType::Message => EventType::Message,
            wit::EventType::Disconnect => EventType::Disconnect,
        }
    }

    /// The connection the event is about: an opaque, URL-safe string.
    pub fn connection_id(&self) -> &str {
        &self.0.connection_id
    }

    /// Unique per message; `None` for connect and disconnect events.
    pub fn message_id(&self) -> Option<&str> {
        self.0.message_id.as_deref()
    }

    /// Unique per event.
    pub fn request_id(&self) -> &str {
        &self.0.request_id
    }

    /// When the connection was accepted, in milliseconds since the Unix epoch.
    pub fn connected_at(&self) -> u64 {
        self.0.connected_at
    }

    /// When this event was received, in milliseconds since the Unix epoch.
    pub fn request_time(&self) -> u64 {
        self.0.request_time
    }

    /// The client's IP address.
    pub fn source_ip(&self) -> &str {
        &self.0.source_ip
    }

    /// The client's `User-Agent`, empty when it sent none.
    pub fn user_agent(&self) -> &str {
        &self.0.user_agent
    }

    /// The `Host` the client connected to.
    pub fn domain_name(&self) -> &str {
        &self.0.domain_name
    }

    /// The deployment stage, empty unless configured.
    pub fn stage(&self) -> &str {
        &self.0.stage
    }

    /// A value of the connection context that `$connect` set with
    /// [`Accept::context`](crate::Accept::context).
    pub fn get(&self, key: &str) -> Option<&str> {
        find(&self.0.context, |name| name == key)
    }

    /// The whole connection context, in the order `$connect` set it.
    pub fn connection_context(&self) -> &[(String, String)] {
        &self.0.context
    }
}

/// Which of the three kinds of event an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `$connect`.
    Connect,
    /// A message, whatever its route.
    Message,
    /// `$disconnect`.
    Disconnect,
}

impl EventType {
    /// The WIT name: `connect`, `message` or `disconnect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Message => "message",
            Self::Disconnect => "disconnect",
        }
    }
}

/// The HTTP upgrade request a `$connect` handler decides on.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    pub(crate) context: RequestContext,
    pub(crate) request: wit::ConnectRequest,
}

impl ConnectRequest {
    /// The request context.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The HTTP method (`GET`).
    pub fn method(&self) -> &str {
        &self.request.method
    }

    /// The request path, without the query string.
    pub fn path(&self) -> &str {
        &self.request.path
    }

    /// The first value of a header; the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.request.headers, |key| key.eq_ignore_ascii_case(name))
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        find(&self.request.query, |key| key == name)
    }

    /// Every header, in order, names in lower case.
    pub fn headers(&self) -> &[(String, String)] {
        &self.request.headers
    }

    /// Every query parameter, in order, decoded.
    pub fn query_parameters(&self) -> &[(String, String)] {
        &self.request.query
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn subprotocols(&self) -> &[String] {
        &self.request.subprotocols
    }
}

/// A message from a client.
#[derive(Debug, Clone)]
pub struct Message {
    pub(crate) context: RequestContext,
    pub(crate) payload: Payload,
}

impl Message {
    /// The request context.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The message as received.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The text of a text frame; `None` for a binary frame.
    pub fn text(&self) -> Option<&str> {
        self.payload.as_text()
    }

    /// Parses the message (text or binary) as JSON.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_slice(self.payload.as_bytes())
    }

    /// Takes the message out, to forward or answer it unchanged.
    pub fn into_payload(self) -> Payload {
        self.payload
    }
}

/// The end of a connection.
#[derive(Debug, Clone)]
pub struct Disconnect {
    pub(crate) context: RequestContext,
    pub(crate) info: wit::DisconnectInfo,
}

impl Disconnect {
    /// The request context, with the connection context `$connect` set.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The WebSocket close code: 1005 when the client sent none, 1006 when the
    /// connection dropped without a close frame.
    pub fn code(&self) -> u16 {
        self.info.code
    }

    /// The close reason, possibly empty.
    pub fn reason(&self) -> &str {
        &self.info.reason
    }

    /// Who ended the connection.
    pub fn initiator(&self) -> Initiator {
        match self.info.initiator {
            wit::CloseInitiator::Client => Initiator::Client,
            wit::CloseInitiator::Handler => Initiator::Handler,
            wit::CloseInitiator::Api => Initiator::Api,
            wit::CloseInitiator::Server => Initiator::Server,
            wit::CloseInitiator::IdleTimeout => Initiator::IdleTimeout,
            wit::CloseInitiator::PingTimeout => Initiator::PingTimeout,
            wit::CloseInitiator::MaxDuration => Initiator::MaxDuration,
            wit::CloseInitiator::Shutdown => Initiator::Shutdown,
        }
    }
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The client sent a close frame or dropped the TCP connection.
    Client,
    /// A route handler called [`close`](crate::close).
    Handler,
    /// A backend closed it through the management API.
    Api,
    /// The gateway itself: a protocol error or a limit.
    Server,
    /// No traffic for the idle timeout.
    IdleTimeout,
    /// The client stopped answering pings.
    PingTimeout,
    /// The connection reached its maximum duration.
    MaxDuration,
    /// The gateway is shutting down.
    Shutdown,
}

impl Initiator {
    /// The WIT name: `client`, `handler`, `api`, `server`, `idle-timeout`,
    /// `ping-timeout`, `max-duration` or `shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Handler => "handler",
            Self::Api => "api",
            Self::Server => "server",
            Self::IdleTimeout => "idle-timeout",
            Self::PingTimeout => "ping-timeout",
            Self::MaxDuration => "max-duration",
            Self::Shutdown => "shutdown",
        }
    }
}

/// The value of the first pair whose key matches.
pub(crate) fn find(fields: &[(String, String)], matches: impl Fn(&str) -> bool) -> Option<&str> {
    fields
        .iter()
        .find(|(key, _)| matches(key))
        .map(|(_, value)| value.as_str())
}
