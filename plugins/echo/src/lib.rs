//! Echo: answers every message with itself, text or binary, unchanged.
//!
//! Bound as `$default`, it receives every message no other route claims, and
//! the route response goes back to the sender.

use wsgate_sdk::{Error, Handler, Message, Payload, RequestContext};

struct Echo;

impl Handler for Echo {
    fn on_message(_ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        Ok(Some(message.into_payload()))
    }
}

wsgate_sdk::export!(Echo);
