//! The route table: which plugin serves which route key.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Rate;
use crate::limits::TokenBucket;
use crate::plugins::Plugin;

/// The route `$connect` runs during the upgrade.
pub const CONNECT: &str = "$connect";
/// The route `$disconnect` runs once a connection has ended.
pub const DISCONNECT: &str = "$disconnect";
/// The route for messages no other route matches.
pub const DEFAULT: &str = "$default";

/// A route's plugin and its rate limit, shared by all connections.
#[derive(Debug)]
struct Route {
    plugin: Arc<Plugin>,
    limit: Option<TokenBucket>,
}

/// Route keys bound to plugins.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: BTreeMap<String, Route>,
}

impl RouteTable {
    /// Binds `route` to `plugin`, with an optional rate limit for the whole
    /// route; replaces any earlier binding.
    pub fn bind(&mut self, route: impl Into<String>, plugin: Arc<Plugin>, rate: Option<Rate>) {
        let limit = rate.map(TokenBucket::new);
        self.routes.insert(route.into(), Route { plugin, limit });
    }

    /// The plugin bound to `route`.
    pub fn get(&self, route: &str) -> Option<&Arc<Plugin>> {
        self.routes.get(route).map(|route| &route.plugin)
    }

    /// Takes a token from `route`'s rate limit; true if it has none.
    pub fn admit(&self, route: &str) -> bool {
        self.routes
            .get(route)
            .and_then(|route| route.limit.as_ref())
            .is_none_or(TokenBucket::allow)
    }

    /// Whether any custom route (one not starting with `$`) is bound; when none
    /// is, messages need not be parsed to be routed.
    pub fn has_custom_routes(&self) -> bool {
        self.routes.keys().any(|key| !key.starts_with('$'))
    }

    /// Every binding, in route key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Plugin>)> {
        self.routes
            .iter()
            .map(|(key, route)| (key.as_str(), &route.plugin))
    }
}
