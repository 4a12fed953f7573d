//! Keys fetched from an issuer's JWKS URL, cached in the instance's memory
//! by `(issuer, kid)`.
//!
//! Why memory and not `wasi:keyvalue`: the keys are what every token is
//! trusted by, and a key-value bucket is shared by every route granted it
//! (every route, unless the operator lists `buckets` for each): any handler
//! could then plant a key of its own. An instance's memory is its own. The
//! cost is a fetch per instance: the gateway keeps up to
//! `instances_per_plugin` instances of the component and may drop one (a
//! fault, a hot swap, a memory limit) at any time; a new one starts empty
//! and fetches on its first token. That is a handful of small GETs per
//! `jwks_ttl`, which an identity provider's JWKS endpoint (usually behind a
//! CDN) is made for.
//!
//! Entries are keyed by issuer, never by `kid` alone: two issuers may use
//! the same `kid`, and a token must only ever be checked with the keys of
//! the issuer it names. An entry also remembers the URL it came from, so a
//! changed `jwks_url` is fetched anew.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use wsgate_sdk::http::{HttpError, Request};

use crate::keys::{self, Key, Secrets};

/// How a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The route may not reach the URL's host: the operator's mistake.
    Denied(String),
    /// The endpoint failed or answered something else than a key set; a
    /// later fetch may succeed.
    Failed(String),
}

/// When keys are fetched.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Fetched keys are used this long, then fetched again.
    pub ttl: Duration,
    /// The least time between two fetches of one issuer's keys, so that
    /// tokens naming unknown `kid`s cannot make the gateway hammer the
    /// endpoint.
    pub cooldown: Duration,
}

/// One issuer's fetched keys.
struct Entry {
    url: String,
    keys: Vec<Key>,
    /// When `keys` were fetched; `None` if no fetch has succeeded yet.
    fetched_at: Option<Instant>,
    /// When a fetch was last tried.
    tried_at: Instant,
    /// How the last fetch failed, if it did.
    failure: Option<FetchError>,
}

impl Entry {
    /// An entry for `url` with nothing fetched yet.
    fn new(url: &str, now: Instant) -> Self {
        Entry {
            url: url.to_owned(),
            keys: Vec::new(),
            fetched_at: None,
            tried_at: now,
            failure: None,
        }
    }
}

/// The cache of an instance: issuer → its keys.
#[derive(Default)]
pub struct Cache {
    issuers: HashMap<String, Entry>,
}

thread_local! {
    /// The instance's cache: a component instance is single-threaded and
    /// lives across the events the gateway gives it.
    static CACHE: RefCell<Cache> = RefCell::default();
}

/// Runs `f` with the instance's cache.
pub fn with_cache<R>(f: impl FnOnce(&mut Cache) -> R) -> R {
    CACHE.with(|cache| f(&mut cache.borrow_mut()))
}

impl Cache {
    /// The keys of `issuer` from `url` that fit a token of `algorithm`
    /// naming `kid`. They are fetched with `fetch` when none is cached, when
    /// the cached ones are older than the TTL, or when none fits (an unknown
    /// `kid`, after a rotation), but never twice within the cooldown. When a
    /// fetch fails, keys fetched before keep serving the tokens they fit;
    /// for one none fits, the failure is the answer until a fetch succeeds.
    pub fn keys(
        &mut self,
        (issuer, url): (&str, &str),
        (algorithm, kid): (Algorithm, Option<&str>),
        policy: Policy,
        now: Instant,
        fetch: impl FnOnce(&str) -> Result<Vec<Key>, FetchError>,
    ) -> Result<Vec<Key>, FetchError> {
        let fitting = |entry: &Entry| -> Vec<Key> {
            let keys = entry.keys.iter();
            keys.filter(|key| key.fits(algorithm, kid))
                .cloned()
                .collect()
        };
        let entry = self.issuers.get(issuer).filter(|entry| entry.url == url);
        let due = match entry {
            None => true,
            Some(entry) => {
                let cooled = now.duration_since(entry.tried_at) >= policy.cooldown;
                let stale = entry
                    .fetched_at
                    .is_none_or(|at| now.duration_since(at) >= policy.ttl);
                cooled && (stale || fitting(entry).is_empty())
            }
        };
        if due {
            let fetched = fetch(url);
            if let Err(FetchError::Denied(_)) = fetched {
                // Refused by the gateway itself: no endpoint was called, and
                // the operator's fix applies at once.
                return fetched;
            }
            let entry = self
                .issuers
                .entry(issuer.to_owned())
                .or_insert_with(|| Entry::new(url, now));
            if entry.url != url {
                *entry = Entry::new(url, now);
            }
            entry.tried_at = now;
            match fetched {
                Ok(keys) => {
                    entry.keys = keys;
                    entry.fetched_at = Some(now);
                    entry.failure = None;
                }
                Err(error) => entry.failure = Some(error),
            }
        }
        let entry = &self.issuers[issuer];
        let keys = fitting(entry);
        match &entry.failure {
            // The token's key may be one the endpoint would have served:
            // not known to be wrong, so the caller may retry.
            Some(failure) if keys.is_empty() => Err(failure.clone()),
            _ => Ok(keys),
        }
    }
}

/// Fetches the key set at `url` through `wasi:http`; logs what it got.
pub fn fetch(url: &str) -> Result<Vec<Key>, FetchError> {
    let fetched = Request::get(url)
        .header("accept", "application/jwk-set+json, application/json")
        .send()
        .map_err(|error| match error {
            HttpError::Denied { .. } => FetchError::Denied(format!("jwks_url {url}: {error}")),
            error => FetchError::Failed(error.to_string()),
        })
        .and_then(|response| match response.status() {
            200 => keys::from_jwks(&response.text(), Secrets::Skipped).map_err(FetchError::Failed),
            status => Err(FetchError::Failed(format!("it answered {status}"))),
        });
    match &fetched {
        Ok(keys) => println!("jwt-authorizer: fetched {} keys from {url}", keys.len()),
        Err(FetchError::Failed(why)) => eprintln!("jwt-authorizer: fetching {url} failed: {why}"),
        Err(FetchError::Denied(_)) => {}
    }
    fetched
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::keys;

    const POLICY: Policy = Policy {
        ttl: Duration::from_secs(600),
        cooldown: Duration::from_secs(30),
    };

    fn key(kid: &str) -> Key {
        let mut key = keys::from_secret(kid);
        key.kid = Some(kid.to_owned());
        key
    }

    /// A cache and a key set to serve, counting the fetches.
    struct Fixture {
        cache: Cache,
        served: Vec<Key>,
        fetches: Cell<usize>,
        start: Instant,
    }

    impl Fixture {
        fn new(kids: &[&str]) -> Self {
            Fixture {
                cache: Cache::default(),
                served: kids.iter().map(|kid| key(kid)).collect(),
                fetches: Cell::new(0),
                start: Instant::now(),
            }
        }

        /// The kids of `issuer`'s keys fitting `kid`, `seconds` after the start.
        fn kids(
            &mut self,
            issuer: &str,
            kid: &str,
            seconds: u64,
        ) -> Result<Vec<String>, FetchError> {
            let served = self.served.clone();
            let fetches = &self.fetches;
            let keys = self.cache.keys(
                (issuer, "http://idp/jwks"),
                (Algorithm::HS256, Some(kid)),
                POLICY,
                self.start + Duration::from_secs(seconds),
                |_| {
                    fetches.set(fetches.get() + 1);
                    Ok(served)
                },
            )?;
            Ok(keys.into_iter().filter_map(|key| key.kid).collect())
        }
    }

    #[test]
    fn keys_are_fetched_once_then_again_after_the_ttl() {
        let mut fixture = Fixture::new(&["a"]);
        assert_eq!(fixture.kids("idp", "a", 0), Ok(vec!["a".to_owned()]));
        assert_eq!(fixture.kids("idp", "a", 599), Ok(vec!["a".to_owned()]));
        assert_eq!(fixture.fetches.get(), 1);
        assert_eq!(fixture.kids("idp", "a", 600), Ok(vec!["a".to_owned()]));
        assert_eq!(fixture.fetches.get(), 2);
    }

    #[test]
    fn an_unknown_kid_fetches_again_once_the_cooldown_has_passed() {
        let mut fixture = Fixture::new(&["a"]);
        fixture.kids("idp", "a", 0).unwrap();
        fixture.served = vec![key("a"), key("b")];
        assert_eq!(
            fixture.kids("idp", "b", 10),
            Ok(vec![]),
            "within the cooldown"
        );
        assert_eq!(fixture.fetches.get(), 1);
        assert_eq!(fixture.kids("idp", "b", 30), Ok(vec!["b".to_owned()]));
        assert_eq!(fixture.fetches.get(), 2);
        assert_eq!(fixture.kids("idp", "zz", 40), Ok(vec![]));
        assert_eq!(
            fixture.fetches.get(),
            2,
            "unknown kids cannot force fetches"
        );
    }

    #[test]
    fn each_issuer_has_its_own_keys() {
        let mut fixture = Fixture::new(&["a"]);
        fixture.kids("one", "a", 0).unwrap();
        fixture.served = vec![key("b")];
        assert_eq!(
            fixture.kids("two", "a", 1),
            Ok(vec![]),
            "issuer two has no `a`"
        );
        assert_eq!(fixture.kids("one", "a", 2), Ok(vec!["a".to_owned()]));
        assert_eq!(fixture.fetches.get(), 2);
    }

    #[test]
    fn a_failed_fetch_keeps_the_keys_fetched_before() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let get = |cache: &mut Cache, seconds, result: Result<Vec<Key>, FetchError>| {
            let at = start + Duration::from_secs(seconds);
            cache
                .keys(
                    ("idp", "u"),
                    (Algorithm::HS256, Some("a")),
                    POLICY,
                    at,
                    |_| result,
                )
                .map(|keys| keys.len())
        };
        let down = || Err(FetchError::Failed("503".into()));
        assert_eq!(
            get(&mut cache, 0, down()),
            Err(FetchError::Failed("503".into()))
        );
        assert_eq!(
            get(&mut cache, 1, Ok(vec![key("a")])),
            Err(FetchError::Failed("503".into())),
            "not tried again within the cooldown"
        );
        assert_eq!(get(&mut cache, 30, Ok(vec![key("a")])), Ok(1));
        assert_eq!(
            get(&mut cache, 700, down()),
            Ok(1),
            "stale keys keep serving"
        );
    }

    #[test]
    fn a_kid_the_failed_endpoint_could_not_be_asked_about_is_the_failure() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let mut get = |seconds, kid, result: Result<Vec<Key>, FetchError>| {
            let at = start + Duration::from_secs(seconds);
            let keys = cache.keys(
                ("idp", "u"),
                (Algorithm::HS256, Some(kid)),
                POLICY,
                at,
                |_| result,
            );
            keys.map(|keys| keys.len())
        };
        let down = || Err(FetchError::Failed("503".into()));
        assert_eq!(get(0, "a", Ok(vec![key("a")])), Ok(1));
        assert_eq!(
            get(30, "b", down()),
            Err(FetchError::Failed("503".into())),
            "`b` may be a new key: not refused as unknown"
        );
        assert_eq!(get(31, "a", down()), Ok(1), "`a` still verifies");
        assert_eq!(get(60, "b", Ok(vec![key("a")])), Ok(0), "now known unknown");
    }

    #[test]
    fn a_denied_host_is_not_cooled_down_so_a_fixed_config_applies_at_once() {
        let mut cache = Cache::default();
        let now = Instant::now();
        let tries = Cell::new(0);
        for _ in 0..2 {
            let denied = cache.keys(("idp", "u"), (Algorithm::HS256, None), POLICY, now, |_| {
                tries.set(tries.get() + 1);
                Err(FetchError::Denied("not allowed".into()))
            });
            assert!(matches!(denied, Err(FetchError::Denied(_))));
        }
        assert_eq!(tries.get(), 2);
    }
}
