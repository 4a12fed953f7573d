//! wsgate: a self-hosted, programmable WebSocket gateway whose route handlers
//! are WebAssembly components.
//!
//! # A message's life, module by module
//!
//! 1. [`listener`] accepts a TCP connection and serves HTTP on it: `GET /health`
//!    ([`probes`]) or a WebSocket upgrade.
//! 2. [`handshake`] validates the upgrade, asks [`admission`] whether one more
//!    connection may come in, and starts the new [`connection`]'s task, which
//!    registers it in the [`registry`] and asks the [`router`] to run
//!    `$connect`, whose answer becomes the HTTP response (101, or the
//!    handler's status and body). The task owns the connection from the start,
//!    so a client that vanishes mid-`$connect` cannot strand it.
//! 3. [`connection::task`] owns the socket: it reads frames in order and hands
//!    each message to the [`router`] (within the connection's [`limits`]),
//!    and, in the same task, writes the connection's outbound queue and the
//!    route responses; its timers send pings and enforce the idle timeout and
//!    maximum duration.
//! 4. The [`router`] picks the route (route selection expression, else
//!    `$default`), builds the [`event`] and calls the route's plugin.
//! 5. [`plugins`] runs the event in a pooled, sandboxed instance of the
//!    component (CPU deadline, memory cap).
//! 6. The component calls host imports ([`imports`]: connections, groups), which
//!    go through the [`registry`] to the target connections' outbound queues.
//! 7. The route response goes back to the sender after what its queue held;
//!    when the connection ends, `$disconnect` runs exactly once.
//!
//! Every event is also written to the [`access_log`] and counted in the
//! [`metrics`].
//!
//! [`hot_swap`] rebuilds the route table when components change, without
//! touching connections. [`gateway`] assembles these parts from [`config`];
//! [`tls`] serves wss;
//! [`shutdown`] drains connections on SIGTERM; [`management`] is the
//! operator's listener (the `@connections` API, `/health`, `/ready`,
//! `/metrics`); [`cli`] is the command line; [`scaffold`] writes new handler
//! projects (`wsgate new`).

pub mod cli;
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
