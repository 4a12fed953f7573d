//! Tagger: the hot-swap tests' route handler. Every version answers with its
//! tag, so a test can tell which version handled what.
//!
//! The tag is a fixed-size placeholder, `tag-AAAAAAAA`, in the component's
//! data; tests make distinct versions by patching those bytes (to
//! `tag-00000007`, say) rather than building the crate again.
//!
//! - `$connect` sends the newcomer `welcome from <tag>`.
//! - A message is answered with `<tag>:<text>` (binary bodies are answered as text).
//! - `$disconnect` prints `<tag> $disconnect <id>`, which the gateway logs.

use std::hint::black_box;

use wsgate_sdk::{
    Accept, ConnectRequest, Disconnect, Error, Handler, Message, Payload, Reject, RequestContext,
};

/// Patched by the tests; `black_box` keeps it one string in the data section.
static TAG: &str = "tag-AAAAAAAA";

struct Tagger;

impl Handler for Tagger {
    fn on_connect(ctx: &RequestContext, _request: &ConnectRequest) -> Result<Accept, Reject> {
        let id = ctx.connection_id();
        wsgate_sdk::send_text(id, format!("welcome from {}", black_box(TAG)))?;
        Ok(Accept::new())
    }

    fn on_message(_ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let text = message.text().unwrap_or("<binary>");
        Ok(Some(format!("{}:{text}", black_box(TAG)).into()))
    }

    fn on_disconnect(ctx: &RequestContext, _end: Disconnect) -> Result<(), Error> {
        println!("{} $disconnect {}", black_box(TAG), ctx.connection_id());
        Ok(())
    }
}

wsgate_sdk::export!(Tagger);
