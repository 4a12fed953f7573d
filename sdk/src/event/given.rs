//! Events made of plain values, for unit tests off `wasm32`.

use std::cell::OnceCell;

use super::{Asked, ConnectRequest, EventType, RequestContext};

/// Every field of a [`RequestContext`], as plain values.
#[derive(Debug, Clone)]
pub(crate) struct ContextValues {
    pub(crate) route_key: String,
    pub(crate) connection_id: String,
    pub(crate) request_id: String,
    pub(crate) message_id: Option<String>,
    pub(crate) connected_at: u64,
    pub(crate) request_time: u64,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
    pub(crate) domain_name: String,
    pub(crate) stage: String,
    pub(crate) connection_context: Vec<(String, String)>,
}

impl RequestContext {
    /// A context whose every field is already set: it has no resource.
    pub(crate) fn given(event_type: EventType, values: ContextValues) -> Self {
        Self {
            event_type,
            resource: None,
            route_key: OnceCell::from(values.route_key),
            connection_id: OnceCell::from(values.connection_id),
            request_id: OnceCell::from(values.request_id),
            message_id: OnceCell::from(values.message_id),
            connected_at: OnceCell::from(values.connected_at),
            request_time: OnceCell::from(values.request_time),
            source_ip: OnceCell::from(values.source_ip),
            user_agent: OnceCell::from(values.user_agent),
            domain_name: OnceCell::from(values.domain_name),
            stage: OnceCell::from(values.stage),
            connection_context: OnceCell::from(values.connection_context),
            context_values: Asked::default(),
        }
    }
}

/// Every field of a [`ConnectRequest`], as plain values.
#[derive(Debug, Clone)]
pub(crate) struct ConnectValues {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names in lower case, as the gateway gives them.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) subprotocols: Vec<String>,
}

impl ConnectRequest {
    /// A request whose every field is already set: it has no resource.
    pub(crate) fn given(values: ConnectValues) -> Self {
        Self {
            resource: None,
            method: OnceCell::from(values.method),
            path: OnceCell::from(values.path),
            headers: OnceCell::from(values.headers),
            query: OnceCell::from(values.query),
            subprotocols: OnceCell::from(values.subprotocols),
            header_values: Asked::default(),
            query_values: Asked::default(),
        }
    }
}
