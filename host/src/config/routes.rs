//! The routes of `wsgate.toml`: `[routes]` says which component serves which
//! route, with the route's rate limit, configuration values and outbound HTTP
//! policy; the top-level `[config]` holds values every route reads.
//!
//! ```toml
//! [config]
//! greeting = "hello"
//!
//! [routes]
//! "$connect" = "auth.wasm"
//! sendmessage = { component = "chat.wasm", rate = 50, burst = 100 }
//!
//! [routes.forward]
//! component = "http-forward.wasm"
//! config = { backend_url = "http://127.0.0.1:9000/events" }
//! http = { allowed_hosts = ["127.0.0.1:9000"], timeout = "5s", max_response_bytes = 65536 }
//! buckets = ["events"]
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::ranges::{self, within};
use crate::keyvalue::valid_bucket_name;
use crate::limits::Rate;
use crate::runtime::grants::{HostPattern, HttpPolicy, RouteGrants};

/// The routes of `wsgate.toml`, resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteConfig {
    /// Route key → component file name in the plugins directory.
    pub components: BTreeMap<String, String>,
    /// Route key → the route's rate limit.
    pub rates: BTreeMap<String, Rate>,
    /// Route key → what its handler is granted, for routes with a table.
    grants: BTreeMap<String, Arc<RouteGrants>>,
    /// What every other route's handler is granted: the `[config]` values.
    shared: Arc<RouteGrants>,
}

impl RouteConfig {
    /// Resolves the file's `[routes]` and `[config]` tables.
    pub fn parse(routes: Option<toml::Value>, config: Option<toml::Value>) -> anyhow::Result<Self> {
        let shared_values = match config {
            Some(config) => config_values(config).context("in [config]")?,
            None => BTreeMap::new(),
        };
        let routes: toml::Table = match routes {
            Some(routes) => routes.try_into().context("[routes] must be a table")?,
            None => toml::Table::new(),
        };
        let mut resolved = RouteConfig {
            shared: Arc::new(RouteGrants::new(
                shared_values.clone(),
                HttpPolicy::default(),
            )),
            ..RouteConfig::default()
        };
        for (route, binding) in routes {
            let table = match binding {
                toml::Value::String(component) => {
                    resolved.components.insert(route, component);
                    continue;
                }
                toml::Value::Table(table) => table,
                _ => bail!(
                    "route `{route}`: give a component file name, or a table with `component`"
                ),
            };
            let options: RouteOptions = toml::Value::Table(table)
                .try_into()
                .with_context(|| format!("route `{route}`"))?;
            let grants = options
                .grants(&shared_values)
                .with_context(|| format!("route `{route}`"))?;
            if let Some(rate) = options.rate().with_context(|| format!("route `{route}`"))? {
                resolved.rates.insert(route.clone(), rate);
            }
            resolved.grants.insert(route.clone(), Arc::new(grants));
            resolved.components.insert(route, options.component);
        }
        Ok(resolved)
    }

    /// What `route`'s handler is granted.
    pub fn grants(&self, route: &str) -> Arc<RouteGrants> {
        Arc::clone(self.grants.get(route).unwrap_or(&self.shared))
    }
}

/// A route given as a table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteOptions {
    /// The component file.
    component: String,
    /// Messages per second the route accepts, from all connections together.
    rate: Option<u32>,
    /// Messages the route accepts in a burst above its rate.
    burst: Option<u32>,
    /// Values the handler reads through `wasi:config`, over `[config]`'s.
    #[serde(default)]
    config: Option<toml::Value>,
    /// Outbound HTTP.
    #[serde(default)]
    http: Option<HttpOptions>,
    /// The key-value buckets the handler may open; all when absent.
    buckets: Option<Vec<String>>,
}

impl RouteOptions {
    /// The route's token bucket, if it has a rate.
    fn rate(&self) -> anyhow::Result<Option<Rate>> {
        let Some(rate) = self.rate else {
            return Ok(None);
        };
        let burst = self
            .burst
            .map(|burst| within("`burst`", burst, 1..=u32::MAX))
            .transpose()?;
        Ok(Rate::new(within("`rate`", rate, 1..=u32::MAX)?, burst))
    }

    fn grants(&self, shared: &BTreeMap<String, String>) -> anyhow::Result<RouteGrants> {
        let mut values = shared.clone();
        if let Some(config) = &self.config {
            values.extend(config_values(config.clone()).context("in `config`")?);
        }
        let http = match &self.http {
            Some(http) => http.policy().context("in `http`")?,
            None => HttpPolicy::default(),
        };
        let grants = RouteGrants::new(values, http);
        Ok(match &self.buckets {
            Some(buckets) => {
                if let Some(bad) = buckets.iter().find(|name| !valid_bucket_name(name)) {
                    bail!(
                        "in `buckets`: `{bad}` is not a bucket name (1 to 128 letters, digits, `-`, `_`, `.`)"
                    );
                }
                grants.only_buckets(buckets.clone())
            }
            None => grants,
        })
    }
}

/// A route's `http` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpOptions {
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    max_response_bytes: Option<u64>,
}

impl HttpOptions {
    fn policy(&self) -> anyhow::Result<HttpPolicy> {
        let defaults = HttpPolicy::default();
        let allowed_hosts = self
            .allowed_hosts
            .iter()
            .map(|pattern| pattern.parse::<HostPattern>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?;
        Ok(HttpPolicy {
            allowed_hosts,
            timeout: match self.timeout {
                Some(timeout) => within("`timeout`", timeout, ranges::SOME_DURATION)?,
                None => defaults.timeout,
            },
            // The gateway holds the whole body in memory.
            max_response_bytes: match self.max_response_bytes {
                Some(bytes) => within("`max_response_bytes`", bytes, 0..=1 << 30)?,
                None => defaults.max_response_bytes,
            },
        })
    }
}

/// A `config` table's values as the strings `wasi:config` hands out: strings
/// as they are, numbers, booleans and dates written out, and the values of a
/// nested table under its name and a dot (`claim.sub`), so a handler's
/// settings can be grouped in the file.
fn config_values(config: toml::Value) -> anyhow::Result<BTreeMap<String, String>> {
    let toml::Value::Table(table) = config else {
        bail!("configuration values must be a table of keys and values");
    };
    let mut values = BTreeMap::new();
    flatten("", table, &mut values)?;
    Ok(values)
}

/// Adds `table`'s values to `values`, each key after `prefix`.
fn flatten(
    prefix: &str,
    table: toml::Table,
    values: &mut BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (key, value) in table {
        let key = format!("{prefix}{key}");
        let value = match value {
            toml::Value::String(text) => text,
            toml::Value::Table(table) => {
                flatten(&format!("{key}."), table, values)?;
                continue;
            }
            toml::Value::Array(_) => {
                bail!("`{key}`: a configuration value is a string, number or boolean, not a list")
            }
            value => value.to_string(),
        };
        if values.insert(key.clone(), value).is_some() {
            bail!("`{key}` is set twice");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<RouteConfig> {
        let mut table: toml::Table = text.parse().unwrap();
        RouteConfig::parse(table.remove("routes"), table.remove("config"))
    }

    #[test]
    fn routes_read_their_own_values_over_the_shared_ones() {
        let routes = parse(
            "[config]\ngreeting = \"hi\"\nroom_size = 10\n\
             [routes]\n\"$default\" = \"echo.wasm\"\n\
             [routes.forward]\ncomponent = \"fwd.wasm\"\nrate = 5\n\
             config = { room_size = 3, debug = true }\n\
             http = { allowed_hosts = [\"127.0.0.1:9000\"], timeout = \"2s\" }\n",
        )
        .unwrap();
        assert_eq!(routes.components["forward"], "fwd.wasm");
        assert_eq!(routes.rates["forward"].per_second.get(), 5);
        let forward = routes.grants("forward");
        assert_eq!(forward.values()["room_size"], "3");
        assert_eq!(forward.values()["greeting"], "hi");
        assert_eq!(forward.values()["debug"], "true");
        assert_eq!(forward.http().timeout, Duration::from_secs(2));
        assert!(
            forward
                .http()
                .allows(&"http://127.0.0.1:9000/x".parse().unwrap())
        );
        let default = routes.grants("$default");
        assert_eq!(default.values()["room_size"], "10");
        assert!(default.http().allowed_hosts.is_empty());
    }

    #[test]
    fn nested_tables_name_their_values_with_dots() {
        let routes = parse(
            "[config.claim]\nsub = \"userId\"\n\
             [routes.\"$connect\"]\ncomponent = \"auth.wasm\"\n\
             config = { issuers.corp.issuer = \"https://corp/\", \"claim.roles\" = \"roles\" }\n",
        )
        .unwrap();
        let values = routes.grants("$connect").values().clone();
        assert_eq!(values["claim.sub"], "userId");
        assert_eq!(values["claim.roles"], "roles");
        assert_eq!(values["issuers.corp.issuer"], "https://corp/");
    }

    #[test]
    fn mistakes_name_the_route_and_the_key() {
        for (text, expected) in [
            ("[routes.a]\ncomponent = \"a.wasm\"\nrat = 5\n", "route `a`"),
            (
                "[routes.a]\ncomponent = \"a.wasm\"\nhttp = { allowed_hosts = [\"x.com/path\"] }\n",
                "not a URL path",
            ),
            (
                "[routes.a]\ncomponent = \"a.wasm\"\nconfig = { list = [1] }\n",
                "`list`",
            ),
            ("[routes]\na = 5\n", "route `a`"),
            ("[config]\nlist = [1]\n", "[config]"),
            (
                "[config]\n\"a.b\" = 1\na = { b = 2 }\n",
                "`a.b` is set twice",
            ),
        ] {
            let error = format!("{:#}", parse(text).unwrap_err());
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
