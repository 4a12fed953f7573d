//! The Redis key-value store, for a cluster of gateways: bucket `NAME` is the
//! hash `wsgate:kv:NAME`, so every operation is one atomic Redis command
//! (`HINCRBY` for increments, `HSET`/`HDEL` with many fields for batches) and
//! `HSCAN`'s cursor pages `list-keys`. The connection manager reconnects by
//! itself (the first connection is made on first use, so a gateway starts
//! while Redis is still coming up); an operation that finds the connection
//! broken is tried once more
//! on the new one (an increment only when it cannot have reached Redis), and
//! while Redis is away operations fail with a clear error.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::OnceCell;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, RedisResult};

use super::{KeyPage, KeyValueStore, KvError, LIST_PAGE};

/// The Redis store.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    redis: Arc<OnceCell<ConnectionManager>>,
}

impl RedisStore {
    /// A store on the Redis at `url`; connects on first use.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|error| anyhow::anyhow!("invalid Redis URL for --kv: {error}"))?;
        Ok(RedisStore {
            client,
            redis: Arc::default(),
        })
    }

    /// The connection, made now if there is none yet.
    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let manager = self
            .redis
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await?;
        Ok(manager.clone())
    }

    /// Runs `command` on the connection; once more if the connection had
    /// broken and running it again cannot apply it twice (`repeatable`).
    async fn run<T, F, Fut>(&self, repeatable: bool, command: F) -> RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match command(self.connection().await?).await {
            Err(error)
                if error.is_connection_refusal()
                    || (repeatable && (error.is_connection_dropped() || error.is_io_error())) =>
            {
                command(self.connection().await?).await
            }
            outcome => outcome,
        }
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
        self.run(true, |mut redis| async move {
            redis.hget(hash(bucket), key).await
        })
        .await
        .map_err(backend)
    }

    async fn set(&self, bucket: &str, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        let value = &value;
        self.run(true, |mut redis| async move {
            redis.hset(hash(bucket), key, value).await
        })
        .await
        .map_err(backend)
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), KvError> {
        self.run(true, |mut redis| async move {
            redis.hdel(hash(bucket), key).await
        })
        .await
        .map_err(backend)
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, KvError> {
        self.run(true, |mut redis| async move {
            redis.hexists(hash(bucket), key).await
        })
        .await
        .map_err(backend)
    }

    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        let (next, entries): (u64, Vec<(String, Vec<u8>)>) = self
            .run(true, |mut redis| async move {
                redis::cmd("HSCAN")
                    .arg(hash(bucket))
                    .arg(cursor.unwrap_or(0))
                    .arg("COUNT")
                    .arg(LIST_PAGE)
                    .query_async(&mut redis)
                    .await
            })
            .await
            .map_err(backend)?;
        let keys = entries.into_iter().map(|(key, _)| key).collect();
        Ok((keys, (next != 0).then_some(next)))
    }

    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, KvError> {
        let delta = i64::try_from(delta).map_err(|_| KvError::Overflow(key.to_owned()))?;
        let sum: i64 = self
            .run(false, |mut redis| async move {
                redis.hincr(hash(bucket), key, delta).await
            })
            .await
            .map_err(|error| match error.to_string().contains("not an integer") {
                true => KvError::NotANumber(key.to_owned()),
                false => backend(error),
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
        let names = &keys;
        let values: Vec<Option<Vec<u8>>> = self
            .run(true, |mut redis| async move {
                redis::cmd("HMGET")
                    .arg(hash(bucket))
                    .arg(names)
                    .query_async(&mut redis)
                    .await
            })
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
        let pairs = &pairs;
        self.run(true, |mut redis| async move {
            redis.hset_multiple(hash(bucket), pairs).await
        })
        .await
        .map_err(backend)
    }

    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        let keys = &keys;
        self.run(true, |mut redis| async move {
            redis.hdel(hash(bucket), keys).await
        })
        .await
        .map_err(backend)
    }
}
