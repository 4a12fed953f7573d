//! The embedded key-value store: one `redb` database file, `kv.redb` in the
//! data directory, with a table per bucket. Every write is one transaction
//! committed durably before it is acknowledged, so nothing a handler was told
//! is stored is lost by a crash or a restart. Operations run on the blocking
//! thread pool.
//!
//! - [`opening`]: a damaged file refuses the start rather than being served;
//! - [`health`]: after an I/O error (a full disk) the store reopens the file
//!   by itself once writes succeed again, and says meanwhile why it cannot.

mod health;
pub mod opening;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableError};

use self::health::Handle;
use super::{KeyPage, KeyValueStore, KvError, LIST_PAGE, add};

/// The database file's name in the data directory.
pub const FILE: &str = "kv.redb";

/// A bucket's table: string keys, byte values.
fn table(bucket: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(bucket)
}

/// Why an operation failed: what the handler asked for, or the storage.
enum Failure {
    Refused(KvError),
    Storage(redb::Error),
}

impl From<KvError> for Failure {
    fn from(error: KvError) -> Self {
        Failure::Refused(error)
    }
}

fn storage(error: impl Into<redb::Error>) -> Failure {
    Failure::Storage(error.into())
}

/// The embedded store.
#[derive(Clone)]
pub struct EmbeddedStore {
    handle: Arc<Handle>,
}

impl EmbeddedStore {
    /// Opens (or creates) `dir/kv.redb`, refusing a damaged file. Blocking.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let path = dir.join(FILE);
        let database = opening::open(&path)?;
        Ok(EmbeddedStore {
            handle: Arc::new(Handle::new(path, database)),
        })
    }

    /// Runs `work` on the blocking pool; an I/O error starts the recovery.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, KvError> {
        let database = self.handle.database().map_err(KvError::Backend)?;
        let outcome = tokio::task::spawn_blocking(move || work(&database))
            .await
            .map_err(|error| KvError::Backend(format!("the store's worker failed: {error}")))?;
        outcome.map_err(|failure| match failure {
            Failure::Refused(error) => error,
            Failure::Storage(error) => {
                self.handle.failed(&error);
                KvError::Backend(format!("key-value store: {error}"))
            }
        })
    }

    /// Runs `change` in one durable write transaction on `bucket`'s table.
    async fn write<T: Send + 'static>(
        &self,
        bucket: &str,
        change: impl FnOnce(&mut redb::Table<'_, &'static str, &'static [u8]>) -> Result<T, Failure>
        + Send
        + 'static,
    ) -> Result<T, KvError> {
        let bucket = bucket.to_owned();
        self.blocking(move |db| {
            let transaction = db.begin_write().map_err(storage)?;
            let outcome = {
                let mut table = transaction.open_table(table(&bucket)).map_err(storage)?;
                change(&mut table)?
            };
            transaction.commit().map_err(storage)?;
            Ok(outcome)
        })
        .await
    }

    /// Runs `query` on a snapshot of `bucket`'s table; a bucket never written
    /// to reads as empty.
    async fn read<T: Send + 'static>(
        &self,
        bucket: &str,
        query: impl FnOnce(
            Option<&redb::ReadOnlyTable<&'static str, &'static [u8]>>,
        ) -> Result<T, Failure>
        + Send
        + 'static,
    ) -> Result<T, KvError> {
        let bucket = bucket.to_owned();
        self.blocking(move |db| {
            let transaction = db.begin_read().map_err(storage)?;
            match transaction.open_table(table(&bucket)) {
                Ok(table) => query(Some(&table)),
                Err(TableError::TableDoesNotExist(_)) => query(None),
                Err(error) => Err(storage(error)),
            }
        })
        .await
    }
}

#[async_trait::async_trait]
impl KeyValueStore for EmbeddedStore {
    fn unavailable(&self) -> Option<String> {
        self.handle.fault()
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let key = key.to_owned();
        self.read(bucket, move |table| match table {
            Some(table) => Ok(table
                .get(key.as_str())
                .map_err(storage)?
                .map(|value| value.value().to_vec())),
            None => Ok(None),
        })
        .await
    }

    async fn set(&self, bucket: &str, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        let key = key.to_owned();
        self.write(bucket, move |table| {
            table
                .insert(key.as_str(), value.as_slice())
                .map_err(storage)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), KvError> {
        let key = key.to_owned();
        self.write(bucket, move |table| {
            table.remove(key.as_str()).map_err(storage)?;
            Ok(())
        })
        .await
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool, KvError> {
        let key = key.to_owned();
        self.read(bucket, move |table| match table {
            Some(table) => Ok(table.get(key.as_str()).map_err(storage)?.is_some()),
            None => Ok(false),
        })
        .await
    }

    async fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        let skip = cursor.unwrap_or(0);
        self.read(bucket, move |table| {
            let Some(table) = table else {
                return Ok((Vec::new(), None));
            };
            let mut keys = Vec::new();
            let mut entries = table.iter().map_err(storage)?.skip(skip as usize);
            for entry in entries.by_ref().take(LIST_PAGE) {
                let (key, _) = entry.map_err(storage)?;
                keys.push(key.value().to_owned());
            }
            let next = entries.next().is_some().then(|| skip + keys.len() as u64);
            Ok((keys, next))
        })
        .await
    }

    async fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, KvError> {
        let key = key.to_owned();
        self.write(bucket, move |table| {
            let current = table
                .get(key.as_str())
                .map_err(storage)?
                .map(|v| v.value().to_vec());
            let sum = add(&key, current.as_deref(), delta)?;
            table
                .insert(key.as_str(), sum.to_string().as_bytes())
                .map_err(storage)?;
            Ok(sum)
        })
        .await
    }

    async fn get_many(
        &self,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Vec<u8>)>>, KvError> {
        self.read(bucket, move |table| {
            keys.into_iter()
                .map(|key| match table {
                    Some(table) => Ok(table
                        .get(key.as_str())
                        .map_err(storage)?
                        .map(|value| value.value().to_vec())
                        .map(|value| (key, value))),
                    None => Ok(None),
                })
                .collect()
        })
        .await
    }

    async fn set_many(&self, bucket: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.write(bucket, move |table| {
            for (key, value) in &pairs {
                table
                    .insert(key.as_str(), value.as_slice())
                    .map_err(storage)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_many(&self, bucket: &str, keys: Vec<String>) -> Result<(), KvError> {
        self.write(bucket, move |table| {
            for key in &keys {
                table.remove(key.as_str()).map_err(storage)?;
            }
            Ok(())
        })
        .await
    }
}
