//! The gateway's key-value store, through the standard `wasi:keyvalue`
//! interfaces: buckets of byte values, created on first use, shared by every
//! route (and every gateway of a cluster) that opens them. The gateway's
//! `--kv` setting picks the store: an embedded durable database by default,
//! Redis for a cluster; handlers do not change.
//!
//! ```no_run
//! use wsgate_sdk::kv::Bucket;
//!
//! let members = Bucket::open("chat")?;
//! members.set("lobby/abc", "ann")?;
//! let visits = members.increment("visits", 1)?;
//! let name = members.get_text("lobby/abc")?;
//! # Ok::<(), wsgate_sdk::kv::KvError>(())
//! ```

use std::fmt;

use crate::bindings::wasi::keyvalue::store;
use crate::host::kv as host;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// The gateway has no such store.
    NoSuchStore,
    /// The route may not open this bucket: its `buckets` list leaves it out.
    AccessDenied,
    /// Anything else, as the gateway described it (an invalid bucket name, a
    /// value that is not a number, the store unreachable…).
    Other(String),
}

impl From<store::Error> for KvError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::NoSuchStore => KvError::NoSuchStore,
            store::Error::AccessDenied => KvError::AccessDenied,
            store::Error::Other(message) => KvError::Other(message),
        }
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::NoSuchStore => f.write_str("the gateway has no such key-value store"),
            KvError::AccessDenied => {
                f.write_str("this route may not open the bucket (see its `buckets` in wsgate.toml)")
            }
            KvError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for KvError {}

/// An open bucket.
#[derive(Debug)]
pub struct Bucket(host::Bucket);

impl Bucket {
    /// Opens the bucket `name` (1 to 128 letters, digits, `-`, `_`, `.`).
    pub fn open(name: &str) -> Result<Bucket, KvError> {
        Ok(Bucket(host::Bucket::open(name)?))
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key)
    }

    /// The value of `key` as text (invalid UTF-8 replaced), if set.
    pub fn get_text(&self, key: &str) -> Result<Option<String>, KvError> {
        Ok(self
            .get(key)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) -> Result<(), KvError> {
        self.0.set(key, value.as_ref())
    }

    /// Removes `key`; removing a missing key does nothing.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.delete(key)
    }

    /// Whether `key` is set.
    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.0.exists(key)
    }

    /// Every key of the bucket, reading it page by page.
    pub fn keys(&self) -> Result<Vec<String>, KvError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.0.list_keys(cursor)?;
            keys.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// Adds `delta` to the decimal number in `key` (0 if unset), atomically,
    /// and returns the sum.
    pub fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
        self.0.increment(key, delta)
    }

    /// The values of `keys`, in order; none for each unset key.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        self.0.get_many(keys)
    }

    /// Sets every pair.
    pub fn set_many(&self, pairs: &[(String, Vec<u8>)]) -> Result<(), KvError> {
        self.0.set_many(pairs)
    }

    /// Removes every key.
    pub fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
        self.0.delete_many(keys)
    }
}
