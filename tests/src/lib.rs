//! The end-to-end test harness: starts the real `wsgate` binary on loopback with
//! a plugins directory assembled from components built by `cargo xtask plugins`,
//! and talks to it with a real WebSocket client.
//!
//! Every wait is bounded, so a broken gateway fails a test instead of hanging it.
//!
//! What is where (the items of the private modules are re-exported here, so
//! tests name them `wsgate_tests::X`):
//! - `waiting`: [`WAIT`], [`STARTUP`], [`eventually`], [`eventually_blocking`]
//!   and [`quiet`].
//! - `artifacts`: what `cargo xtask test` builds: [`workspace_root`],
//!   [`wsgate_binary`], [`python_tool`], [`component`].
//! - `plugins`: plugin files: [`check`], [`tagger_version`], [`deploy`].
//! - `gateway`: [`GatewayBuilder`] and the running [`Gateway`].
//! - `process`: the child processes tests start, killed when dropped.
//! - `client`: the WebSocket [`Client`] (over any [`Io`]) and its [`Recording`].
//! - `raw`: WebSocket by hand: [`RawClient`], [`upgrade_head`],
//!   [`upgrade_head_for`], [`upgrade_and_vanish`].
//! - [`http`]: a raw HTTP/1.1 client ([`http_get`] among it).
//! - [`backend`], [`proxy`], [`redis`]: the servers a test runs beside the
//!   gateway: a REST backend, a TCP proxy it controls, Redis.
//! - [`cluster`]: gateways joined into a cluster.
//! - [`churn`] and [`invariants`]: random load and what must hold after it.
//! - [`projects`]: building handler projects inside tests.
//! - [`reliable`] and [`js_client`]: clients of the reliable subprotocol, in
//!   Rust and the JavaScript one of `clients/js`.
//! - [`scrape`]: `GET /metrics` read as a plain Prometheus text parser reads it.
//! - [`jwt`]: signing keys and tokens for the JWT authorizer, and a JWKS
//!   endpoint whose keys a test rotates.
//! - [`browser`]: scripts that drive a page (the web console) in headless
//!   Chromium.
//! - [`access_log`]: the lines of an access log written to a file.

mod artifacts;
mod client;
mod gateway;
mod node;
mod plugins;
mod process;
mod raw;
mod waiting;

pub mod access_log;
pub mod backend;
pub mod browser;
pub mod churn;
pub mod cluster;
pub mod http;
pub mod invariants;
pub mod js_client;
pub mod jwt;
pub mod nginx;
pub mod projects;
pub mod proxy;
pub mod redis;
pub mod reliable;
pub mod scrape;

pub use artifacts::{component, fixtures_v0_1, python_tool, workspace_root, wsgate_binary};
pub use client::{Client, Io, Recording};
pub use gateway::{Gateway, GatewayBuilder};
pub use http::http_get;
pub use plugins::{check, deploy, tagger_version, wsgate, wsgate_deploy};
pub use raw::{RawClient, upgrade_and_vanish, upgrade_head, upgrade_head_for};
pub use waiting::{STARTUP, WAIT, eventually, eventually_blocking, eventually_owned, quiet};
