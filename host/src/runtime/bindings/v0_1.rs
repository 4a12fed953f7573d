//! `wsgate:gateway@0.1.0` (`wit/v0.1/`, frozen): the whole event is one record.
//!
//! Only the gateway's own interfaces are generated here; `wasi:keyvalue`,
//! whose names both versions share, is linked once, from [`super::v0_2`].

/// The generated code itself (documented by the WIT, not here).
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1",
        world: "wsgate:gateway/gateway@0.1.0",
        imports: { default: async },
        exports: { default: async },
    });
}

pub use generated::wsgate::gateway::{connections, groups};
pub use generated::{Gateway as RouteHandler, GatewayPre as HandlerPre};

pub use generated::wsgate::gateway::types;

shared_conversions!();

impl From<event::EventType> for types::EventType {
    fn from(event_type: event::EventType) -> Self {
        match event_type {
            event::EventType::Connect => Self::Connect,
            event::EventType::Message => Self::Message,
            event::EventType::Disconnect => Self::Disconnect,
        }
    }
}

impl From<event::Event> for types::Event {
    fn from(event: event::Event) -> Self {
        // 0.1.0 lowers the whole record, so it needs every string made.
        let context = event.context;
        let peer = context.peer();
        types::Event {
            context: types::RequestContext {
                route_key: context.route_key.to_string(),
                event_type: context.event_type.into(),
                connection_id: context.connection_id().to_string(),
                message_id: context.message_id.map(|id| id.to_string()),
                request_id: context.request_id.to_string(),
                connected_at: context.connected_at(),
                request_time: context.request_time,
                source_ip: peer.source_ip.clone(),
                user_agent: peer.user_agent.clone(),
                domain_name: peer.domain_name.clone(),
                stage: context.stage.to_string(),
                context: context.connection_context().to_vec(),
            },
            kind: match event.kind {
                event::EventKind::Connect(request) => {
                    types::EventKind::Connect(types::ConnectRequest {
                        method: request.method,
                        path: request.path,
                        headers: request.headers,
                        query: request.query,
                        subprotocols: request.subprotocols,
                    })
                }
                event::EventKind::Message(payload) => types::EventKind::Message(payload.into()),
                event::EventKind::Disconnect(info) => types::EventKind::Disconnect(info.into()),
            },
        }
    }
}

/// 0.1.0's event record owns its payload: a copy of the message (0.2.0
/// lends the guest the bytes the socket read).
impl From<event::Payload> for types::Payload {
    fn from(payload: event::Payload) -> Self {
        match payload {
            event::Payload::Text(text) => Self::Text(text.as_str().to_owned()),
            event::Payload::Binary(bytes) => Self::Binary(bytes.to_vec()),
        }
    }
}

impl From<crate::connection::DisconnectInfo> for types::DisconnectInfo {
    fn from(info: crate::connection::DisconnectInfo) -> Self {
        types::DisconnectInfo {
            code: info.code,
            reason: info.reason,
            initiator: info.initiator.into(),
        }
    }
}

/// A 0.1.0 response sets no headers: they did not exist in 0.1.0.
impl From<types::Response> for event::Response {
    fn from(response: types::Response) -> Self {
        event::Response {
            status: response.status,
            body: response.body.map(Into::into),
            subprotocol: response.subprotocol,
            context: response.context,
            headers: Vec::new(),
        }
    }
}
