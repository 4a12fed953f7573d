//! The route table: which plugin serves which route key. A table never
//! changes; hot swap builds a new one and the router switches to it at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::event::{RouteKey, intern};
use crate::limits::Rate;
use crate::limits::TokenBucket;
use crate::observability::access_log::SwapRecord;
use crate::observability::metrics::{Metrics, RouteMetrics};
use crate::runtime::{Plugin, RouteGrants};

/// The route `$connect` runs during the upgrade.
pub const CONNECT: &str = "$connect";
/// The route `$disconnect` runs once a connection has ended.
pub const DISCONNECT: &str = "$disconnect";
/// The route for messages no other route matches.
pub const DEFAULT: &str = "$default";

/// A route's plugin, its version count, its grants and its rate limit.
#[derive(Clone, Debug)]
pub struct Route {
    /// The route's key, shared with every event it takes.
    pub key: RouteKey,
    /// The component serving the route.
    pub plugin: Arc<Plugin>,
    /// How many components the route has had: 1 for the first, +1 per swap.
    pub generation: u64,
    /// Its configuration values and outbound HTTP policy.
    pub grants: Arc<RouteGrants>,
    /// The route's rate limit, shared by all connections.
    limit: Option<(Rate, Arc<TokenBucket>)>,
    /// The route's series in the metrics.
    pub metrics: RouteMetrics,
}

impl Route {
    /// Takes a token from the route's rate limit; true if it has none.
    pub fn admit(&self) -> bool {
        self.limit.as_ref().is_none_or(|(_, bucket)| bucket.allow())
    }
}

/// Route keys bound to plugins.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: BTreeMap<String, Route>,
    has_custom_routes: bool,
}

impl RouteTable {
    /// Binds `route` to `plugin` with its grants and an optional rate limit,
    /// counted in `metrics`. The generation and the limit's tokens carry over
    /// from `previous` when they still apply.
    pub fn bind(
        &mut self,
        route: &str,
        plugin: Arc<Plugin>,
        grants: Arc<RouteGrants>,
        rate: Option<Rate>,
        previous: &RouteTable,
        metrics: &Metrics,
    ) {
        let before = previous.routes.get(route);
        let generation = match before {
            Some(old) if Arc::ptr_eq(&old.plugin, &plugin) => old.generation,
            Some(old) => old.generation + 1,
            None => 1,
        };
        let limit = rate.map(|rate| match before.and_then(|old| old.limit.as_ref()) {
            Some((old_rate, bucket)) if *old_rate == rate => (rate, Arc::clone(bucket)),
            _ => (rate, Arc::new(TokenBucket::new(rate))),
        });
        self.has_custom_routes |= !route.starts_with('$');
        let key = intern(route);
        self.routes.insert(
            route.to_owned(),
            Route {
                metrics: metrics.route(key),
                key,
                plugin,
                generation,
                grants,
                limit,
            },
        );
    }

    /// Keeps `route` exactly as `previous` had it (its component was refused).
    pub fn keep(&mut self, route: &str, previous: &RouteTable) {
        if let Some(old) = previous.routes.get(route) {
            self.has_custom_routes |= !route.starts_with('$');
            self.routes.insert(route.to_owned(), old.clone());
        }
    }

    /// The route bound to `key`.
    pub fn get(&self, key: &str) -> Option<&Route> {
        self.routes.get(key)
    }

    /// Whether any custom route (one not starting with `$`) is bound; when none
    /// is, messages need not be parsed to be routed.
    pub fn has_custom_routes(&self) -> bool {
        self.has_custom_routes
    }

    /// Every route, in route key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Route)> {
        self.routes.iter().map(|(key, route)| (key.as_str(), route))
    }

    /// Each route's binding, as hot swap records one when it binds a route.
    pub fn bindings(&self) -> impl Iterator<Item = SwapRecord<'_>> {
        self.iter().map(|(route_key, route)| {
            let info = route.plugin.info();
            SwapRecord {
                route_key,
                change: "bound",
                component: Some(&info.name),
                version: Some(&info.hash),
                generation: Some(route.generation),
                time: info.loaded_at,
            }
        })
    }

    /// Whether no route is bound.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}
