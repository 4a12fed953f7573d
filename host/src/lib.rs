//! wsgate: a self-hosted, programmable WebSocket gateway whose route handlers
//! are WebAssembly components.
//!
//! # A message's life, module by module
//!
//! 1. [`server`] accepts a TCP connection ([`server::listener`], or TLS with
//!    [`server::tls`]) and serves HTTP on it: `GET /health` and `GET /ready`
//!    ([`server::probes`]) or a WebSocket upgrade.
//! 2. [`server::handshake`] validates the upgrade, asks [`server::admission`]
//!    whether one more connection may come in, and starts the connection's
//!    task, which registers the new [`connection`] in the [`registry`] and
//!    asks [`routing`] to run `$connect`, whose answer becomes the HTTP
//!    response (101, or the handler's status and body). The task owns the
//!    connection from the start, so a client that vanishes mid-`$connect`
//!    cannot strand it.
//! 3. [`server::task`] owns the socket: it reads frames in order and hands
//!    each message to [`routing`] (within the connection's
//!    [`connection::ConnectionLimits`] and [`limits`]), and, in the same task,
//!    writes the connection's outbound queue and the route responses; its
//!    timers send pings and enforce the idle timeout and maximum duration. It
//!    sees only a [`server::Pipeline`]: the router, the registry, its limits
//!    and the metrics.
//! 4. [`routing`] picks the route (route selection expression, else
//!    `$default`), builds the [`event`] and calls the route's plugin.
//! 5. [`runtime`] runs the event in a pooled, sandboxed instance of the
//!    component (CPU deadline, memory cap).
//! 6. The component calls host imports ([`runtime::host`]: connections,
//!    groups, `wasi:keyvalue`, `wasi:http`; `wasi:config` from the route's
//!    grants), each seeing only its own view of the store. Sends go through
//!    the [`registry`] to the target connections' outbound queues
//!    ([`connection`]); the store is [`keyvalue`].
//! 7. The route response goes back to the sender after what its queue held;
//!    when the connection ends, `$disconnect` runs exactly once.
//!
//! Every event is also written to the access log and counted in the metrics
//! ([`observability`]).
//!
//! # Beside the data path
//!
//! [`management`] is the operator's listener (the `@connections` API,
//! `/health`, `/ready`, `/metrics`), over the same registry. [`hot_swap`]
//! rebuilds the route table when components or `wsgate.toml` change, without
//! touching connections. [`config`] resolves flags, variables and the file into
//! [`Settings`], made of each module's own settings types. [`gateway`]
//! assembles the parts and starts both listeners; [`cli`] is the command line.
//!
//! # Layers
//!
//! Lower modules never use higher ones: [`clock`] and [`limits`] at the
//! bottom, then [`connection`] and [`event`]; then [`observability`],
//! [`keyvalue`], [`registry`], [`runtime`], [`routing`]; then [`server`] and
//! [`management`]; then [`config`] (which parses into each module's own
//! settings types), [`hot_swap`], [`gateway`] and [`cli`]. The tiers are
//! written down once, in `tests/tests/layers.rs`, which fails on an edge that
//! points up a tier or an import cycle.

pub mod cli;
pub mod clock;
pub mod config;
pub mod connection;
pub mod event;
pub mod gateway;
pub mod hot_swap;
pub mod keyvalue;
pub mod limits;
pub mod management;
pub mod observability;
pub mod registry;
pub mod routing;
pub mod runtime;
pub mod server;

pub use config::{Options, Settings};
pub use gateway::{Gateway, RunningGateway};
