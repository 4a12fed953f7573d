//! The families labelled by route, and one route's own series in them.
//!
//! A route's series are made when the route is bound (at start-up or by a hot
//! swap), so they are scraped at 0 before its first event: an alert on a
//! route's errors then reads 0, not "no data".

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::event::{RouteKey, intern};
use crate::observability::access_log::Outcome;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    /// The route table's: labelling an event copies a pointer.
    route: RouteKey,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    route: RouteKey,
    kind: &'static str,
}

/// How a handler call failed.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A panic, the CPU deadline or the memory cap.
    Trap,
    /// The handler returned an error.
    Error,
    /// The handler's answer could not be used.
    InvalidResponse,
}

impl Fault {
    /// Every kind, in the order of [`RouteMetrics`]' error counters.
    const ALL: [Fault; 3] = [Fault::Trap, Fault::Error, Fault::InvalidResponse];

    /// The `kind` label.
    fn label(self) -> &'static str {
        match self {
            Fault::Trap => "trap",
            Fault::Error => "error",
            Fault::InvalidResponse => "invalid-response",
        }
    }

    /// The fault an event's outcome shows, if any.
    fn of(outcome: &Outcome) -> Option<Fault> {
        match outcome {
            Outcome::Trapped(_) => Some(Fault::Trap),
            Outcome::Failed { .. } => Some(Fault::Error),
            Outcome::Invalid(_) => Some(Fault::InvalidResponse),
            Outcome::Status(_) | Outcome::NoRoute | Outcome::Throttled => None,
        }
    }
}

type HistogramFamily = Family<RouteLabel, Histogram, fn() -> Histogram>;

/// One route's own series, looked up once when the route is bound: an event
/// then counts with no lookup (each `Family` lookup takes a lock shared by
/// every thread and hashes the label).
#[derive(Clone, Debug)]
pub struct RouteMetrics {
    pub(super) messages_in: Counter,
    pub(super) messages_out: Counter,
    pub(super) messages_throttled: Counter,
    pub(super) handler_duration: Histogram,
    /// By [`Fault`], in the order of [`Fault::ALL`].
    handler_errors: [Counter; 3],
}

impl RouteMetrics {
    /// Counts a failed handler call, if `outcome` is one.
    pub(super) fn handler_failed(&self, outcome: &Outcome) {
        if let Some(fault) = Fault::of(outcome) {
            self.handler_errors[fault as usize].inc();
        }
    }
}

/// The families labelled by route.
#[derive(Debug)]
pub(super) struct RouteFamilies {
    messages_in: Family<RouteLabel, Counter>,
    messages_out: Family<RouteLabel, Counter>,
    messages_throttled: Family<RouteLabel, Counter>,
    handler_duration: HistogramFamily,
    handler_errors: Family<FaultLabels, Counter>,
    swaps: Family<RouteLabel, Counter>,
}

impl RouteFamilies {
    /// The families, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let families = RouteFamilies {
            messages_in: Family::default(),
            messages_out: Family::default(),
            messages_throttled: Family::default(),
            // 0.5 ms to about 4 s.
            handler_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 14))
            }),
            handler_errors: Family::default(),
            swaps: Family::default(),
        };
        registry.register(
            "plugin_swaps",
            "Route component changes by hot swap (bound, swapped or unbound), per route",
            families.swaps.clone(),
        );
        registry.register(
            "messages_in",
            "Client messages, by the route that took them (- when none did)",
            families.messages_in.clone(),
        );
        registry.register(
            "messages_out",
            "Route responses and error frames sent back, by route",
            families.messages_out.clone(),
        );
        registry.register(
            "messages_throttled",
            "Client messages refused by a rate limit (the connection's or the route's), by route",
            families.messages_throttled.clone(),
        );
        registry.register_with_unit(
            "handler_duration",
            "How long handler calls took, by route",
            Unit::Seconds,
            families.handler_duration.clone(),
        );
        registry.register(
            "handler_errors",
            "Handler calls that failed, by route and kind (trap, error, invalid-response)",
            families.handler_errors.clone(),
        );
        families
    }

    /// The series of a bound route, made at 0 if it has none yet; its swap
    /// counter too, which hot swap counts by name.
    pub fn bound(&self, route: RouteKey) -> RouteMetrics {
        drop(self.swaps.get_or_create(&RouteLabel { route }));
        RouteMetrics {
            handler_errors: Fault::ALL.map(|fault| {
                let labels = FaultLabels {
                    route,
                    kind: fault.label(),
                };
                self.handler_errors.get_or_create(&labels).clone()
            }),
            ..self.unrouted(route)
        }
    }

    /// The series of messages no bound route took, under `label`: no
    /// handler runs for them and no swap changes them, so their error
    /// counters are never registered.
    pub fn unrouted(&self, label: RouteKey) -> RouteMetrics {
        let label = RouteLabel { route: label };
        RouteMetrics {
            messages_in: self.messages_in.get_or_create(&label).clone(),
            messages_out: self.messages_out.get_or_create(&label).clone(),
            messages_throttled: self.messages_throttled.get_or_create(&label).clone(),
            handler_duration: self.handler_duration.get_or_create(&label).clone(),
            handler_errors: Default::default(),
        }
    }

    /// Counts a hot-swap change of `route`'s component.
    pub fn swap(&self, route: &str) {
        let label = RouteLabel {
            route: intern(route),
        };
        self.swaps.get_or_create(&label).inc();
    }
}
