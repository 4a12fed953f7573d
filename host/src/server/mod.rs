//! The client listener, from an accepted socket to a connection's end: TCP
//! and TLS ([`listener`], [`tls`]), the probes served beside upgrades
//! ([`probes`]), who may connect ([`admission`]), the upgrade and `$connect`
//! ([`handshake`]), the connection's one task ([`task`]) and the graceful
//! drain ([`shutdown`]).

pub mod admission;
pub mod handshake;
pub mod listener;
pub mod probes;
pub mod sessions;
pub mod shutdown;
pub mod task;
pub mod tls;

use std::sync::Arc;

use crate::connection::ConnectionLimits;
use crate::observability::metrics::Metrics;
use crate::registry::Registry;
use crate::routing::Router;

/// What a connection's messages pass through after the upgrade, shared by
/// every connection: this, and nothing else, is what a connection's task sees
/// of the gateway, from its `$connect` to its `$disconnect`.
pub struct Pipeline {
    /// Routes each event to its handler.
    pub router: Arc<Router>,
    /// Where connections live.
    pub registry: Arc<dyn Registry>,
    /// What one connection may do and how long it may live.
    pub limits: ConnectionLimits,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The connections on the reliable subprotocol a client may resume.
    pub sessions: Arc<sessions::Sessions>,
}

/// What the client port sees of the gateway: the pipeline, who may connect,
/// the draining state and the readiness probe.
pub struct ClientContext {
    /// The stages after the upgrade.
    pub pipeline: Arc<Pipeline>,
    /// Who may connect.
    pub admission: admission::Admission,
    /// Draining state and the connection tasks a shutdown waits for.
    pub shutdown: Arc<shutdown::Shutdown>,
    /// `GET /ready`.
    pub readiness: probes::Readiness,
}
