//! The records the access log writes: an event's, and a hot swap's, each
//! formatted as one JSON object, one `key=value` line or (events only) the
//! operator's template.

use std::time::Duration;

use super::AccessLogFormat;
use super::line::{Field, Value, write_json_line, write_line};
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

/// `text` cut to [`MAX_ERROR_TEXT`] bytes on a character boundary, with an
/// ellipsis where it was cut.
fn bounded(mut text: String) -> String {
    if text.len() > MAX_ERROR_TEXT {
        text.truncate(text.floor_char_boundary(MAX_ERROR_TEXT));
        text.push('…');
    }
    text
}

/// The most bytes of a handler's error text a record keeps: the text is the
/// guest's own, as long as it likes, and every log line, every line of the
/// live tail's ring and the metrics' error counts go through the record.
pub const MAX_ERROR_TEXT: usize = 1024;

impl Outcome {
    /// A trap, its text cut to [`MAX_ERROR_TEXT`].
    pub fn trapped(text: String) -> Self {
        Outcome::Trapped(bounded(text))
    }

    /// A handler's error of `status`, its text cut to [`MAX_ERROR_TEXT`].
    pub fn failed(status: u16, text: String) -> Self {
        Outcome::Failed {
            status,
            message: bounded(text),
        }
    }

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

    /// The handler's failure, if it failed: what AWS calls the integration's
    /// error (`$context.integrationErrorMessage`).
    pub fn integration_error(&self) -> Option<&str> {
        match self {
            Outcome::Trapped(message) | Outcome::Failed { message, .. } => Some(message),
            Outcome::Invalid(message) => Some(message),
            Outcome::Status(_) | Outcome::NoRoute | Outcome::Throttled => None,
        }
    }

    /// AWS's gateway response type (`$context.error.responseType`) of the
    /// error answer the gateway made itself; none when it made none (a
    /// handler's own error status is its answer, passed on).
    pub fn response_type(&self) -> Option<&'static str> {
        match self {
            Outcome::Status(_) | Outcome::Failed { .. } => None,
            Outcome::NoRoute => Some("DEFAULT_4XX"),
            Outcome::Throttled => Some("THROTTLED"),
            Outcome::Trapped(_) | Outcome::Invalid(_) => Some("INTEGRATION_FAILURE"),
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
    /// The deployment stage (empty: none).
    pub stage: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// How long the handler ran, if one ran.
    pub integration_latency: Option<Duration>,
    /// The status the handler answered, if it answered: its `$connect`
    /// status, 200 for a message or disconnect it handled, the status of the
    /// error it returned; none when no handler ran or it trapped.
    pub integration_status: Option<u16>,
    /// The message's size in bytes (messages only).
    pub message_bytes: usize,
    /// The bytes sent back to the client in answer: the body of the
    /// upgrade's answer (0 for a 101), a message's route response or error
    /// frame; none when nothing went back.
    pub response_length: Option<usize>,
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
            stage: context.stage,
            outcome: Outcome::Status(200),
            integration_latency: None,
            integration_status: None,
            message_bytes: 0,
            response_length: None,
            disconnect: None,
        }
    }

    /// The value of `field`, borrowed from the record; `api_id` is the
    /// log's.
    pub(super) fn value<'r>(&'r self, field: Field, api_id: Option<&'r str>) -> Value<'r> {
        let peer = self.connection.peer();
        let disconnect = self.disconnect.as_ref();
        // The upgrade is the only HTTP request of a connection; AWS logs
        // HTTP/1.1 whatever the client spoke.
        let upgrade = |text| match self.event_type {
            EventType::Connect => Value::Plain(text),
            EventType::Message | EventType::Disconnect => Value::None,
        };
        let number = |number: Option<u64>| number.map_or(Value::None, Value::Number);
        match field {
            Field::RequestId | Field::ExtendedRequestId => Value::Plain(self.request_id.as_str()),
            Field::ConnectionId => Value::Plain(self.connection.id().as_str()),
            Field::RouteKey => Value::Text(self.route_key),
            Field::EventType => Value::Plain(self.event_type.as_str()),
            Field::MessageId => self
                .message_id
                .as_ref()
                .map_or(Value::None, |id| Value::Plain(id.as_str())),
            Field::Status => Value::Number(self.outcome.status().into()),
            // An address the gateway formatted.
            Field::SourceIp => Value::Plain(&peer.source_ip),
            Field::UserAgent => Value::Text(&peer.user_agent),
            Field::RequestTime => Value::Time(self.request_time),
            Field::RequestTimeEpoch => Value::Number(self.request_time),
            Field::IntegrationLatency => self.integration_latency.map_or(Value::None, |latency| {
                // Milliseconds, to the microsecond.
                Value::Micros((latency.as_nanos() as u64 + 500) / 1000)
            }),
            Field::ErrorMessage => self.outcome.error_message().into(),
            Field::DisconnectStatusCode => number(disconnect.map(|info| info.code.into())),
            Field::DisconnectReason => disconnect.map(|info| info.reason.as_str()).into(),
            Field::ApiId => api_id.into(),
            Field::Stage => Some(self.stage).filter(|stage| !stage.is_empty()).into(),
            Field::DomainName => Value::Text(&peer.domain_name),
            Field::ConnectedAt => Value::Number(self.connection.connected_at()),
            Field::HttpMethod => upgrade("GET"),
            Field::Protocol => upgrade("HTTP/1.1"),
            Field::ResponseLength => number(self.response_length.map(|bytes| bytes as u64)),
            Field::IntegrationStatus => number(self.integration_status.map(u64::from)),
            Field::IntegrationErrorMessage => self.outcome.integration_error().into(),
            Field::ErrorResponseType => self
                .outcome
                .response_type()
                .map_or(Value::None, Value::Plain),
        }
    }

    /// Appends the record as one line in `format`, newline included;
    /// `api_id` is the log's.
    pub fn write_line(&self, format: &AccessLogFormat, api_id: Option<&str>, out: &mut Vec<u8>) {
        let value = |field| self.value(field, api_id);
        match format {
            AccessLogFormat::Json => write_json_line(value, out),
            AccessLogFormat::Text => {
                let fields = Field::LINE.map(|field| (field.name(), value(field)));
                write_line(fields, false, out);
            }
            AccessLogFormat::Template(template) => template.render(self, api_id, out),
        }
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
    /// Appends the record as one line, newline included; nothing with a
    /// template, which has AWS's events only (the gateway's own log and
    /// `wsgate_plugin_swaps_total` still tell of the swap).
    pub fn write_line(&self, format: &AccessLogFormat, out: &mut Vec<u8>) {
        let json = match format {
            AccessLogFormat::Json => true,
            AccessLogFormat::Text => false,
            AccessLogFormat::Template(_) => return,
        };
        let fields = [
            ("eventType", Value::Plain("SWAP")),
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
        write_line(fields, json, out);
    }
}
