//! The bindings generated from `wit/`, and the conversions between them and the
//! host's own types. Generated code stays in this module.

/// The generated code itself (documented by the WIT, not here).
#[allow(missing_docs)]
mod generated {
    // The gateway's own interfaces and `wasi:keyvalue`, which the host
    // implements itself; `wasi:config` and `wasi:http` come from their
    // wasmtime crates.
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package wsgate:host;
            world gateway-host {
                include wsgate:gateway/gateway@0.1.0;
                import wasi:keyvalue/store@0.2.0-draft;
                import wasi:keyvalue/atomics@0.2.0-draft;
                import wasi:keyvalue/batch@0.2.0-draft;
            }
        ",
        world: "gateway-host",
        imports: { default: async },
        exports: { default: async },
        with: { "wasi:keyvalue/store.bucket": crate::keyvalue::OpenBucket },
    });
}

pub use generated::wasi::keyvalue;
pub use generated::wsgate::gateway::{connections, groups, types};
pub use generated::{GatewayHost as RouteHandler, GatewayHostPre as HandlerPre};

use crate::connection::{CloseInitiator, SendError};
use crate::event;
use crate::registry::{ConnectionInfo, Page};

/// The fully qualified name of the interface every route handler exports.
pub const HANDLER_EXPORT: &str = "wsgate:gateway/handler@0.1.0";

impl From<event::Payload> for types::Payload {
    fn from(payload: event::Payload) -> Self {
        match payload {
            event::Payload::Text(text) => types::Payload::Text(text),
            event::Payload::Binary(bytes) => types::Payload::Binary(bytes),
        }
    }
}

impl From<types::Payload> for event::Payload {
    fn from(payload: types::Payload) -> Self {
        match payload {
            types::Payload::Text(text) => event::Payload::Text(text),
            types::Payload::Binary(bytes) => event::Payload::Binary(bytes),
        }
    }
}

impl From<CloseInitiator> for types::CloseInitiator {
    fn from(initiator: CloseInitiator) -> Self {
        use CloseInitiator as C;
        match initiator {
            C::Client => Self::Client,
            C::Handler => Self::Handler,
            C::Api => Self::Api,
            C::Server => Self::Server,
            C::IdleTimeout => Self::IdleTimeout,
            C::PingTimeout => Self::PingTimeout,
            C::MaxDuration => Self::MaxDuration,
            C::Shutdown => Self::Shutdown,
        }
    }
}

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
        let context = event.context;
        types::Event {
            context: types::RequestContext {
                route_key: context.route_key,
                event_type: context.event_type.into(),
                connection_id: context.connection_id.to_string(),
                message_id: context.message_id,
                request_id: context.request_id,
                connected_at: context.connected_at,
                request_time: context.request_time,
                source_ip: context.source_ip,
                user_agent: context.user_agent,
                domain_name: context.domain_name,
                stage: context.stage,
                context: context.context,
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
                event::EventKind::Disconnect(info) => {
                    types::EventKind::Disconnect(types::DisconnectInfo {
                        code: info.code,
                        reason: info.reason,
                        initiator: info.initiator.into(),
                    })
                }
            },
        }
    }
}

impl From<types::Response> for event::Response {
    fn from(response: types::Response) -> Self {
        event::Response {
            status: response.status,
            body: response.body.map(Into::into),
            subprotocol: response.subprotocol,
            context: response.context,
        }
    }
}

impl From<SendError> for types::SendError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Gone => Self::Gone,
            SendError::PayloadTooLarge => Self::PayloadTooLarge,
            SendError::Throttled => Self::Throttled,
            SendError::Unavailable => Self::Unavailable,
        }
    }
}

impl From<ConnectionInfo> for types::ConnectionInfo {
    fn from(info: ConnectionInfo) -> Self {
        types::ConnectionInfo {
            connection_id: info.id.to_string(),
            connected_at: info.connected_at,
            last_active_at: info.last_active_at,
            source_ip: info.source_ip,
            user_agent: info.user_agent,
            context: info.context,
        }
    }
}

impl From<Page> for types::Page {
    fn from(page: Page) -> Self {
        types::Page {
            ids: page.ids.iter().map(ToString::to_string).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
