//! Unit-test a handler natively, without a gateway.
//!
//! Off `wasm32` (a plain `cargo test`), every call the SDK makes to the
//! gateway (`send`, `close`, `info`, [`groups`](crate::groups), [`kv`](crate::kv),
//! [`config`](crate::config), [`http`](crate::http)) goes to an in-memory
//! [`Gateway`] of the test's thread instead of the WIT imports, and the
//! events a handler gets are built from plain values ([`Context`],
//! [`Connect`]). The handler's code does not change; its tests sit beside it
//! in the same crate:
//!
//! ```
//! use wsgate_sdk::testing::{Context, Gateway};
//! use wsgate_sdk::{Error, Handler, Message, Payload, RequestContext, groups};
//!
//! struct Rooms;
//!
//! impl Handler for Rooms {
//!     fn on_message(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
//!         let room = ctx.get("room").unwrap_or("lobby");
//!         groups::send(room, message.into_payload(), Some(ctx.connection_id()))?;
//!         Ok(Some("sent".into()))
//!     }
//! }
//!
//! let gateway = Gateway::new();
//! gateway.add_member("lobby", "c2");
//! let ctx = Context::message("$default").connection_id("c1").context("room", "lobby");
//!
//! let reply = gateway.message::<Rooms>(&ctx, "hello");
//!
//! assert_eq!(reply, Ok(Some(Payload::from("sent"))));
//! assert_eq!(gateway.sent_to("c2"), [Payload::from("hello")]);
//! ```
//!
//! [`Gateway::connect`], [`Gateway::message`] and [`Gateway::disconnect`]
//! run an event through the same code the component's export runs
//! ([`Handler::ROUTES`](crate::Handler::ROUTES) included); the
//! [`Gateway`]'s other methods arrange what the gateway knows (connections,
//! groups, kv, config, HTTP answers, failures) and read what the handler
//! asked of it. This module exists only off `wasm32`: a component never
//! contains it.

mod event;
pub(crate) mod fake;
mod gateway;
#[cfg(test)]
mod tests;

pub use event::{Connect, Context};
pub use gateway::{Gateway, HttpRequest};
