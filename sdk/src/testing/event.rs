//! The events a test hands a handler, built from plain values.

use crate::bindings::wsgate::gateway::types as wit;
use crate::event::{ConnectValues, ContextValues};
use crate::{ConnectRequest, EventType, RequestContext};

/// The [`RequestContext`] of an event a test runs: the builder of what the
/// gateway would lend the handler.
///
/// Every field has a plain default, so a test sets only what the handler
/// reads: connection id `connection-1`, request id `request-1`, message id
/// `message-1` (messages only), source IP `127.0.0.1`, domain name
/// `localhost`, empty user agent and stage, both times 0 and an empty
/// connection context.
///
/// ```
/// use wsgate_sdk::testing::Context;
///
/// let ctx = Context::message("sendmessage")
///     .connection_id("c1")
///     .context("room", "lobby");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Context {
    pub(super) event_type: EventType,
    pub(super) values: ContextValues,
}

impl Context {
    /// The context of a `$connect`.
    pub fn connect() -> Self {
        Self::new(EventType::Connect, "$connect", None)
    }

    /// The context of a message of route `route_key` (`$default` or a custom
    /// route such as `sendmessage`).
    pub fn message(route_key: impl Into<String>) -> Self {
        Self::new(EventType::Message, route_key, Some("message-1".into()))
    }

    /// The context of a `$disconnect`.
    pub fn disconnect() -> Self {
        Self::new(EventType::Disconnect, "$disconnect", None)
    }

    fn new(
        event_type: EventType,
        route_key: impl Into<String>,
        message_id: Option<String>,
    ) -> Self {
        Self {
            event_type,
            values: ContextValues {
                route_key: route_key.into(),
                connection_id: "connection-1".into(),
                request_id: "request-1".into(),
                message_id,
                connected_at: 0,
                request_time: 0,
                source_ip: "127.0.0.1".into(),
                user_agent: String::new(),
                domain_name: "localhost".into(),
                stage: String::new(),
                connection_context: Vec::new(),
            },
        }
    }

    /// The connection the event is about; the fake gateway knows it while
    /// the event runs.
    pub fn connection_id(mut self, id: impl Into<String>) -> Self {
        self.values.connection_id = id.into();
        self
    }

    /// The event's request id.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.values.request_id = id.into();
        self
    }

    /// The message's id.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.values.message_id = Some(id.into());
        self
    }

    /// When the connection was accepted, in milliseconds since the Unix
    /// epoch.
    pub fn connected_at(mut self, millis: u64) -> Self {
        self.values.connected_at = millis;
        self
    }

    /// When the event was received, in milliseconds since the Unix epoch.
    pub fn request_time(mut self, millis: u64) -> Self {
        self.values.request_time = millis;
        self
    }

    /// The client's IP address.
    pub fn source_ip(mut self, ip: impl Into<String>) -> Self {
        self.values.source_ip = ip.into();
        self
    }

    /// The client's `User-Agent`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.values.user_agent = user_agent.into();
        self
    }

    /// The `Host` the client connected to.
    pub fn domain_name(mut self, domain_name: impl Into<String>) -> Self {
        self.values.domain_name = domain_name.into();
        self
    }

    /// The deployment stage.
    pub fn stage(mut self, stage: impl Into<String>) -> Self {
        self.values.stage = stage.into();
        self
    }

    /// Adds a pair to the connection context, as `$connect` would have
    /// with [`Accept::context`](crate::Accept::context).
    pub fn context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.values
            .connection_context
            .push((key.into(), value.into()));
        self
    }

    pub(super) fn connection(&self) -> &str {
        &self.values.connection_id
    }

    /// What the gateway would answer `info` with for the event's connection.
    pub(super) fn info(&self) -> wit::ConnectionInfo {
        let values = &self.values;
        wit::ConnectionInfo {
            connection_id: values.connection_id.clone(),
            connected_at: values.connected_at,
            last_active_at: values.request_time,
            source_ip: values.source_ip.clone(),
            user_agent: values.user_agent.clone(),
            context: values.connection_context.clone(),
        }
    }

    /// The context a handler gets, for an event of `expected` type.
    pub(super) fn lend(&self, expected: EventType) -> RequestContext {
        assert_eq!(
            self.event_type,
            expected,
            "this is the context of a {} event, not of a {} one",
            self.event_type.as_str(),
            expected.as_str()
        );
        RequestContext::given(self.event_type, self.values.clone())
    }
}

/// The [`ConnectRequest`] of a `$connect` a test runs: by default a `GET` of
/// `/` with no headers, no query parameters and no subprotocols.
///
/// ```
/// use wsgate_sdk::testing::Connect;
///
/// let request = Connect::new()
///     .path("/chat")
///     .header("Authorization", "Bearer abc")
///     .query("room", "lobby")
///     .subprotocol("chat.v1");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Connect {
    values: ConnectValues,
}

impl Default for Connect {
    fn default() -> Self {
        Self::new()
    }
}

impl Connect {
    /// A `GET /` with nothing else.
    pub fn new() -> Self {
        Self {
            values: ConnectValues {
                method: "GET".into(),
                path: "/".into(),
                headers: Vec::new(),
                query: Vec::new(),
                subprotocols: Vec::new(),
            },
        }
    }

    /// The request path, without the query string.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.values.path = path.into();
        self
    }

    /// Adds a header; its name is kept in lower case, as the gateway gives it.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.values
            .headers
            .push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Adds a query parameter, decoded.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.query.push((name.into(), value.into()));
        self
    }

    /// Adds a subprotocol the client offers, after those added before.
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.values.subprotocols.push(name.into());
        self
    }

    /// The request a handler gets.
    pub(super) fn lend(&self) -> ConnectRequest {
        ConnectRequest::given(self.values.clone())
    }
}
