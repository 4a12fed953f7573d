//! The records the access log writes: an event's, and a hot swap's, each
//! formatted as one JSON object or one `key=value` line.

use std::time::Duration;

use super::AccessLogFormat;
use crate::clock::write_iso8601;
use crate::connection::{Connection, DisconnectInfo, EventToken};
use crate::event::{EventType, RequestContext, RouteKey};

/// How one event ended, as the access log and the metrics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handled; the status is the `$connect` handler's (or 200).
    Status(u16),
    /// No route matched and there is no `$default`: 403.
    NoRoute,
    /// A rate limit, the connection's or its route's, refused it: 429.
    Throttled,
    /// The handler trapped (panic, deadline, memory cap): 500.
    Trapped(String),
    /// The handler returned an error: 500, or the status of its kind.
    Failed {
        /// 400, 403, 429, 503 or 500.
        status: u16,
        /// The error, as logged.
        message: String,
    },
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
            Outcome::Failed { status, .. } => *status,
            Outcome::Trapped(_) | Outcome::Invalid(_) => 500,
        }
    }

    /// What went wrong, if anything.
    pub fn error_message(&self) -> Option<&str> {
        match self {
            Outcome::Status(_) => None,
            Outcome::NoRoute => Some("Forbidden"),
            Outcome::Throttled => Some("Too many requests"),
            Outcome::Trapped(message) | Outcome::Failed { message, .. } => Some(message),
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
    pub route_key: RouteKey,
    /// Connect, message or disconnect.
    pub event_type: EventType,
    /// Unique per event.
    pub request_id: EventToken,
    /// Unique per message (messages only).
    pub message_id: Option<EventToken>,
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
            route_key: context.route_key,
            event_type: context.event_type,
            request_id: context.request_id,
            message_id: context.message_id,
            request_time: context.request_time,
            outcome: Outcome::Status(200),
            integration_latency: None,
            message_bytes: 0,
            replied: false,
            disconnect: None,
        }
    }

    /// The line's fields, in order, borrowed from the record.
    fn fields(&self) -> [(&'static str, Value<'_>); 14] {
        let peer = self.connection.peer();
        let disconnect = self.disconnect.as_ref();
        let latency_ms = self
            .integration_latency
            .map(|latency| (latency.as_secs_f64() * 1e6).round() / 1e3);
        [
            ("requestId", Value::Text(self.request_id.as_str())),
            ("connectionId", Value::Text(self.connection.id().as_str())),
            ("routeKey", Value::Text(self.route_key)),
            ("eventType", Value::Text(self.event_type.as_str())),
            (
                "messageId",
                self.message_id.as_ref().map(EventToken::as_str).into(),
            ),
            ("status", Value::Number(self.outcome.status().into())),
            ("sourceIp", Value::Text(&peer.source_ip)),
            ("userAgent", Value::Text(&peer.user_agent)),
            ("requestTime", Value::Time(self.request_time)),
            ("requestTimeEpoch", Value::Number(self.request_time)),
            (
                "integrationLatency",
                latency_ms.map_or(Value::None, Value::Float),
            ),
            ("errorMessage", self.outcome.error_message().into()),
            (
                "disconnectStatusCode",
                disconnect.map_or(Value::None, |info| Value::Number(info.code.into())),
            ),
            (
                "disconnectReason",
                disconnect.map(|info| info.reason.as_str()).into(),
            ),
        ]
    }

    /// Appends the record as one line, newline included.
    pub fn write_line(&self, format: AccessLogFormat, out: &mut Vec<u8>) {
        write_line(&self.fields(), format, out);
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
    /// Appends the record as one line, newline included.
    pub fn write_line(&self, format: AccessLogFormat, out: &mut Vec<u8>) {
        let fields = [
            ("eventType", Value::Text("SWAP")),
            ("routeKey", Value::Text(self.route_key)),
            ("change", Value::Text(self.change)),
            ("component", self.component.into()),
            ("version", self.version.into()),
            (
                "generation",
                self.generation.map_or(Value::None, Value::Number),
            ),
            ("requestTime", Value::Time(self.time)),
            ("requestTimeEpoch", Value::Number(self.time)),
        ];
        write_line(&fields, format, out);
    }
}

/// One field's value, borrowed from the record it describes.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    /// Absent: JSON `null`, text `-`.
    None,
    Text(&'a str),
    Number(u64),
    Float(f64),
    /// Milliseconds since the Unix epoch, written as ISO-8601.
    Time(u64),
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Value::None, Value::Text)
    }
}

impl Value<'_> {
    fn write_json(self, out: &mut Vec<u8>) {
        match self {
            Value::None => out.extend_from_slice(b"null"),
            Value::Text(text) => json_string(text, out),
            Value::Number(number) => {
                out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes())
            }
            Value::Float(number) => {
                let _ = serde_json::to_writer(&mut *out, &number);
            }
            Value::Time(at) => {
                out.push(b'"');
                write_iso8601(at, out);
                out.push(b'"');
            }
        }
    }

    /// `-` for none, quoted (as JSON) when it has spaces, quotes or `=`, or
    /// is empty.
    fn write_text(self, out: &mut Vec<u8>) {
        match self {
            Value::None => out.push(b'-'),
            Value::Text(text)
                if text.is_empty()
                    || text.contains(|c: char| c.is_whitespace() || c == '"' || c == '=') =>
            {
                json_string(text, out);
            }
            Value::Text(text) => out.extend_from_slice(text.as_bytes()),
            Value::Time(at) => write_iso8601(at, out),
            other => other.write_json(out),
        }
    }
}

/// `text` as a JSON string, escaped.
fn json_string(text: &str, out: &mut Vec<u8>) {
    // Writing to a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Appends the fields as one JSON object or one `key=value` line, newline
/// included.
fn write_line(fields: &[(&str, Value<'_>)], format: AccessLogFormat, out: &mut Vec<u8>) {
    for (index, (name, value)) in fields.iter().enumerate() {
        match format {
            AccessLogFormat::Json => {
                out.push(if index == 0 { b'{' } else { b',' });
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                value.write_json(out);
            }
            AccessLogFormat::Text => {
                if index > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                value.write_text(out);
            }
        }
    }
    if format == AccessLogFormat::Json {
        out.push(b'}');
    }
    out.push(b'\n');
}
