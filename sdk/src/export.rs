//! Adapts a [`Handler`] to the `handler` interface the component exports.

use std::marker::PhantomData;

use crate::bindings::exports::wsgate::gateway::handler::Guest;
use crate::bindings::wsgate::gateway::types as wit;
use crate::{ConnectRequest, Disconnect, Handler, Message, RequestContext};

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
    fn handle(event: wit::Event) -> Result<wit::Response, String> {
        let context = RequestContext(event.context);
        match event.kind {
            wit::EventKind::Connect(request) => {
                match H::on_connect(ConnectRequest { context, request }) {
                    Ok(accept) => Ok(accept.into()),
                    Err(reject) => reject.into_response(),
                }
            }
            wit::EventKind::Message(payload) => {
                let message = Message {
                    context,
                    payload: payload.into(),
                };
                let reply = H::on_message(message).map_err(|error| error.to_string())?;
                Ok(done(reply.map(Into::into)))
            }
            wit::EventKind::Disconnect(info) => {
                H::on_disconnect(Disconnect { context, info });
                Ok(done(None))
            }
        }
    }
}

/// A success with an optional route response (ignored after `$disconnect`).
fn done(body: Option<wit::Payload>) -> wit::Response {
    wit::Response {
        status: 200,
        body,
        subprotocol: None,
        context: Vec::new(),
    }
}
