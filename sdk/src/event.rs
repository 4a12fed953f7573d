//! The events a handler receives.
//!
//! The gateway lends each call its event as resources (`request-context` and
//! `connect-request` of `wsgate:gateway@0.2.0`): a field is asked of the
//! gateway the first time the handler reads it, and a field nobody reads costs
//! nothing. Each getter here asks at most once per event and keeps the answer,
//! so it can hand out a `&str` and be called as often as is convenient; a
//! getter by name (`get`, `header`, `query`) asks for that one value, once per
//! name, instead of for the whole list (`event/asked.rs`).
//!
//! **Lent handles.** The generated bindings hand an export the gateway's
//! resource as a reference to a wrapper they drop (ending the borrow) when
//! the export returns. [`RequestContext`] and [`ConnectRequest`] wrap the
//! same handle a second time, so that they carry no lifetime parameter (a
//! helper such as `fn room(ctx: &RequestContext) -> &str` then needs none
//! either). That is sound because the SDK makes them only in the export,
//! hands them out only by reference and drops them before the export
//! returns, and because their wrapper is `ManuallyDrop`: only the bindings'
//! own one gives the handle back. A handle used after its call is dead in
//! any case: the gateway traps it.
//!
//! **Plain values.** Off `wasm32` there is no gateway to lend anything: a
//! unit test builds the event from plain values instead (`testing::Context`,
//! `testing::Connect`), which set every field from the start, so the getters
//! never ask a resource (`event/given.rs`).

use std::cell::OnceCell;
use std::mem::ManuallyDrop;

use serde::Deserialize;

use crate::Payload;
use crate::bindings::wsgate::gateway::event as wit_event;
use crate::bindings::wsgate::gateway::types as wit;

mod asked;
#[cfg(not(target_arch = "wasm32"))]
mod given;

use asked::Asked;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use given::{ConnectValues, ContextValues};

/// Why a field of an event made of plain values is always set.
const EVERY_FIELD_SET: &str = "an event made of plain values has every field set";

/// What every event carries, like the `requestContext` of an AWS API Gateway
/// WebSocket event. A handler gets it by reference, for the one call it is
/// valid in.
pub struct RequestContext {
    event_type: EventType,
    /// What a field not read yet is asked of; none for plain values.
    resource: Option<ManuallyDrop<wit_event::RequestContext>>,
    route_key: OnceCell<String>,
    connection_id: OnceCell<String>,
    request_id: OnceCell<String>,
    message_id: OnceCell<Option<String>>,
    connected_at: OnceCell<u64>,
    request_time: OnceCell<u64>,
    source_ip: OnceCell<String>,
    user_agent: OnceCell<String>,
    domain_name: OnceCell<String>,
    stage: OnceCell<String>,
    connection_context: OnceCell<Vec<(String, String)>>,
    /// Values of the connection context asked one key at a time.
    context_values: Asked,
}

impl RequestContext {
    /// Wraps the context the gateway lent to this call.
    pub(crate) fn lent(event_type: EventType, resource: &wit_event::RequestContext) -> Self {
        Self {
            event_type,
            // SAFETY: see "Lent handles" at the top of this module.
            resource: Some(ManuallyDrop::new(unsafe {
                wit_event::RequestContext::from_handle(resource.handle())
            })),
            route_key: OnceCell::new(),
            connection_id: OnceCell::new(),
            request_id: OnceCell::new(),
            message_id: OnceCell::new(),
            connected_at: OnceCell::new(),
            request_time: OnceCell::new(),
            source_ip: OnceCell::new(),
            user_agent: OnceCell::new(),
            domain_name: OnceCell::new(),
            stage: OnceCell::new(),
            connection_context: OnceCell::new(),
            context_values: Asked::default(),
        }
    }

    /// The lent resource, to ask it a field not read yet.
    fn resource(&self) -> &wit_event::RequestContext {
        self.resource.as_deref().expect(EVERY_FIELD_SET)
    }

    /// The selected route: `$connect`, `$disconnect`, `$default` or a custom
    /// route key such as `sendmessage`.
    pub fn route_key(&self) -> &str {
        self.route_key.get_or_init(|| self.resource().route_key())
    }

    /// Which kind of event this is.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The connection the event is about: an opaque, URL-safe string.
    pub fn connection_id(&self) -> &str {
        self.connection_id
            .get_or_init(|| self.resource().connection_id())
    }

    /// Unique per message; `None` for connect and disconnect events.
    pub fn message_id(&self) -> Option<&str> {
        self.message_id
            .get_or_init(|| self.resource().message_id())
            .as_deref()
    }

    /// Unique per event.
    pub fn request_id(&self) -> &str {
        self.request_id.get_or_init(|| self.resource().request_id())
    }

    /// When the connection was accepted, in milliseconds since the Unix epoch
    /// (`connectedAt`).
    pub fn connected_at(&self) -> u64 {
        *self
            .connected_at
            .get_or_init(|| self.resource().connected_at())
    }

    /// When this event was received, in milliseconds since the Unix epoch
    /// (`requestTimeEpoch`).
    pub fn request_time(&self) -> u64 {
        *self
            .request_time
            .get_or_init(|| self.resource().request_time_epoch())
    }

    /// The client's IP address.
    pub fn source_ip(&self) -> &str {
        self.source_ip.get_or_init(|| self.resource().source_ip())
    }

    /// The client's `User-Agent`, empty when it sent none.
    pub fn user_agent(&self) -> &str {
        self.user_agent.get_or_init(|| self.resource().user_agent())
    }

    /// The `Host` the client connected to.
    pub fn domain_name(&self) -> &str {
        self.domain_name
            .get_or_init(|| self.resource().domain_name())
    }

    /// The deployment stage, empty unless configured.
    pub fn stage(&self) -> &str {
        self.stage.get_or_init(|| self.resource().stage())
    }

    /// A value of the connection context that `$connect` set with
    /// [`Accept::context`](crate::Accept::context); always `None` during
    /// `$connect`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.context_values.value(
            &self.connection_context,
            key,
            |a, b| a == b,
            || self.resource().connection_context_value(key),
            || self.resource().connection_context(),
        )
    }

    /// The whole connection context, in the order `$connect` set it.
    pub fn connection_context(&self) -> &[(String, String)] {
        self.connection_context
            .get_or_init(|| self.resource().connection_context())
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
    /// The name AWS gives it in lower case: `connect`, `message` or
    /// `disconnect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Message => "message",
            Self::Disconnect => "disconnect",
        }
    }
}

/// The HTTP upgrade request a `$connect` handler decides on. A handler gets
/// it by reference, for the one call it is valid in.
pub struct ConnectRequest {
    /// What a field not read yet is asked of; none for plain values.
    resource: Option<ManuallyDrop<wit_event::ConnectRequest>>,
    method: OnceCell<String>,
    path: OnceCell<String>,
    headers: OnceCell<Vec<(String, String)>>,
    query: OnceCell<Vec<(String, String)>>,
    subprotocols: OnceCell<Vec<String>>,
    /// Headers asked one name at a time.
    header_values: Asked,
    /// Query parameters asked one name at a time.
    query_values: Asked,
}

impl ConnectRequest {
    /// Wraps the request the gateway lent to this call, as
    /// [`RequestContext::lent`] does.
    pub(crate) fn lent(resource: &wit_event::ConnectRequest) -> Self {
        Self {
            // SAFETY: see "Lent handles" at the top of this module.
            resource: Some(ManuallyDrop::new(unsafe {
                wit_event::ConnectRequest::from_handle(resource.handle())
            })),
            method: OnceCell::new(),
            path: OnceCell::new(),
            headers: OnceCell::new(),
            query: OnceCell::new(),
            subprotocols: OnceCell::new(),
            header_values: Asked::default(),
            query_values: Asked::default(),
        }
    }

    /// The lent resource, to ask it a field not read yet.
    fn resource(&self) -> &wit_event::ConnectRequest {
        self.resource.as_deref().expect(EVERY_FIELD_SET)
    }

    /// The HTTP method (`GET`).
    pub fn method(&self) -> &str {
        self.method.get_or_init(|| self.resource().method())
    }

    /// The request path, without the query string.
    pub fn path(&self) -> &str {
        self.path.get_or_init(|| self.resource().path())
    }

    /// The first value of a header; the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values.value(
            &self.headers,
            name,
            |a, b| a.eq_ignore_ascii_case(b),
            || self.resource().header(name),
            || self.resource().headers(),
        )
    }

    /// The first value of a query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_values.value(
            &self.query,
            name,
            |a, b| a == b,
            || self.resource().query_param(name),
            || self.resource().query_params(),
        )
    }

    /// Every header, in order, names in lower case.
    pub fn headers(&self) -> &[(String, String)] {
        self.headers.get_or_init(|| self.resource().headers())
    }

    /// Every query parameter, in order, decoded.
    pub fn query_parameters(&self) -> &[(String, String)] {
        self.query.get_or_init(|| self.resource().query_params())
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn subprotocols(&self) -> &[String] {
        self.subprotocols
            .get_or_init(|| self.resource().offered_subprotocols())
    }
}

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    payload: Payload,
}

impl Message {
    /// A message with this payload, as the gateway would hand it over.
    pub fn new(payload: impl Into<Payload>) -> Self {
        Self {
            payload: payload.into(),
        }
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

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    code: u16,
    reason: String,
    initiator: Initiator,
}

impl Disconnect {
    /// An end of a connection, as the gateway would report it.
    pub fn new(code: u16, reason: impl Into<String>, initiator: Initiator) -> Self {
        Self {
            code,
            reason: reason.into(),
            initiator,
        }
    }

    /// The WebSocket close code: 1005 when the client sent none, 1006 when the
    /// connection dropped without a close frame.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The close reason, possibly empty.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Who ended the connection.
    pub fn initiator(&self) -> Initiator {
        self.initiator
    }
}

impl From<wit::DisconnectInfo> for Disconnect {
    fn from(info: wit::DisconnectInfo) -> Self {
        Self::new(info.code, info.reason, info.initiator.into())
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

impl From<wit::CloseInitiator> for Initiator {
    fn from(initiator: wit::CloseInitiator) -> Self {
        match initiator {
            wit::CloseInitiator::Client => Self::Client,
            wit::CloseInitiator::Handler => Self::Handler,
            wit::CloseInitiator::Api => Self::Api,
            wit::CloseInitiator::Server => Self::Server,
            wit::CloseInitiator::IdleTimeout => Self::IdleTimeout,
            wit::CloseInitiator::PingTimeout => Self::PingTimeout,
            wit::CloseInitiator::MaxDuration => Self::MaxDuration,
            wit::CloseInitiator::Shutdown => Self::Shutdown,
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
