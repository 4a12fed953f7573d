//! `wsgate:gateway@0.2.0` (`wit/`): the event is lent to the handler as two
//! host resources, read on demand; only the payload is lowered.

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
                include wsgate:gateway/gateway@0.2.0;
                import wasi:keyvalue/store@0.2.0-draft;
                import wasi:keyvalue/atomics@0.2.0-draft;
                import wasi:keyvalue/batch@0.2.0-draft;
            }
        ",
        world: "gateway-host",
        // A getter on a handle the guest should not have is a trap.
        imports: { "wsgate:gateway/event": async | trappable, default: async },
        exports: { default: async },
        // A message's payload is lent to the guest, not copied first.
        ownership: Borrowing { duplicate_if_necessary: true },
        with: {
            "wasi:keyvalue/store.bucket": crate::keyvalue::OpenBucket,
            "wsgate:gateway/event.request-context": crate::event::RequestContext,
            "wsgate:gateway/event.connect-request": crate::event::ConnectRequest,
        },
    });
}

pub use generated::exports::wsgate::gateway::handler;
pub use generated::wasi::keyvalue;
pub use generated::wsgate::gateway::{connections, event as resources, groups};
pub use generated::{GatewayHost as RouteHandler, GatewayHostPre as HandlerPre};

/// The generated types, under the names both versions share. Borrowing
/// bindings name a type used both ways twice: the payload a message lends
/// the guest is `PayloadParam` (it borrows the message's bytes), and the one
/// the guest hands back, a route response or a send, is `Payload` here.
pub mod types {
    pub use super::generated::wsgate::gateway::types::*;
    /// A payload the guest hands the host.
    pub type Payload = PayloadResult;
}

shared_conversions!();

impl<'a> From<&'a crate::connection::DisconnectInfo> for types::DisconnectInfo<'a> {
    fn from(info: &'a crate::connection::DisconnectInfo) -> Self {
        types::DisconnectInfo {
            code: info.code,
            reason: &info.reason,
            initiator: info.initiator.into(),
        }
    }
}

/// A message's payload, lent to the guest where it lies.
impl<'a> From<&'a event::Payload> for types::PayloadParam<'a> {
    fn from(payload: &'a event::Payload) -> Self {
        match payload {
            event::Payload::Text(text) => Self::Text(text),
            event::Payload::Binary(bytes) => Self::Binary(bytes),
        }
    }
}

impl From<types::HandlerError> for crate::runtime::Failure {
    fn from(error: types::HandlerError) -> Self {
        use crate::runtime::FailureKind as Kind;
        use types::HandlerError as E;
        let (kind, message) = match error {
            E::BadRequest(message) => (Kind::BadRequest, message),
            E::Forbidden(message) => (Kind::Forbidden, message),
            E::TooManyRequests(message) => (Kind::TooManyRequests, message),
            E::Unavailable(message) => (Kind::Unavailable, message),
            E::Internal(message) => (Kind::Internal, message),
        };
        crate::runtime::Failure { kind, message }
    }
}

/// What `$connect` decided, as the router reads it. A `reject` whose status
/// is not 300-599 would read as an accept (2xx) or as nothing HTTP knows, so it
/// is the handler's internal error instead: the client gets 500 and the log
/// says why.
impl TryFrom<handler::ConnectDecision> for event::Response {
    type Error = crate::runtime::Failure;

    fn try_from(decision: handler::ConnectDecision) -> Result<Self, Self::Error> {
        Ok(match decision {
            handler::ConnectDecision::Accept(accept) => event::Response {
                status: 200,
                body: None,
                subprotocol: accept.subprotocol,
                context: accept.connection_context,
                headers: accept.headers,
            },
            handler::ConnectDecision::Reject(reject) if (300..=599).contains(&reject.status) => {
                event::Response {
                    status: reject.status,
                    body: Some(event::Payload::Text(reject.body.into())),
                    subprotocol: None,
                    context: Vec::new(),
                    headers: reject.headers,
                }
            }
            handler::ConnectDecision::Reject(reject) => {
                return Err(crate::runtime::Failure {
                    kind: crate::runtime::FailureKind::Internal,
                    message: format!(
                        "$connect rejected with status {}, which is not 300-599",
                        reject.status
                    ),
                });
            }
        })
    }
}
