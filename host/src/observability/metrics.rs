//! Prometheus metrics, served by the management listener at `GET /metrics`
//! (OpenMetrics text, which Prometheus scrapes natively):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `wsgate_connections_open` | gauge | |
//! | `wsgate_connections_accepted_total` | counter | |
//! | `wsgate_connections_rejected_total` | counter | `status` |
//! | `wsgate_messages_in_total` | counter | `route` |
//! | `wsgate_messages_out_total` | counter | `route` |
//! | `wsgate_handler_duration_seconds` | histogram | `route` |
//! | `wsgate_handler_errors_total` | counter | `route`, `kind` |
//! | `wsgate_api_requests_total` | counter | `status` |
//! | `wsgate_bytes_in_total` | counter | |
//! | `wsgate_bytes_out_total` | counter | |
//! | `wsgate_cluster_reachable` | gauge | (cluster mode: 1 while Redis answers heartbeats) |
//! | `wsgate_cluster_fenced` | gauge | (cluster mode: 1 while this node holds no lease and takes no connections) |
//! | `wsgate_cluster_deliveries_received_total` | counter | (cluster mode: requests from other nodes carried out here) |

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry as MetricRegistry, Unit};

use crate::event::{EventType, RouteKey, intern};
use crate::observability::access_log::{EventRecord, Outcome};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    /// The route table's: labelling an event copies a pointer.
    route: RouteKey,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    route: RouteKey,
    /// `trap`, `error` or `invalid-response`.
    kind: &'static str,
}

type HistogramFamily = Family<RouteLabel, Histogram, fn() -> Histogram>;

/// One route's own series, looked up once when the route is bound: an event
/// then counts with no lookup (each `Family` lookup takes a lock shared by
/// every thread and hashes the label), and a bound route's series are
/// scraped at 0 before its first event.
#[derive(Clone, Debug)]
pub struct RouteMetrics {
    messages_in: Counter,
    messages_out: Counter,
    handler_duration: Histogram,
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: MetricRegistry,
    connections_open: Gauge,
    connections_accepted: Counter,
    connections_rejected: Family<StatusLabel, Counter>,
    messages_in: Family<RouteLabel, Counter>,
    messages_out: Family<RouteLabel, Counter>,
    handler_duration: HistogramFamily,
    handler_errors: Family<FaultLabels, Counter>,
    api_requests: Family<StatusLabel, Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
    swaps: Family<RouteLabel, Counter>,
    refusals: Counter,
    cluster_reachable: Gauge,
    cluster_fenced: Gauge,
    cluster_deliveries: Counter,
    detached: Gauge,
    resumes: Counter,
    resumes_refused: Counter,
    overflows: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under the `wsgate_` prefix.
    pub fn new() -> Self {
        let mut metrics = Metrics {
            registry: MetricRegistry::with_prefix("wsgate"),
            connections_open: Gauge::default(),
            connections_accepted: Counter::default(),
            connections_rejected: Family::default(),
            messages_in: Family::default(),
            messages_out: Family::default(),
            // 0.5 ms to about 4 s.
            handler_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 14))
            }),
            handler_errors: Family::default(),
            api_requests: Family::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            swaps: Family::default(),
            refusals: Counter::default(),
            cluster_reachable: Gauge::default(),
            cluster_fenced: Gauge::default(),
            cluster_deliveries: Counter::default(),
            detached: Gauge::default(),
            resumes: Counter::default(),
            resumes_refused: Counter::default(),
            overflows: Counter::default(),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "plugin_swaps",
            "Route component changes by hot swap (bound, swapped or unbound), per route",
            metrics.swaps.clone(),
        );
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
            "messages_in",
            "Client messages, by the route that took them (- when none did)",
            metrics.messages_in.clone(),
        );
        registry.register(
            "messages_out",
            "Route responses and error frames sent back, by route",
            metrics.messages_out.clone(),
        );
        registry.register_with_unit(
            "handler_duration",
            "How long handler calls took, by route",
            Unit::Seconds,
            metrics.handler_duration.clone(),
        );
        registry.register(
            "handler_errors",
            "Handler calls that failed, by route and kind (trap, error, invalid-response)",
            metrics.handler_errors.clone(),
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
        metrics
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
        let label = RouteLabel {
            route: intern(route),
        };
        self.swaps.get_or_create(&label).inc();
    }

    /// Counts a component file refused by hot swap.
    pub fn refused(&self) {
        self.refusals.inc();
    }

    /// The series of `route` (made at 0 if it has none yet).
    pub fn route(&self, route: RouteKey) -> RouteMetrics {
        let label = RouteLabel { route };
        RouteMetrics {
            messages_in: self.messages_in.get_or_create(&label).clone(),
            messages_out: self.messages_out.get_or_create(&label).clone(),
            handler_duration: self.handler_duration.get_or_create(&label).clone(),
        }
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
                    if record.replied {
                        route.messages_out.inc();
                    }
                }
            }
            EventType::Disconnect => {
                self.connections_open.dec();
            }
        }
        if let (Some(latency), Some(route)) = (record.integration_latency, route) {
            route.handler_duration.observe(latency.as_secs_f64());
        }
        let kind = match record.outcome {
            Outcome::Trapped(_) => "trap",
            Outcome::Failed { .. } => "error",
            Outcome::Invalid(_) => "invalid-response",
            Outcome::Status(_) | Outcome::NoRoute | Outcome::Throttled => return,
        };
        self.handler_errors
            .get_or_create(&FaultLabels {
                route: record.route_key,
                kind,
            })
            .inc();
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

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
