//! The in-memory gateway: this thread's state, and the native half of the
//! seam (`crate::host`), interface by interface, answering from that state
//! as the real gateway would.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use super::HttpRequest;
use crate::bindings::wsgate::gateway::types as wit;
use crate::http::{HttpError, Response};
use crate::{Payload, SendError};

/// The most ids a page of members holds, as in the gateway.
const MAX_PAGE: u32 = 1000;

/// A test's answer to outbound HTTP requests.
pub(super) type Responder = Rc<dyn Fn(&HttpRequest) -> Result<Response, HttpError>>;

/// What the fake gateway knows and what it was asked.
#[derive(Default)]
pub(super) struct Fake {
    /// The `Gateway` that installed it.
    owner: u64,
    pub(super) connections: BTreeMap<String, wit::ConnectionInfo>,
    pub(super) groups: BTreeMap<String, BTreeSet<String>>,
    /// What the next sends fail with, in order.
    pub(super) failures: VecDeque<SendError>,
    pub(super) buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// None allows every bucket.
    pub(super) allowed_buckets: Option<BTreeSet<String>>,
    pub(super) config: BTreeMap<String, String>,
    pub(super) responder: Option<Responder>,
    /// Every message each connection was sent, directly or through a group
    /// or a broadcast.
    pub(super) deliveries: BTreeMap<String, Vec<Payload>>,
    pub(super) group_sends: Vec<(String, Payload, Option<String>)>,
    pub(super) broadcasts: Vec<(Payload, Option<String>)>,
    pub(super) closed: Vec<(String, u16, String)>,
    pub(super) http_requests: Vec<HttpRequest>,
}

thread_local! {
    static INSTALLED: RefCell<Option<Fake>> = const { RefCell::new(None) };
    static LAST_OWNER: Cell<u64> = const { Cell::new(0) };
}

/// Installs a fresh fake for this thread, replacing any other; returns the
/// owner's number.
pub(super) fn install() -> u64 {
    let owner = LAST_OWNER.get() + 1;
    LAST_OWNER.set(owner);
    INSTALLED.set(Some(Fake {
        owner,
        ..Fake::default()
    }));
    owner
}

/// Removes this thread's fake, if `owner` installed it.
pub(super) fn uninstall(owner: u64) {
    // During the thread's teardown the fake may be gone already.
    let _ = INSTALLED.try_with(|installed| {
        let mut installed = installed.borrow_mut();
        if installed.as_ref().is_some_and(|fake| fake.owner == owner) {
            *installed = None;
        }
    });
}

/// Runs `f` on the fake `owner` installed.
pub(super) fn with_owned<R>(owner: u64, f: impl FnOnce(&mut Fake) -> R) -> R {
    with(|fake| {
        assert_eq!(
            fake.owner, owner,
            "this testing::Gateway was replaced by a newer one on this thread"
        );
        f(fake)
    })
}

/// Runs `f` on this thread's fake.
fn with<R>(f: impl FnOnce(&mut Fake) -> R) -> R {
    INSTALLED.with_borrow_mut(|installed| {
        let fake = installed.as_mut().expect(
            "no wsgate_sdk::testing::Gateway on this thread: create one with \
             `Gateway::new()` before running handler code natively",
        );
        f(fake)
    })
}

impl Fake {
    /// Registers a connection, as the gateway does before `$connect`.
    pub(super) fn register(&mut self, info: wit::ConnectionInfo) {
        self.connections.insert(info.connection_id.clone(), info);
    }

    /// Unregisters a connection and takes it out of every group, as the
    /// gateway does when a `$connect` refuses it and before `$disconnect`.
    pub(super) fn unregister(&mut self, id: &str) {
        self.connections.remove(id);
        for group in self.groups.values_mut() {
            group.remove(id);
        }
        self.groups.retain(|_, members| !members.is_empty());
    }

    fn known(&self, id: &str) -> Result<&wit::ConnectionInfo, SendError> {
        self.connections.get(id).ok_or(SendError::Gone)
    }

    /// The failure the test asked of the next send, if any.
    fn next_send(&mut self) -> Result<(), SendError> {
        self.failures.pop_front().map_or(Ok(()), Err)
    }

    fn deliver(&mut self, id: &str, payload: &Payload) {
        self.deliveries
            .entry(id.to_owned())
            .or_default()
            .push(payload.clone());
    }

    /// Delivers `payload` to each of `targets` but `exclude`.
    fn fan_out(&mut self, targets: Vec<String>, payload: &Payload, exclude: Option<&str>) {
        for id in targets.iter().filter(|id| Some(id.as_str()) != exclude) {
            self.deliver(id, payload);
        }
    }
}

/// `wsgate:gateway/connections`.
pub(crate) mod connections {
    use super::with;
    use crate::{ConnectionInfo, Payload, SendError};

    pub(crate) fn send(id: &str, payload: Payload) -> Result<(), SendError> {
        with(|fake| {
            fake.next_send()?;
            fake.known(id)?;
            fake.deliver(id, &payload);
            Ok(())
        })
    }

    pub(crate) fn close(id: &str, code: u16, reason: &str) -> Result<(), SendError> {
        with(|fake| {
            fake.known(id)?;
            fake.closed.push((id.to_owned(), code, reason.to_owned()));
            Ok(())
        })
    }

    pub(crate) fn info(id: &str) -> Result<ConnectionInfo, SendError> {
        with(|fake| Ok(ConnectionInfo(fake.known(id)?.clone())))
    }
}

/// `wsgate:gateway/groups`.
pub(crate) mod groups {
    use std::ops::Bound;

    use super::{MAX_PAGE, with};
    use crate::groups::Page;
    use crate::{Payload, SendError};

    pub(crate) fn join(group: &str, id: &str) -> Result<(), SendError> {
        with(|fake| {
            fake.known(id)?;
            fake.groups
                .entry(group.to_owned())
                .or_default()
                .insert(id.to_owned());
            Ok(())
        })
    }

    pub(crate) fn leave(group: &str, id: &str) {
        with(|fake| {
            if let Some(members) = fake.groups.get_mut(group) {
                members.remove(id);
                if members.is_empty() {
                    fake.groups.remove(group);
                }
            }
        });
    }

    pub(crate) fn send(
        group: &str,
        payload: Payload,
        exclude: Option<&str>,
    ) -> Result<(), SendError> {
        with(|fake| {
            fake.next_send()?;
            let members = fake
                .groups
                .get(group)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            fake.fan_out(members, &payload, exclude);
            fake.group_sends
                .push((group.to_owned(), payload, exclude.map(str::to_owned)));
            Ok(())
        })
    }

    pub(crate) fn broadcast(payload: Payload, exclude: Option<&str>) -> Result<(), SendError> {
        with(|fake| {
            fake.next_send()?;
            let everyone = fake.connections.keys().cloned().collect();
            fake.fan_out(everyone, &payload, exclude);
            fake.broadcasts.push((payload, exclude.map(str::to_owned)));
            Ok(())
        })
    }

    /// At most `limit` (clamped to 1-1000) members in id order after
    /// `cursor`; the cursor of the next page is the last id of this one.
    pub(crate) fn members(group: &str, cursor: Option<&str>, limit: u32) -> Page {
        with(|fake| {
            let Some(members) = fake.groups.get(group) else {
                return Page {
                    ids: Vec::new(),
                    next_cursor: None,
                };
            };
            let start = cursor.map_or(Bound::Unbounded, Bound::Excluded);
            let mut rest = members.range::<str, _>((start, Bound::Unbounded));
            let limit = limit.clamp(1, MAX_PAGE) as usize;
            let ids: Vec<String> = rest.by_ref().take(limit).cloned().collect();
            let next_cursor = match rest.next() {
                Some(_) => ids.last().cloned(),
                None => None,
            };
            Page { ids, next_cursor }
        })
    }
}

/// `wasi:config/store`.
pub(crate) mod config {
    use super::with;

    pub(crate) fn get(key: &str) -> Option<String> {
        with(|fake| fake.config.get(key).cloned())
    }

    pub(crate) fn all() -> Vec<(String, String)> {
        with(|fake| {
            fake.config
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
    }
}

/// `wasi:keyvalue/{store, atomics, batch}`.
pub(crate) mod kv {
    use std::collections::BTreeMap;

    use super::with;
    use crate::kv::KvError;

    /// An open bucket: its name.
    #[derive(Debug)]
    pub(crate) struct Bucket(String);

    impl Bucket {
        pub(crate) fn open(name: &str) -> Result<Self, KvError> {
            let valid = (1..=128).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(KvError::Other(format!(
                    "`{name}` is not a bucket name: use 1 to 128 letters, digits, `-`, `_` or `.`"
                )));
            }
            with(|fake| match &fake.allowed_buckets {
                Some(allowed) if !allowed.contains(name) => Err(KvError::AccessDenied),
                _ => Ok(Self(name.to_owned())),
            })
        }

        /// Runs `f` on the bucket's entries.
        fn entries<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> R) -> R {
            with(|fake| f(fake.buckets.entry(self.0.clone()).or_default()))
        }

        pub(crate) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
            Ok(self.entries(|entries| entries.get(key).cloned()))
        }

        pub(crate) fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
            self.entries(|entries| entries.insert(key.to_owned(), value.to_vec()));
            Ok(())
        }

        pub(crate) fn delete(&self, key: &str) -> Result<(), KvError> {
            self.entries(|entries| entries.remove(key));
            Ok(())
        }

        pub(crate) fn exists(&self, key: &str) -> Result<bool, KvError> {
            Ok(self.entries(|entries| entries.contains_key(key)))
        }

        /// Every key, in order, in one page.
        pub(crate) fn list_keys(
            &self,
            _cursor: Option<u64>,
        ) -> Result<(Vec<String>, Option<u64>), KvError> {
            Ok((
                self.entries(|entries| entries.keys().cloned().collect()),
                None,
            ))
        }

        /// Adds `delta` to the decimal number in `key` (0 if unset), as the
        /// gateway's stores do.
        pub(crate) fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
            self.entries(|entries| {
                let current = match entries.get(key) {
                    None => 0,
                    Some(value) => std::str::from_utf8(value)
                        .ok()
                        .and_then(|text| text.trim().parse::<u64>().ok())
                        .ok_or_else(|| {
                            KvError::Other(format!(
                                "the value of `{key}` is not a decimal number, so it cannot be incremented"
                            ))
                        })?,
                };
                let sum = current
                    .checked_add(delta)
                    .ok_or_else(|| KvError::Other(format!("incrementing `{key}` would overflow")))?;
                entries.insert(key.to_owned(), sum.to_string().into_bytes());
                Ok(sum)
            })
        }

        pub(crate) fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
            Ok(self.entries(|entries| keys.iter().map(|key| entries.get(key).cloned()).collect()))
        }

        pub(crate) fn set_many(&self, pairs: &[(String, Vec<u8>)]) -> Result<(), KvError> {
            self.entries(|entries| entries.extend(pairs.iter().cloned()));
            Ok(())
        }

        pub(crate) fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
            self.entries(|entries| {
                for key in keys {
                    entries.remove(key);
                }
            });
            Ok(())
        }
    }
}

/// `wasi:http/outgoing-handler`.
pub(crate) mod http {
    use super::with;
    use crate::http::{HttpError, Request, Response, split_url};
    use crate::testing::HttpRequest;

    /// Records the request and answers it with the test's responder; with
    /// none, refuses it as the gateway refuses a host the route does not
    /// allow.
    pub(crate) fn send(request: Request) -> Result<Response, HttpError> {
        let (_, host, _) = split_url(&request.url)?;
        let host = host.to_owned();
        let request = HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        // The responder runs with the fake released: it may use the SDK too.
        let responder = with(|fake| {
            fake.http_requests.push(request.clone());
            fake.responder.clone()
        });
        match responder {
            Some(respond) => respond(&request),
            None => Err(HttpError::Denied { host }),
        }
    }
}
