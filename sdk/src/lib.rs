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
//! use wsgate_sdk::{Accept, ConnectRequest, Error, Handler, Message, Payload, Reject, groups};
//!
//! struct Relay;
//!
//! impl Handler for Relay {
//!     fn on_connect(request: ConnectRequest) -> Result<Accept, Reject> {
//!         groups::join("everyone", request.context().connection_id())?;
//!         Ok(Accept::new())
//!     }
//!
//!     fn on_message(message: Message) -> Result<Option<Payload>, Error> {
//!         let sender = message.context().connection_id();
//!         groups::send("everyone", message.payload().clone(), Some(sender))?;
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

pub mod config;
mod connections;
mod error;
mod event;
mod export;
pub mod groups;
pub mod http;
pub mod kv;
mod payload;
mod response;

pub use connections::{ConnectionInfo, close, info, send, send_text};
pub use error::{Error, SendError};
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
        // 0.1.0 until the SDK moves to 0.2.0 (docs/design/wit-0.2.md, step 2).
        path: "../wit/v0.1",
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
/// belongs in the connection context (set on [`Accept`]), in groups, or in a
/// backend.
pub trait Handler {
    /// Decides on a `$connect`, during the HTTP upgrade. Sends to the new
    /// connection are delivered right after the handshake. Accepts by default.
    fn on_connect(_request: ConnectRequest) -> Result<Accept, Reject> {
        Ok(Accept::new())
    }

    /// Handles a message. `Some` is the route response, sent back to the
    /// sender; an `Err` gives the sender an `Internal server error` frame and is
    /// logged. Answers nothing by default.
    fn on_message(_message: Message) -> Result<Option<Payload>, Error> {
        Ok(None)
    }

    /// Learns that a connection has closed; called exactly once for every
    /// accepted connection. Does nothing by default.
    fn on_disconnect(_event: Disconnect) {}
}
