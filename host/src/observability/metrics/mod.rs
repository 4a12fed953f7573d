//! Prometheus metrics, served by the management listener at `GET /metrics`
//! in OpenMetrics text, which Prometheus scrapes natively, or in the
//! Prometheus text format 0.0.4 for scrapers that ask for it ([`Exposition`]):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `wsgate_connections_open` | gauge | |
//! | `wsgate_connections_accepted_total` | counter | |
//! | `wsgate_connections_rejected_total` | counter | `status` |
//! | `wsgate_messages_in_total` | counter | `route` |
//! | `wsgate_messages_out_total` | counter | `route` |
//! | `wsgate_messages_throttled_total` | counter | `route` |
//! | `wsgate_handler_duration_seconds` | histogram | `route` |
//! | `wsgate_handler_errors_total` | counter | `route`, `kind` |
//! | `wsgate_api_requests_total` | counter | `status` |
//! | `wsgate_bytes_in_total` | counter | |
//! | `wsgate_bytes_out_total` | counter | |
//! | `wsgate_plugin_swaps_total` | counter | `route` |
//! | `wsgate_plugin_refusals_total` | counter | |
//! | `wsgate_connections_detached` | gauge | (reliable subprotocol: dropped, waiting for a resume) |
//! | `wsgate_resumes_total` | counter | (reliable subprotocol) |
//! | `wsgate_resumes_refused_total` | counter | (reliable subprotocol) |
//! | `wsgate_resume_buffer_overflows_total` | counter | (reliable subprotocol) |
//! | `wsgate_sessions_parked_total` | counter | (reliable subprotocol, cluster) |
//! | `wsgate_sessions_claimed_total` | counter | (reliable subprotocol, cluster) |
//! | `wsgate_parked_sessions_ended_total` | counter | (reliable subprotocol, cluster) |
//! | `wsgate_cluster_reachable` | gauge | (cluster mode: 1 while Redis answers heartbeats) |
//! | `wsgate_cluster_fenced` | gauge | (cluster mode: 1 while this node holds no lease and takes no connections) |
//! | `wsgate_cluster_deliveries_received_total` | counter | (cluster mode: requests from other nodes carried out here) |

mod route;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry as MetricRegistry;

pub use route::RouteMetrics;

use crate::event::{EventType, RouteKey};
use crate::observability::access_log::{EventRecord, Outcome};
use route::RouteFamilies;

/// A text format the metrics are rendered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0.0, the default: what Prometheus prefers.
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (`text/plain`), where a counter's
    /// family is named with its samples' `_total`, as plain parsers expect.
    PrometheusText,
}

impl Exposition {
    /// The `Content-Type` of metrics rendered in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::PrometheusText => prometheus_text::CONTENT_TYPE,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: MetricRegistry,
    connections_open: Gauge,
    connections_accepted: Counter,
    connections_rejected: Family<StatusLabel, Counter>,
    routes: RouteFamilies,
    api_requests: Family<StatusLabel, Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
    refusals: Counter,
    cluster_reachable: Gauge,
    cluster_fenced: Gauge,
    cluster_deliveries: Counter,
    detached: Gauge,
    resumes: Counter,
    resumes_refused: Counter,
    overflows: Counter,
    parked: Counter,
    claimed: Counter,
    parked_ended: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under the `wsgate_` prefix.
    pub fn new() -> Self {
        let mut registry = MetricRegistry::with_prefix("wsgate");
        let mut metrics = Metrics {
            routes: RouteFamilies::register(&mut registry),
            registry,
            connections_open: Gauge::default(),
            connections_accepted: Counter::default(),
            connections_rejected: Family::default(),
            api_requests: Family::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            refusals: Counter::default(),
            cluster_reachable: Gauge::default(),
            cluster_fenced: Gauge::default(),
            cluster_deliveries: Counter::default(),
            detached: Gauge::default(),
            resumes: Counter::default(),
            resumes_refused: Counter::default(),
            overflows: Counter::default(),
            parked: Counter::default(),
            claimed: Counter::default(),
            parked_ended: Counter::default(),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "plugin_refusals",
            "Component files refused by hot swap (the previous version kept serving)",
            metrics.refusals.clone(),
        );
        registry.register(
            "connections_open",
            "WebSocket connections open now",
            metrics.connections_open.clone(),
        );
        registry.register(
            "connections_accepted",
            "Connections accepted ($connect answered 2xx)",
            metrics.connections_accepted.clone(),
        );
        registry.register(
            "connections_rejected",
            "Upgrades refused, by status: $connect's, or admission's (403, 429, 503)",
            metrics.connections_rejected.clone(),
        );
        registry.register(
            "api_requests",
            "Management API requests, by response status",
            metrics.api_requests.clone(),
        );
        registry.register(
            "bytes_in",
            "Message payload bytes received from clients",
            metrics.bytes_in.clone(),
        );
        registry.register(
            "bytes_out",
            "Message payload bytes written to clients",
            metrics.bytes_out.clone(),
        );
        registry.register(
            "cluster_reachable",
            "Cluster mode: 1 while Redis answers this node's requests, else 0",
            metrics.cluster_reachable.clone(),
        );
        registry.register(
            "cluster_fenced",
            "Cluster mode: 1 while this node holds no lease, so it has closed its connections and refuses new ones",
            metrics.cluster_fenced.clone(),
        );
        registry.register(
            "cluster_deliveries_received",
            "Cluster mode: sends, closes and group changes from other nodes carried out here",
            metrics.cluster_deliveries.clone(),
        );
        registry.register(
            "connections_detached",
            "Reliable subprotocol: connections whose socket dropped, waiting for their client to resume",
            metrics.detached.clone(),
        );
        registry.register(
            "resumes",
            "Reliable subprotocol: connections resumed on a new socket",
            metrics.resumes.clone(),
        );
        registry.register(
            "resumes_refused",
            "Reliable subprotocol: resumes that could not be honoured (unknown or expired token, overflowed buffer), accepted as new connections",
            metrics.resumes_refused.clone(),
        );
        registry.register(
            "resume_buffer_overflows",
            "Reliable subprotocol: connections that could no longer be resumed because their replay buffer overflowed (counted when they end)",
            metrics.overflows.clone(),
        );
        registry.register(
            "sessions_parked",
            "Reliable subprotocol, cluster mode: sessions this node parked in Redis for another node (as it stopped, or for a client that resumed elsewhere)",
            metrics.parked.clone(),
        );
        registry.register(
            "sessions_claimed",
            "Reliable subprotocol, cluster mode: parked sessions this node took over for a resuming client",
            metrics.claimed.clone(),
        );
        registry.register(
            "parked_sessions_ended",
            "Reliable subprotocol, cluster mode: parked sessions that ended without a resume, whose $disconnect ran here",
            metrics.parked_ended.clone(),
        );
        metrics
    }

    /// Counts sessions this node parked.
    pub fn sessions_parked(&self, count: usize) {
        self.parked.inc_by(count as u64);
    }

    /// Counts a parked session this node took over.
    pub fn session_claimed(&self) {
        self.claimed.inc();
    }

    /// Counts a parked session that ended without a resume.
    pub fn parked_session_ended(&self) {
        self.parked_ended.inc();
    }

    /// Counts connections detaching (`1`) or leaving the detached state (`-1`).
    pub fn detached(&self, change: i64) {
        self.detached.inc_by(change);
    }

    /// Counts a connection resumed on a new socket.
    pub fn resumed(&self) {
        self.resumes.inc();
    }

    /// Counts a resume accepted as a new connection.
    pub fn resume_refused(&self) {
        self.resumes_refused.inc();
    }

    /// Counts a connection whose replay buffer overflowed.
    pub fn resume_buffer_overflowed(&self) {
        self.overflows.inc();
    }

    /// Records whether Redis answered the last cluster heartbeat.
    pub fn cluster_reachable(&self, reachable: bool) {
        self.cluster_reachable.set(i64::from(reachable));
    }

    /// Records whether this cluster node has fenced itself.
    pub fn cluster_fenced(&self, fenced: bool) {
        self.cluster_fenced.set(i64::from(fenced));
    }

    /// Counts one delivery from another node.
    pub fn cluster_delivery(&self) {
        self.cluster_deliveries.inc();
    }

    /// Counts a hot-swap change of `route`'s component.
    pub fn swap(&self, route: &str) {
        self.routes.swap(route);
    }

    /// Counts a component file refused by hot swap.
    pub fn refused(&self) {
        self.refusals.inc();
    }

    /// The series of the bound route `route`, made at 0 if it has none yet:
    /// messages, handler latency, handler errors of every kind and swaps.
    pub fn route(&self, route: RouteKey) -> RouteMetrics {
        self.routes.bound(route)
    }

    /// The series of messages no route took, labelled `label`: messages
    /// only (no handler runs for them).
    pub fn unrouted(&self, label: RouteKey) -> RouteMetrics {
        self.routes.unrouted(label)
    }

    /// Counts one handled event; `route` holds the series of the route that
    /// took it (every message has one, `-` when no route did).
    pub fn record(&self, record: &EventRecord<'_>, route: Option<&RouteMetrics>) {
        match record.event_type {
            EventType::Connect => match record.outcome.status() {
                200..=299 => {
                    self.connections_accepted.inc();
                    self.connections_open.inc();
                }
                status => self.connection_rejected(status),
            },
            EventType::Message => {
                self.bytes_in.inc_by(record.message_bytes as u64);
                if let Some(route) = route {
                    route.messages_in.inc();
                    if record.response_length.is_some() {
                        route.messages_out.inc();
                    }
                    if record.outcome == Outcome::Throttled {
                        route.messages_throttled.inc();
                    }
                }
            }
            EventType::Disconnect => {
                self.connections_open.dec();
            }
        }
        // A handler ran only where a route took the event.
        if let Some(route) = route {
            if let Some(latency) = record.integration_latency {
                route.handler_duration.observe(latency.as_secs_f64());
            }
            route.handler_failed(&record.outcome);
        }
    }

    /// Makes the series of upgrades refused with each of `statuses` (those
    /// known before any refusal), at 0.
    pub fn rejections_known(&self, statuses: impl IntoIterator<Item = u16>) {
        for status in statuses {
            drop(
                self.connections_rejected
                    .get_or_create(&StatusLabel { status }),
            );
        }
    }

    /// Counts an upgrade refused with `status`, by `$connect` or before it.
    pub fn connection_rejected(&self, status: u16) {
        self.connections_rejected
            .get_or_create(&StatusLabel { status })
            .inc();
    }

    /// Counts a management API request by its response status.
    pub fn api_request(&self, status: u16) {
        self.api_requests
            .get_or_create(&StatusLabel { status })
            .inc();
    }

    /// Counts payload bytes written to a client.
    pub fn bytes_out(&self, bytes: usize) {
        self.bytes_out.inc_by(bytes as u64);
    }

    /// Every metric, in `format`.
    pub fn render(&self, format: Exposition) -> String {
        let mut rendered = String::new();
        match format {
            Exposition::OpenMetrics => text::encode(&mut rendered, &self.registry),
            Exposition::PrometheusText => prometheus_text::encode(&mut rendered, &self.registry),
        }
        .expect("writing to a String cannot fail");
        rendered
    }
}
