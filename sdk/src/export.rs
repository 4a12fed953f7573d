//! Adapts a [`Handler`] to the `handler` interface the component exports.

use std::marker::PhantomData;

use crate::bindings::exports::wsgate::gateway::handler::{ConnectDecision, Guest};
use crate::bindings::wsgate::gateway::event::{
    ConnectRequest as WitConnectRequest, RequestContext as WitRequestContext,
};
use crate::bindings::wsgate::gateway::types as wit;
use crate::{
    ConnectRequest, Disconnect, Error, EventType, Handler, Message, Payload, RequestContext,
};

/// Exports a [`Handler`] as the component's route handler.
///
/// Call it once, at the top level of the `cdylib` crate:
///
/// ```no_run
/// struct Quiet;
///
/// impl wsgate_sdk::Handler for Quiet {}
///
/// wsgate_sdk::export!(Quiet);
/// ```
#[macro_export]
macro_rules! export {
    ($handler:ty) => {
        const _: () = {
            // The generated macro wants an identifier, not a path with generics.
            type Export = $crate::Exported<$handler>;
            $crate::bindings::export! { Export with_types_in $crate::bindings }
        };
    };
}

/// The type [`export!`] hands to the generated bindings: it implements their
/// `Guest` trait for any [`Handler`].
pub struct Exported<H>(PhantomData<H>);

impl<H: Handler> Guest for Exported<H> {
    fn on_connect(
        ctx: &WitRequestContext,
        request: &WitConnectRequest,
    ) -> Result<ConnectDecision, wit::HandlerError> {
        let ctx = RequestContext::lent(EventType::Connect, ctx);
        match H::on_connect(&ctx, &ConnectRequest::lent(request)) {
            Ok(accept) => Ok(accept.into()),
            Err(reject) => reject.into_result(),
        }
    }

    fn on_message(
        ctx: &WitRequestContext,
        payload: wit::Payload,
    ) -> Result<Option<wit::Payload>, wit::HandlerError> {
        let ctx = RequestContext::lent(EventType::Message, ctx);
        let reply = dispatch::<H>(&ctx, Message::new(Payload::from(payload)))?;
        Ok(reply.map(Into::into))
    }

    fn on_disconnect(
        ctx: &WitRequestContext,
        info: wit::DisconnectInfo,
    ) -> Result<(), wit::HandlerError> {
        let ctx = RequestContext::lent(EventType::Disconnect, ctx);
        Ok(H::on_disconnect(&ctx, Disconnect::from(info))?)
    }
}

/// Calls the function `H::ROUTES` names for the event's route, else
/// `H::on_message`. The route key is asked of the gateway only when there is
/// a table to look it up in.
pub(crate) fn dispatch<H: Handler>(
    ctx: &RequestContext,
    message: Message,
) -> Result<Option<Payload>, Error> {
    let route = match H::ROUTES {
        [] => None,
        routes => {
            let key = ctx.route_key();
            routes.iter().find(|(name, _)| *name == key)
        }
    };
    match route {
        Some((_, handle)) => handle(ctx, message),
        None => H::on_message(ctx, message),
    }
}
