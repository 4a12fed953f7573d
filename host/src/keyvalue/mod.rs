//! The key-value store handlers reach through the standard `wasi:keyvalue`
//! interfaces: named buckets of byte values. Buckets are created on first use
//! and isolated by name; a route may be restricted to some buckets
//! (`[routes.NAME] buckets = [...]` in `wsgate.toml`).
//!
//! Two back ends, chosen with `--kv`:
//! - [`embedded`] (the default): a `redb` database file in the data
//!   directory, durable (every write is committed to disk before it is
//!   acknowledged) and private to one process;
//! - [`redis`]: a Redis server, one hash per bucket, shared by every gateway of
//!   a cluster.

pub mod embedded;
pub mod redis;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

/// Most keys one `list-keys` call answers.
pub const LIST_PAGE: usize = 1000;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The value to increment is not a decimal number.
    #[error("the value of `{0}` is not a decimal number, so it cannot be incremented")]
    NotANumber(String),
    /// The increment would pass `u64::MAX`.
    #[error("incrementing `{0}` would overflow")]
    Overflow(String),
    /// The back end failed (I/O, Redis unreachable, …).
    #[error("{0}")]
    Backend(String),
}

/// A page of a bucket's keys and the cursor of the next page, if any.
pub type KeyPage = (Vec<String>, Option<u64>);

/// A key-value store of named buckets.
#[async_trait::async_trait]
pub trait KeyValueStore: Send + Sync {
    /// Why the store cannot serve handlers right now, if it cannot; `/ready`
    /// answers 503 with it. A store that recovers by itself (or fails each
    /// operation on its own, as Redis does) answers none.
    fn unavailable(&self) -> Option<String> {
        None
    }
    /// The value of `key`, if set.
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Sets `key` to `value`.
    async fn set(&self, bucket: &str, key: &str, value: Vec<u8>) -> Result<(), KvError>;
    /// Removes `key`; removing a missing key does nothing.
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), KvError>;
    /// Whether `key` is set.
    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, KvError>;
    /// A page of keys, starting at `cursor` (none for the first page).
    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage, KvError>;
    /// Adds `delta` to the decimal number in `key` (0 if unset), atomically,
    /// and returns the sum.
    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, KvError>;
    /// The values of `keys`, in order; none for each unset key.
    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Vec<u8>)>>, KvError>;
    /// Sets every pair, all or none.
    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError>;
    /// Removes every key, all or none.
    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<(), KvError>;
}

/// Which store `--kv` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvBackend {
    /// `embedded`: a database file in the data directory.
    Embedded,
    /// `redis://…`: a Redis server.
    Redis(String),
}

impl std::str::FromStr for KvBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "embedded" => Ok(KvBackend::Embedded),
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(KvBackend::Redis(url.to_owned()))
            }
            other => Err(format!(
                "`{other}` is not a key-value store: use `embedded` or a redis:// URL"
            )),
        }
    }
}

impl<'de> serde::Deserialize<'de> for KvBackend {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Opens the store `backend` names; the embedded one lives in `data_dir`.
pub async fn open(backend: &KvBackend, data_dir: &Path) -> anyhow::Result<Arc<dyn KeyValueStore>> {
    Ok(match backend {
        KvBackend::Embedded => {
            let dir = data_dir.to_path_buf();
            let store = tokio::task::spawn_blocking(move || embedded::EmbeddedStore::open(&dir))
                .await
                .context("opening the key-value store")??;
            Arc::new(store)
        }
        KvBackend::Redis(url) => Arc::new(redis::RedisStore::new(url)?),
    })
}

/// A bucket a handler has opened: the resource behind `wasi:keyvalue`'s
/// `bucket`.
#[derive(Debug)]
pub struct OpenBucket {
    /// The bucket's name.
    pub name: String,
}

/// Whether `name` may name a bucket: 1 to 128 letters, digits, `-`, `_`, `.`.
pub fn valid_bucket_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `current + delta` for the decimal number `current` (absent = 0).
fn add(key: &str, current: Option<&[u8]>, delta: u64) -> Result<u64, KvError> {
    let current = match current {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| KvError::NotANumber(key.to_owned()))?,
    };
    current
        .checked_add(delta)
        .ok_or_else(|| KvError::Overflow(key.to_owned()))
}
