//! The route table: which plugin serves which route key.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::plugins::Plugin;

/// The route `$connect` runs during the upgrade.
pub const CONNECT: &str = "$connect";
/// The route `$disconnect` runs once a connection has ended.
pub const DISCONNECT: &str = "$disconnect";
/// The route for messages no other route matches.
pub const DEFAULT: &str = "$default";

/// Route keys bound to plugins.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: BTreeMap<String, Arc<Plugin>>,
}

impl RouteTable {
    /// Binds `route` to `plugin`, replacing any earlier binding.
    pub fn bind(&mut self, route: impl Into<String>, plugin: Arc<Plugin>) {
        self.routes.insert(route.into(), plugin);
    }

    /// The plugin bound to `route`.
    pub fn get(&self, route: &str) -> Option<&Arc<Plugin>> {
        self.routes.get(route)
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
            .map(|(key, plugin)| (key.as_str(), plugin))
    }
}
