//! What a route's handler is granted beyond the gateway's own interfaces: its
//! configuration values (read through `wasi:config`) and the hosts it may call
//! (through `wasi:http`). Grants belong to a route, not to a component: one
//! component bound to two routes sees each route's grants in turn.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::uri::{Authority, Scheme, Uri};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};

/// How long an outbound request may take when the route does not say.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest outbound response body when the route does not say.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// A route's configuration values and outbound HTTP policy.
#[derive(Default)]
pub struct RouteGrants {
    values: BTreeMap<String, String>,
    config: WasiConfigVariables,
    http: HttpPolicy,
    buckets: Option<Vec<String>>,
}

impl RouteGrants {
    /// Grants of `values` (the route's configuration) and `http`, with
    /// every key-value bucket open to the route.
    pub fn new(values: BTreeMap<String, String>, http: HttpPolicy) -> Self {
        let config = values.iter().collect();
        RouteGrants {
            values,
            config,
            http,
            buckets: None,
        }
    }

    /// The same grants, with only `buckets` open to the route.
    pub fn only_buckets(mut self, buckets: Vec<String>) -> Self {
        self.buckets = Some(buckets);
        self
    }

    /// Whether the route may open the key-value bucket `name`.
    pub fn allows_bucket(&self, name: &str) -> bool {
        self.buckets
            .as_ref()
            .is_none_or(|buckets| buckets.iter().any(|bucket| bucket == name))
    }

    /// The configuration values, by key.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// Where the route may send HTTP requests.
    pub fn http(&self) -> &HttpPolicy {
        &self.http
    }

    /// The view `wasi:config/store` reads.
    pub(super) fn wasi_config(&self) -> WasiConfig<'_> {
        WasiConfig::new(&self.config)
    }
}

impl PartialEq for RouteGrants {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values && self.http == other.http && self.buckets == other.buckets
    }
}

impl Eq for RouteGrants {}

impl fmt::Debug for RouteGrants {
    /// Shows the configuration keys only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteGrants")
            .field("config_keys", &self.values.keys().collect::<Vec<_>>())
            .field("http", &self.http)
            .field("buckets", &self.buckets)
            .finish()
    }
}

/// Where a route may send HTTP requests, and the limits on each request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpPolicy {
    /// The hosts requests may go to; empty refuses every request.
    pub allowed_hosts: Vec<HostPattern>,
    /// Time allowed to connect, and then for the response to start and for
    /// each later part of its body to arrive.
    pub timeout: Duration,
    /// The largest response body; a larger one fails the read.
    pub max_response_bytes: u64,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            allowed_hosts: Vec::new(),
            timeout: DEFAULT_HTTP_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl HttpPolicy {
    /// Whether a request to `uri` is allowed.
    pub fn allows(&self, uri: &Uri) -> bool {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return false;
        };
        self.allowed_hosts
            .iter()
            .any(|pattern| pattern.matches(scheme, authority))
    }
}

/// One entry of a route's `http.allowed_hosts`: `[scheme://]host[:port]`.
///
/// The host is a name, an IP address, `*.domain` (any subdomain of `domain`,
/// not `domain` itself) or `*` (any host). Without a port, the scheme's
/// default port (80 or 443) is meant; `:*` allows any port. Without a scheme,
/// both `http` and `https` are allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    scheme: Option<Scheme>,
    host: HostName,
    port: PortPattern,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostName {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    SubdomainOf(String),
    Exact(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortPattern {
    Default,
    Any,
    Exactly(u16),
}

impl HostPattern {
    fn matches(&self, scheme: &Scheme, authority: &Authority) -> bool {
        if self
            .scheme
            .as_ref()
            .is_some_and(|allowed| allowed != scheme)
        {
            return false;
        }
        let host = authority.host().to_ascii_lowercase();
        let host_matches = match &self.host {
            HostName::Any => true,
            HostName::SubdomainOf(suffix) => host.ends_with(suffix.as_str()),
            HostName::Exact(name) => host == *name,
        };
        let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default_port);
        let port_matches = match self.port {
            PortPattern::Any => true,
            PortPattern::Default => port == default_port,
            PortPattern::Exactly(allowed) => port == allowed,
        };
        host_matches && port_matches
    }
}

impl FromStr for HostPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |why: &str| format!("`{text}` is not a host pattern: {why}");
        let (scheme, rest) = match text.split_once("://") {
            Some(("http", rest)) => (Some(Scheme::HTTP), rest),
            Some(("https", rest)) => (Some(Scheme::HTTPS), rest),
            Some(_) => return Err(invalid("the scheme must be http or https")),
            None => (None, text),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(invalid("give a host and an optional port, not a URL path"));
        }
        let (rest, port) = match rest.strip_suffix(":*") {
            Some(host) => (host, PortPattern::Any),
            None => (rest, PortPattern::Default),
        };
        let authority: Authority = rest.parse().map_err(|_| invalid("bad host or port"))?;
        let has_port = authority.as_str().len() > authority.host().len();
        let port = match (has_port, authority.port_u16()) {
            (_, Some(number)) => PortPattern::Exactly(number),
            (true, None) => return Err(invalid("bad host or port")),
            (false, None) => port,
        };
        let name = authority.host().to_ascii_lowercase();
        let host = match name.as_str() {
            "" => return Err(invalid("the host is empty")),
            "*" => HostName::Any,
            _ => match name.strip_prefix("*.") {
                Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                    HostName::SubdomainOf(format!(".{domain}"))
                }
                Some(_) => return Err(invalid("`*.` must be followed by a domain")),
                None if name.contains('*') => {
                    return Err(invalid(
                        "`*` may only stand for the whole host or `*.domain`",
                    ));
                }
                None => HostName::Exact(name),
            },
        };
        Ok(HostPattern { scheme, host, port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> HttpPolicy {
        HttpPolicy {
            allowed_hosts: patterns.iter().map(|p| p.parse().unwrap()).collect(),
            ..HttpPolicy::default()
        }
    }

    fn allows(patterns: &[&str], uri: &str) -> bool {
        policy(patterns).allows(&uri.parse().unwrap())
    }

    #[test]
    fn hosts_ports_and_schemes_must_all_match() {
        assert!(allows(&["api.example.com"], "https://api.example.com/x"));
        assert!(allows(&["api.example.com"], "http://API.example.com/"));
        assert!(!allows(
            &["api.example.com"],
            "https://api.example.com:8443/"
        ));
        assert!(!allows(&["api.example.com"], "https://evil.com/"));
        assert!(!allows(
            &["api.example.com"],
            "https://api.example.com.evil.com/"
        ));
        assert!(allows(&["127.0.0.1:9000"], "http://127.0.0.1:9000/hook"));
        assert!(!allows(&["127.0.0.1:9000"], "http://127.0.0.1:9001/hook"));
        assert!(allows(&["127.0.0.1:*"], "http://127.0.0.1:9001/"));
        assert!(!allows(
            &["https://api.example.com"],
            "http://api.example.com/"
        ));
        assert!(allows(&["*.example.com"], "https://a.b.example.com/"));
        assert!(!allows(&["*.example.com"], "https://example.com/"));
        assert!(allows(&["*:*"], "http://10.0.0.1:1234/"));
        assert!(allows(&["[::1]:8080"], "http://[::1]:8080/"));
        assert!(!allows(&[], "http://127.0.0.1/"));
    }

    #[test]
    fn bad_patterns_say_what_is_wrong() {
        for (pattern, why) in [
            ("ftp://x.com", "http or https"),
            ("x.com/path", "not a URL path"),
            ("a*b.com", "whole host"),
            ("*.", "followed by a domain"),
            ("x.com:99999", "bad host or port"),
        ] {
            let error = pattern.parse::<HostPattern>().unwrap_err();
            assert!(error.contains(why), "{pattern}: {error}");
        }
    }
}
