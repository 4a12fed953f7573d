//! Write wsgate route handlers in Rust.
//!
//! A route handler is a WebAssembly component that wsgate calls for every event
//! of the routes it is bound to: `$connect`, each message, `$disconnect`.
//! Implement [`Handler`] on a type (every method has a default), pass the type
//! to [`export!`], and build the crate as a `cdylib` for `wasm32-wasip2`.
//!
//! A complete handler that joins every client to one room and relays whatever
//! anyone says to everyone else:
//!
//! ```no_run
//! use wsgate_sdk::{
//!     Accept, ConnectRequest, Error, Handler, Message, Payload, Reject, RequestContext, groups,
//! };
//!
//! struct Relay;
//!
//! impl Handler for Relay {
//!     fn on_connect(ctx: &RequestContext, _request: &ConnectRequest) -> Result<Accept, Reject> {
//!         groups::join("everyone", ctx.connection_id())?;
//!         Ok(Accept::new())
//!     }
//!
//!     fn on_message(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
//!         groups::send("everyone", message.into_payload(), Some(ctx.connection_id()))?;
//!         Ok(Some("delivered".into()))
//!     }
//! }
//!
//! wsgate_sdk::export!(Relay);
//! ```
//!
//! With this `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "relay"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! wsgate-sdk = "0.1"
//! ```
//!
//! `cargo build --release --target wasm32-wasip2` writes the component to
//! `target/wasm32-wasip2/release/relay.wasm`; copy it into the plugins directory
//! as `$default.wasm` (the file name binds the route) and wsgate loads it, also
//! while running.
//!
//! Beyond connections and groups, [`kv`] keeps state in the gateway's
//! key-value store, [`config`] reads the route's configuration values and
//! [`http`] calls the REST backends the route allows, all through the standard
//! WASI interfaces (`wasi:keyvalue`, `wasi:config`, `wasi:http`).
//!
//! A handler's unit tests run natively with a plain `cargo test`: off
//! `wasm32`, `wsgate_sdk::testing` stands in for the gateway.

pub mod config;
mod connections;
mod error;
mod event;
mod export;
pub mod groups;
mod host;
pub mod http;
pub mod kv;
mod payload;
mod response;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use connections::{ConnectionInfo, close, info, send, send_text};
pub use error::{Error, ErrorKind, SendError};
pub use event::{ConnectRequest, Disconnect, EventType, Initiator, Message, RequestContext};
#[doc(hidden)]
pub use export::Exported;
pub use payload::Payload;
pub use response::{Accept, Reject};

/// The code `wit-bindgen` generates for the `route-handler` world; use the
/// types and functions of this crate instead.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "route-handler",
        // `export!` expands in the handler's crate and names this module
        // explicitly (`with_types_in $crate::bindings`).
        pub_export_macro: true,
        // The standard WASI interfaces of the world (config, http and what
        // they use) are generated here too; `config` and `http` wrap them.
        generate_all,
    });
}

/// A route handler: what it does on each kind of event.
///
/// The methods take no `self`: wsgate may run each event in a fresh instance or
/// reuse one, so nothing is kept between events. State that outlives an event
/// belongs in the connection context (set on [`Accept`]), in groups, in the
/// key-value store ([`kv`]) or in a backend.
///
/// Every method has a default, so a handler implements only the events it
/// cares about. A handler bound to several message routes lists them in
/// [`ROUTES`](Self::ROUTES) instead of comparing route keys:
///
/// ```no_run
/// use wsgate_sdk::{Error, Handler, Message, Payload, RequestContext, Routes};
///
/// struct Rooms;
///
/// impl Handler for Rooms {
///     const ROUTES: Routes = &[("join", Rooms::join), ("leave", Rooms::leave)];
/// }
///
/// impl Rooms {
///     fn join(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
///         let room = message.text().ok_or_else(|| Error::bad_request("send a room name"))?;
///         wsgate_sdk::groups::join(room, ctx.connection_id())?;
///         Ok(Some(format!("joined {room}").into()))
///     }
///
///     fn leave(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
///         let room = message.text().ok_or_else(|| Error::bad_request("send a room name"))?;
///         wsgate_sdk::groups::leave(room, ctx.connection_id());
///         Ok(None)
///     }
/// }
///
/// wsgate_sdk::export!(Rooms);
/// ```
pub trait Handler {
    /// Message routes handled by their own function, by route key. A message
    /// of a route not listed (`$default` included) goes to
    /// [`on_message`](Self::on_message). Empty by default.
    const ROUTES: Routes = &[];

    /// Decides on a `$connect`, during the HTTP upgrade. Sends to the new
    /// connection are delivered right after the handshake. Accepts by default.
    ///
    /// An [`Error`] converts into a [`Reject`] with `?`, answering its status;
    /// [`Reject::new`] chooses status, headers and body.
    fn on_connect(_ctx: &RequestContext, _request: &ConnectRequest) -> Result<Accept, Reject> {
        Ok(Accept::new())
    }

    /// Handles a message of a route not in [`ROUTES`](Self::ROUTES). `Some`
    /// is the route response, sent back to the sender; an `Err` sends the
    /// sender an error frame as [`Error`] describes. Answers nothing by
    /// default.
    fn on_message(_ctx: &RequestContext, _message: Message) -> Result<Option<Payload>, Error> {
        Ok(None)
    }

    /// Learns that a connection has closed; called exactly once for every
    /// accepted connection. An `Err` is logged and counted. Does nothing by
    /// default.
    fn on_disconnect(_ctx: &RequestContext, _end: Disconnect) -> Result<(), Error> {
        Ok(())
    }
}

/// The message routes of a [`Handler`]: route keys and the function that
/// handles each.
pub type Routes = &'static [(&'static str, MessageHandler)];

/// A function handling one message route, as [`Handler::on_message`] does.
pub type MessageHandler = fn(&RequestContext, Message) -> Result<Option<Payload>, Error>;
