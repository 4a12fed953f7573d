//! The Redis key-value store, for a cluster of gateways: bucket `NAME` is the
//! hash `wsgate:kv:NAME`, so every operation is one atomic Redis command
//! (`HINCRBY` for increments, `HSET`/`HDEL` with many fields for batches) and
//! `HSCAN`'s cursor pages `list-keys`. A lost connection fails the operations
//! with a clear error until the connection manager reconnects.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{KeyPage, KeyValueStore, KvError, LIST_PAGE};

/// The Redis store.
#[derive(Clone)]
pub struct RedisStore {
    redis: ConnectionManager,
}

impl RedisStore {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|error| anyhow::anyhow!("invalid Redis URL for --kv: {error}"))?;
        let redis = ConnectionManager::new(client).await.map_err(|error| {
            anyhow::anyhow!("cannot reach the key-value store at {url}: {error}")
        })?;
        Ok(RedisStore { redis })
    }
}

fn hash(bucket: &str) -> String {
    format!("wsgate:kv:{bucket}")
}

fn backend(error: redis::RedisError) -> KvError {
    KvError::Backend(format!("Redis key-value store: {error}"))
}

#[async_trait::async_trait]
impl KeyValueStore for RedisStore {
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.redis
            .clone()
            .hget(hash(bucket), key)
            .await
            .map_err(backend)
    }

    async fn set(&self, bucket: &str, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        self.redis
            .clone()
            .hset(hash(bucket), key, value)
            .await
            .map_err(backend)
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), KvError> {
        self.redis
            .clone()
            .hdel(hash(bucket), key)
            .await
            .map_err(backend)
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, KvError> {
        self.redis
            .clone()
            .hexists(hash(bucket), key)
            .await
            .map_err(backend)
    }

    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        let (next, entries): (u64, Vec<(String, Vec<u8>)>) = redis::cmd("HSCAN")
            .arg(hash(bucket))
            .arg(cursor.unwrap_or(0))
            .arg("COUNT")
            .arg(LIST_PAGE)
            .query_async(&mut self.redis.clone())
            .await
            .map_err(backend)?;
        let keys = entries.into_iter().map(|(key, _)| key).collect();
        Ok((keys, (next != 0).then_some(next)))
    }

    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, KvError> {
        let delta = i64::try_from(delta).map_err(|_| KvError::Overflow(key.to_owned()))?;
        let sum: i64 = self
            .redis
            .clone()
            .hincr(hash(bucket), key, delta)
            .await
            .map_err(|error| match error.kind() {
                redis::ErrorKind::Server(_) if error.to_string().contains("not an integer") => {
                    KvError::NotANumber(key.to_owned())
                }
                _ => backend(error),
            })?;
        u64::try_from(sum).map_err(|_| KvError::Overflow(key.to_owned()))
    }

    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Vec<u8>)>>, KvError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(hash(bucket))
            .arg(&keys)
            .query_async(&mut self.redis.clone())
            .await
            .map_err(backend)?;
        Ok(keys
            .into_iter()
            .zip(values)
            .map(|(key, value)| value.map(|value| (key, value)))
            .collect())
    }

    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.redis
            .clone()
            .hset_multiple(hash(bucket), &pairs)
            .await
            .map_err(backend)
    }

    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.redis
            .clone()
            .hdel(hash(bucket), keys)
            .await
            .map_err(backend)
    }
}
