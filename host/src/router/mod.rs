//! Routing: turning a connection's upgrade, messages and end into events, picking
//! the route for each, running its plugin and interpreting the answer.

mod error_frame;
mod selection;
mod table;

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio_tungstenite::tungstenite::Message;

pub use error_frame::ErrorFrame;
pub use selection::{InvalidSelection, RouteSelection};
pub use table::{CONNECT, DEFAULT, DISCONNECT, Route, RouteTable};

use crate::connection::{Connection, now_ms, random_token};
use crate::event::{
    ConnectRequest, DisconnectInfo, Event, EventKind, EventType, Fields, Payload, RequestContext,
};
use crate::plugins::Plugin;

/// What `$connect` decided.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnectDecision {
    /// Answer the upgrade with 101.
    Accept {
        /// The subprotocol to confirm, one the client offered.
        subprotocol: Option<String>,
        /// The connection context for later events.
        context: Fields,
    },
    /// Answer the upgrade with this status and body.
    Reject {
        /// An HTTP status other than 2xx.
        status: u16,
        /// The response body.
        body: Vec<u8>,
    },
}

impl ConnectDecision {
    fn internal_error() -> Self {
        ConnectDecision::Reject {
            status: 500,
            body: b"Internal server error".to_vec(),
        }
    }
}

/// What became of a message.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// A handler ran (or none matched); send this back to the sender, if anything.
    Handled(Option<Message>),
    /// The route is over its rate limit; send this error frame back.
    Throttled(Message),
}

/// Routes a connection's events to plugins.
///
/// Each event reads the route table once, when it starts, and keeps its
/// plugin until it is done: a swap affects the next event of every
/// connection, never one in flight.
#[derive(Debug)]
pub struct Router {
    table: ArcSwap<RouteTable>,
    selection: RouteSelection,
    stage: String,
}

impl Router {
    /// A router over `table` that picks message routes with `selection`.
    pub fn new(table: RouteTable, selection: RouteSelection, stage: String) -> Self {
        Router {
            table: ArcSwap::from_pointee(table),
            selection,
            stage,
        }
    }

    /// The current route table.
    pub fn table(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Switches every connection's next event to `table`.
    pub fn swap(&self, table: Arc<RouteTable>) {
        self.table.store(table);
    }

    /// The plugin currently bound to `route`.
    fn plugin(&self, route: &str) -> Option<Arc<Plugin>> {
        self.table.load().get(route).cloned()
    }

    /// Runs `$connect` (accepting when there is none).
    pub async fn connect(
        &self,
        connection: &Connection,
        request: ConnectRequest,
    ) -> ConnectDecision {
        let Some(plugin) = self.plugin(CONNECT) else {
            return ConnectDecision::Accept {
                subprotocol: None,
                context: Fields::new(),
            };
        };
        let offered = request.subprotocols.clone();
        let event = Event {
            context: self.context(connection, CONNECT, EventType::Connect, None),
            kind: EventKind::Connect(request),
        };
        let response = match plugin.handle(event).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(connection = %connection.id(), route = CONNECT, plugin = plugin.name(), %error, "handler failed");
                return ConnectDecision::internal_error();
            }
        };
        match response.status {
            200..=299 => match response.subprotocol {
                Some(chosen) if !offered.contains(&chosen) => {
                    tracing::error!(connection = %connection.id(), plugin = plugin.name(), %chosen, ?offered,
                        "$connect chose a subprotocol the client did not offer");
                    ConnectDecision::internal_error()
                }
                subprotocol => ConnectDecision::Accept {
                    subprotocol,
                    context: response.context,
                },
            },
            status @ 300..=599 => ConnectDecision::Reject {
                status,
                body: match response.body {
                    Some(Payload::Text(text)) => text.into_bytes(),
                    Some(Payload::Binary(bytes)) => bytes,
                    None => Vec::new(),
                },
            },
            status => {
                tracing::error!(connection = %connection.id(), plugin = plugin.name(), status,
                    "$connect returned a status that is neither 2xx nor an HTTP error");
                ConnectDecision::internal_error()
            }
        }
    }

    /// Routes one message; says what to send back to the sender (the route
    /// response or an error frame), if anything.
    pub async fn message(&self, connection: &Connection, payload: Payload) -> Delivery {
        let (route, plugin) = {
            let table = self.table.load();
            let Some((route, plugin)) = self.select(&table, &payload) else {
                return Delivery::Handled(Some(error_frame(connection, ErrorFrame::Forbidden)));
            };
            if !table.admit(&route) {
                return Delivery::Throttled(error_frame(connection, ErrorFrame::TooManyRequests));
            }
            (route, Arc::clone(plugin))
        };
        let context = self.context(
            connection,
            &route,
            EventType::Message,
            Some(random_token::<12>()),
        );
        let request_id = context.request_id.clone();
        let event = Event {
            context,
            kind: EventKind::Message(payload),
        };
        Delivery::Handled(match plugin.handle(event).await {
            Ok(response) => response.body.map(Message::from),
            Err(error) => {
                tracing::error!(connection = %connection.id(), %route, plugin = plugin.name(), %request_id, %error, "handler failed");
                let frame = ErrorFrame::InternalServerError;
                Some(frame.to_message(connection.id().as_str(), &request_id))
            }
        })
    }

    /// Runs `$disconnect`, if bound, for a connection that has ended.
    pub async fn disconnect(&self, connection: &Connection, info: DisconnectInfo) {
        let Some(plugin) = self.plugin(DISCONNECT) else {
            return;
        };
        let event = Event {
            context: self.context(connection, DISCONNECT, EventType::Disconnect, None),
            kind: EventKind::Disconnect(info),
        };
        if let Err(error) = plugin.handle(event).await {
            tracing::error!(connection = %connection.id(), route = DISCONNECT, plugin = plugin.name(), %error, "handler failed");
        }
    }

    /// The route a message goes to: the one its route key names if bound,
    /// otherwise `$default`; none if neither exists.
    fn select<'t>(
        &self,
        table: &'t RouteTable,
        payload: &Payload,
    ) -> Option<(String, &'t Arc<Plugin>)> {
        if let (true, Payload::Text(text)) = (table.has_custom_routes(), payload)
            && let Some(key) = self.selection.route_key(text)
            && let Some(plugin) = table.get(&key)
        {
            return Some((key, plugin));
        }
        table
            .get(DEFAULT)
            .map(|plugin| (DEFAULT.to_owned(), plugin))
    }

    fn context(
        &self,
        connection: &Connection,
        route: &str,
        event_type: EventType,
        message_id: Option<String>,
    ) -> RequestContext {
        let peer = connection.peer();
        RequestContext {
            route_key: route.to_owned(),
            event_type,
            connection_id: connection.id().clone(),
            message_id,
            request_id: random_token::<12>(),
            connected_at: connection.connected_at(),
            request_time: now_ms(),
            source_ip: peer.source_ip.clone(),
            user_agent: peer.user_agent.clone(),
            domain_name: peer.domain_name.clone(),
            stage: self.stage.clone(),
            context: connection.context().to_vec(),
        }
    }
}

/// An error frame for `connection` with a fresh request id.
pub fn error_frame(connection: &Connection, frame: ErrorFrame) -> Message {
    frame.to_message(connection.id().as_str(), &random_token::<12>())
}
