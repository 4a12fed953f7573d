//! Routing: turning a connection's upgrade, messages and end into events, picking
//! the route for each, running its plugin and interpreting the answer.

mod context;
mod decision;
mod error_frame;
mod selection;
mod table;

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use tokio_tungstenite::tungstenite::Message;

pub use decision::ConnectDecision;
pub use error_frame::ErrorFrame;
pub use selection::{InvalidSelection, RouteSelection};
pub use table::{CONNECT, DEFAULT, DISCONNECT, Route, RouteTable};

use crate::clock::now_ms;
use crate::connection::{Connection, DisconnectInfo};
use crate::event::{ConnectRequest, Event, EventKind, EventType, Payload, Response, intern};
use crate::observability::access_log::{AccessLog, EventRecord, Outcome, SwapRecord};
use crate::observability::live_tail::LiveTail;
use crate::observability::metrics::{Metrics, RouteMetrics};
use crate::observability::swap_history::SwapHistory;
use crate::runtime::{FailureKind, HandlerError};

/// The route key recorded for a message that no route took.
pub const NO_ROUTE: &str = "-";

/// What became of a message.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// A handler ran (or none matched); send this back to the sender, if anything.
    Handled(Option<Message>),
    /// The route is over its rate limit; send this error frame back.
    Throttled(Message),
}

impl Delivery {
    /// The payload bytes going back to the sender, if anything does.
    fn reply_len(&self) -> Option<usize> {
        match self {
            Delivery::Handled(Some(reply)) | Delivery::Throttled(reply) => Some(reply.len()),
            Delivery::Handled(None) => None,
        }
    }
}

/// Routes a connection's events to plugins, and records each in the access
/// log and the metrics.
///
/// Each event reads the route table once, when it starts, and keeps its
/// plugin until it is done: a swap affects the next event of every
/// connection, never one in flight.
#[derive(Debug)]
pub struct Router {
    table: ArcSwap<RouteTable>,
    selection: RouteSelection,
    stage: &'static str,
    /// The largest route response a client may be sent.
    max_message_size: usize,
    metrics: Arc<Metrics>,
    /// The series of messages no route took.
    no_route: RouteMetrics,
    access_log: AccessLog,
    /// The access log's records, to whoever watches them.
    tail: LiveTail,
    /// The route table's recent changes.
    swaps: SwapHistory,
}

impl Router {
    /// A router over `table` that picks message routes with `selection` and
    /// refuses route responses over `max_message_size` bytes.
    pub fn new(
        table: RouteTable,
        selection: RouteSelection,
        stage: String,
        max_message_size: usize,
        metrics: Arc<Metrics>,
        access_log: AccessLog,
    ) -> Self {
        let swaps = SwapHistory::default();
        table.bindings().for_each(|binding| swaps.record(&binding));
        Router {
            table: ArcSwap::from_pointee(table),
            selection,
            stage: intern(&stage),
            max_message_size,
            no_route: metrics.unrouted(NO_ROUTE),
            metrics,
            tail: LiveTail::new(access_log.api_id()),
            access_log,
            swaps,
        }
    }

    /// Where events are logged.
    pub fn access_log(&self) -> &AccessLog {
        &self.access_log
    }

    /// The access log's records, live, for whoever watches.
    pub fn tail(&self) -> &LiveTail {
        &self.tail
    }

    /// The route table's recent changes.
    pub fn swaps(&self) -> &SwapHistory {
        &self.swaps
    }

    /// Records a change hot swap made to a route: in the access log, the
    /// live tail and the swap history.
    pub fn log_swap(&self, record: &SwapRecord<'_>) {
        self.access_log.swap(record);
        self.tail.swap(record);
        self.swaps.record(record);
    }

    /// The current route table.
    pub fn table(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Switches every connection's next event to `table`.
    pub fn swap(&self, table: Arc<RouteTable>) {
        self.table.store(table);
    }

    /// The route currently bound to `key`.
    fn route(&self, key: &str) -> Option<Route> {
        self.table.load().get(key).cloned()
    }

    /// Runs `$connect` (accepting when there is none).
    pub async fn connect(
        &self,
        connection: &Arc<Connection>,
        request: ConnectRequest,
    ) -> ConnectDecision {
        let context = self.context(connection, CONNECT, EventType::Connect, None, now_ms());
        let mut record = EventRecord::new(connection, &context);
        let route = self.route(CONNECT);
        let decision = match &route {
            Some(route) => {
                let offered = request.subprotocols.clone();
                let event = Event {
                    context,
                    kind: EventKind::Connect(request),
                };
                match self.invoke(route, event, &mut record).await {
                    Ok(response) => {
                        decision::decide(connection, &route.plugin, response, &offered, &mut record)
                    }
                    Err(HandlerError::Failed(failure)) => ConnectDecision::failed(&failure),
                    Err(HandlerError::Trapped(_)) => ConnectDecision::internal_error(),
                }
            }
            None => ConnectDecision::accept(),
        };
        record.response_length = Some(decision.body_len());
        self.report(&record, route.as_ref().map(|route| &route.metrics));
        decision
    }

    /// Routes one message, received at `received_at` (ms since the Unix
    /// epoch); says what to send back to the sender (the route response or an
    /// error frame), if anything. A message its connection's own rate limit
    /// refused (`within_rate` false) is recorded as one its route's limit
    /// refuses: status 429, under the route it was for, its bytes counted.
    pub async fn message(
        &self,
        connection: &Arc<Connection>,
        payload: Payload,
        received_at: u64,
        within_rate: bool,
    ) -> Delivery {
        // The event keeps the table it started with (one reference count),
        // and borrows its route from it.
        let table = self.table.load_full();
        let bound = self.select(&table, &payload);
        // The route in hand holds its limit: no second lookup by key. A
        // message the connection's limit refused takes no token of it.
        let admitted = within_rate && bound.is_none_or(Route::admit);
        let context = self.message_context(connection, bound, received_at);
        let mut record = EventRecord::new(connection, &context);
        record.message_bytes = payload.len();
        let id = connection.id().as_str();
        let delivery = match bound {
            _ if !admitted => Delivery::Throttled(throttle(&mut record)),
            None => {
                record.outcome = Outcome::NoRoute;
                Delivery::Handled(Some(
                    ErrorFrame::Forbidden.to_message(id, record.request_id.as_str()),
                ))
            }
            Some(bound) => {
                let event = Event {
                    context,
                    kind: EventKind::Message(payload),
                };
                let reply = match self.invoke(bound, event, &mut record).await {
                    Ok(response) => self.route_response(response.body, bound, &mut record),
                    Err(HandlerError::Failed(failure)) if failure.kind != FailureKind::Internal => {
                        Err(self.refusal(failure.message, bound, &mut record))
                    }
                    Err(_) => Err(ErrorFrame::InternalServerError),
                };
                Delivery::Handled(match reply {
                    Ok(body) => body.map(Message::from),
                    Err(frame) => Some(frame.to_message(id, record.request_id.as_str())),
                })
            }
        };
        record.response_length = delivery.reply_len();
        self.report(&record, Some(self.series(bound)));
        delivery
    }

    /// The series a message counts in: its route's, or those of messages no
    /// route took.
    fn series<'r>(&'r self, bound: Option<&'r Route>) -> &'r RouteMetrics {
        bound.map_or(&self.no_route, |route| &route.metrics)
    }

    /// A handler's route response, unless it is over the maximum message
    /// size: then it is never written, the event counts as a handler error
    /// and the sender gets an error frame naming the limit.
    fn route_response(
        &self,
        body: Option<Payload>,
        route: &Route,
        record: &mut EventRecord<'_>,
    ) -> Result<Option<Payload>, ErrorFrame> {
        match body {
            Some(body) if body.len() > self.max_message_size => {
                let problem = "the route response is larger than the maximum message size";
                tracing::error!(connection = %record.connection.id(), route = %record.route_key,
                    plugin = route.plugin.name(), bytes = body.len(), limit = self.max_message_size, "{problem}");
                record.outcome = Outcome::Invalid(problem);
                Err(ErrorFrame::ResponseTooLarge(self.max_message_size))
            }
            body => Ok(body),
        }
    }

    /// The error frame for a handler's refusal: its text, unless that is
    /// over the maximum message size, which bounds what the gateway sends a
    /// client whoever wrote it; then the event is the handler's mistake, as
    /// for an oversized route response.
    fn refusal(&self, message: String, route: &Route, record: &mut EventRecord<'_>) -> ErrorFrame {
        if message.len() <= self.max_message_size {
            return ErrorFrame::Refused(message);
        }
        let problem = "the handler's error text is larger than the maximum message size";
        tracing::error!(connection = %record.connection.id(), route = %record.route_key,
            plugin = route.plugin.name(), bytes = message.len(), limit = self.max_message_size, "{problem}");
        record.outcome = Outcome::Invalid(problem);
        ErrorFrame::ResponseTooLarge(self.max_message_size)
    }

    /// Runs `$disconnect`, if bound, for a connection that has ended.
    pub async fn disconnect(&self, connection: &Arc<Connection>, info: DisconnectInfo) {
        let context = self.context(
            connection,
            DISCONNECT,
            EventType::Disconnect,
            None,
            now_ms(),
        );
        let mut record = EventRecord::new(connection, &context);
        record.disconnect = Some(info.clone());
        let route = self.route(DISCONNECT);
        if let Some(route) = &route {
            let event = Event {
                context,
                kind: EventKind::Disconnect(info),
            };
            let _ = self.invoke(route, event, &mut record).await;
        }
        self.report(&record, route.as_ref().map(|route| &route.metrics));
    }

    /// Runs `event` through `route`'s plugin with the route's grants, timing
    /// it; a failure is logged and recorded.
    async fn invoke(
        &self,
        route: &Route,
        event: Event,
        record: &mut EventRecord<'_>,
    ) -> Result<Response, HandlerError> {
        let started = Instant::now();
        let plugin = &route.plugin;
        let outcome = plugin.handle(event, &route.grants).await;
        record.integration_latency = Some(started.elapsed());
        record.integration_status = match &outcome {
            Ok(response) => Some(response.status),
            Err(HandlerError::Failed(failure)) => Some(failure.kind.status()),
            Err(HandlerError::Trapped(_)) => None,
        };
        if let Err(error) = &outcome {
            match error {
                // An error the client is told of is the handler's answer,
                // not the gateway's problem.
                HandlerError::Failed(failure) if failure.kind != FailureKind::Internal => {
                    tracing::debug!(connection = %record.connection.id(), route = %record.route_key,
                        plugin = plugin.name(), request_id = %record.request_id, kind = ?failure.kind, %error, "handler refused")
                }
                _ => {
                    tracing::error!(connection = %record.connection.id(), route = %record.route_key,
                    plugin = plugin.name(), request_id = %record.request_id, %error, "handler failed")
                }
            }
            record.outcome = Outcome::from(error);
        }
        outcome
    }

    /// Writes the event's access log line and counts it in the metrics and
    /// in `route`'s series.
    fn report(&self, record: &EventRecord<'_>, route: Option<&RouteMetrics>) {
        self.metrics.record(record, route);
        self.access_log.write(record);
        self.tail.event(record);
    }

    /// The route a message goes to: the one its route key names if bound,
    /// otherwise `$default`; none if neither exists.
    fn select<'t>(&self, table: &'t RouteTable, payload: &Payload) -> Option<&'t Route> {
        if let (true, Payload::Text(text)) = (table.has_custom_routes(), payload)
            && let Some(key) = self.selection.route_key(text)
            && let Some(route) = table.get(&key)
        {
            return Some(route);
        }
        table.get(DEFAULT)
    }
}

/// Records a message a rate limit refused, the connection's or its route's,
/// and returns the error frame for its sender, which names the record's
/// request id.
fn throttle(record: &mut EventRecord<'_>) -> Message {
    record.outcome = Outcome::Throttled;
    let id = record.connection.id().as_str();
    ErrorFrame::TooManyRequests.to_message(id, record.request_id.as_str())
}

/// How a failed handler call is logged.
impl From<&HandlerError> for Outcome {
    fn from(error: &HandlerError) -> Self {
        match error {
            HandlerError::Trapped(_) => Outcome::trapped(error.to_string()),
            HandlerError::Failed(failure) => {
                Outcome::failed(failure.kind.status(), error.to_string())
            }
        }
    }
}
