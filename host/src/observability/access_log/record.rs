//! The records the access log writes: an event's, and a hot swap's, each
//! formatted as one JSON object or one `key=value` line.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::AccessLogFormat;
use crate::clock::iso8601;
use crate::connection::{Connection, DisconnectInfo};
use crate::event::{EventType, RequestContext};

/// How one event ended, as the access log and the metrics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handled; the status is the `$connect` handler's (or 200).
    Status(u16),
    /// No route matched and there is no `$default`: 403.
    NoRoute,
    /// The route is over its rate limit: 429.
    Throttled,
    /// The handler trapped (panic, deadline, memory cap): 500.
    Trapped(String),
    /// The handler returned an error: 500.
    Failed(String),
    /// The handler answered something the gateway cannot use: 500.
    Invalid(&'static str),
}

impl Outcome {
    /// The HTTP-style status AWS logs for the event.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Status(status) => *status,
            Outcome::NoRoute => 403,
            Outcome::Throttled => 429,
            Outcome::Trapped(_) | Outcome::Failed(_) | Outcome::Invalid(_) => 500,
        }
    }

    /// What went wrong, if anything.
    pub fn error_message(&self) -> Option<&str> {
        match self {
            Outcome::Status(_) => None,
            Outcome::NoRoute => Some("Forbidden"),
            Outcome::Throttled => Some("Too many requests"),
            Outcome::Trapped(message) | Outcome::Failed(message) => Some(message),
            Outcome::Invalid(message) => Some(message),
        }
    }
}

/// What is recorded about one event: the access log's line and the metrics'
/// observations.
#[derive(Debug)]
pub struct EventRecord<'a> {
    /// The connection the event belongs to.
    pub connection: &'a Connection,
    /// The route that took it (`-` for a message no route took).
    pub route_key: String,
    /// Connect, message or disconnect.
    pub event_type: EventType,
    /// Unique per event.
    pub request_id: String,
    /// Unique per message (messages only).
    pub message_id: Option<String>,
    /// When the event arrived (ms since the Unix epoch).
    pub request_time: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// How long the handler ran, if one ran.
    pub integration_latency: Option<Duration>,
    /// The message's size in bytes (messages only).
    pub message_bytes: usize,
    /// Whether a route response or an error frame went back to the sender.
    pub replied: bool,
    /// How the connection ended (disconnects only).
    pub disconnect: Option<DisconnectInfo>,
}

impl<'a> EventRecord<'a> {
    /// A record of the event `context` describes, handled with status 200
    /// until told otherwise.
    pub fn new(connection: &'a Connection, context: &RequestContext) -> Self {
        EventRecord {
            connection,
            route_key: context.route_key.clone(),
            event_type: context.event_type,
            request_id: context.request_id.clone(),
            message_id: context.message_id.clone(),
            request_time: context.request_time,
            outcome: Outcome::Status(200),
            integration_latency: None,
            message_bytes: 0,
            replied: false,
            disconnect: None,
        }
    }

    /// The line's fields, in order.
    fn fields(&self) -> [(&'static str, Value); 14] {
        let peer = self.connection.peer();
        let disconnect = self.disconnect.as_ref();
        let latency_ms = self
            .integration_latency
            .map(|latency| (latency.as_secs_f64() * 1e6).round() / 1e3);
        [
            ("requestId", self.request_id.as_str().into()),
            ("connectionId", self.connection.id().as_str().into()),
            ("routeKey", self.route_key.as_str().into()),
            ("eventType", self.event_type.as_str().into()),
            ("messageId", self.message_id.as_deref().into()),
            ("status", self.outcome.status().into()),
            ("sourceIp", peer.source_ip.as_str().into()),
            ("userAgent", peer.user_agent.as_str().into()),
            ("requestTime", iso8601(self.request_time).into()),
            ("requestTimeEpoch", self.request_time.into()),
            ("integrationLatency", latency_ms.into()),
            ("errorMessage", self.outcome.error_message().into()),
            (
                "disconnectStatusCode",
                disconnect.map(|info| info.code).into(),
            ),
            (
                "disconnectReason",
                disconnect.map(|info| info.reason.as_str()).into(),
            ),
        ]
    }

    /// The record as one line, newline included.
    pub fn line(&self, format: AccessLogFormat) -> String {
        format_line(&self.fields(), format)
    }
}

/// A route's component changed by hot swap: logged beside the events.
#[derive(Debug)]
pub struct SwapRecord<'a> {
    /// The route.
    pub route_key: &'a str,
    /// `bound`, `swapped` or `unbound`.
    pub change: &'static str,
    /// The file name of the component now serving the route (none once
    /// unbound).
    pub component: Option<&'a str>,
    /// Its version: the hex SHA-256 of the file.
    pub version: Option<&'a str>,
    /// The route's generation (none once unbound).
    pub generation: Option<u64>,
    /// When (ms since the Unix epoch).
    pub time: u64,
}

impl SwapRecord<'_> {
    /// The record as one line, newline included.
    pub fn line(&self, format: AccessLogFormat) -> String {
        let fields = [
            ("eventType", "SWAP".into()),
            ("routeKey", self.route_key.into()),
            ("change", self.change.into()),
            ("component", self.component.into()),
            ("version", self.version.into()),
            ("generation", self.generation.into()),
            ("requestTime", iso8601(self.time).into()),
            ("requestTimeEpoch", self.time.into()),
        ];
        format_line(&fields, format)
    }
}

/// Fields as one JSON object or one `key=value` line, newline included.
fn format_line(fields: &[(&str, Value)], format: AccessLogFormat) -> String {
    let mut line = String::new();
    for (index, (name, value)) in fields.iter().enumerate() {
        match format {
            AccessLogFormat::Json => {
                line.push(if index == 0 { '{' } else { ',' });
                let _ = write!(line, "\"{name}\":{value}");
            }
            AccessLogFormat::Text => {
                if index > 0 {
                    line.push(' ');
                }
                let _ = write!(line, "{name}={}", text_value(value));
            }
        }
    }
    if format == AccessLogFormat::Json {
        line.push('}');
    }
    line.push('\n');
    line
}

/// A value in a `key=value` line: `-` for none, quoted when it has spaces,
/// quotes or `=`, or is empty.
fn text_value(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text)
            if text.is_empty()
                || text.contains(|c: char| c.is_whitespace() || c == '"' || c == '=') =>
        {
            value.to_string()
        }
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
