//! `wasi:keyvalue` (store, atomics, batch): a handler's buckets in the
//! gateway's key-value store. Opening checks the bucket's name and the
//! route's `buckets` list; the operations go to the configured back end.

use wasmtime::component::{HasData, Resource, ResourceTable};

use crate::keyvalue::{KeyValueStore, KvError, OpenBucket, valid_bucket_name};
use crate::runtime::bindings::keyvalue::{atomics, batch, store};
use crate::runtime::{LogTags, RouteGrants};

/// What `wasi:keyvalue` sees of a handler's store: the gateway's key-value
/// store, the open buckets, and the route's `buckets` list.
pub(crate) struct KeyValueView<'a> {
    /// The gateway's key-value store; none refuses every `open`.
    pub(crate) store: Option<&'a dyn KeyValueStore>,
    /// Where the open buckets live.
    pub(crate) table: &'a mut ResourceTable,
    /// The grants of the route being handled.
    pub(crate) grants: &'a RouteGrants,
    /// Tags for the warning about a denied bucket.
    pub(crate) log_tags: &'a LogTags,
}

/// Links `wasi:keyvalue` (store, atomics, batch) to a [`KeyValueView`] of the
/// store.
pub(crate) struct KeyValue;

impl HasData for KeyValue {
    type Data<'a> = KeyValueView<'a>;
}

impl From<KvError> for store::Error {
    fn from(error: KvError) -> Self {
        store::Error::Other(error.to_string())
    }
}

impl KeyValueView<'_> {
    /// The store and the name of the bucket behind `bucket`.
    fn bucket(
        &self,
        bucket: &Resource<OpenBucket>,
    ) -> Result<(&dyn KeyValueStore, &str), store::Error> {
        let open = self
            .table
            .get(bucket)
            .map_err(|error| store::Error::Other(format!("invalid bucket handle: {error}")))?;
        let store = self.store.ok_or(store::Error::NoSuchStore)?;
        Ok((store, &open.name))
    }
}

impl store::Host for KeyValueView<'_> {
    async fn open(&mut self, identifier: String) -> Result<Resource<OpenBucket>, store::Error> {
        if self.store.is_none() {
            return Err(store::Error::Other(
                "this gateway has no key-value store".into(),
            ));
        }
        if !valid_bucket_name(&identifier) {
            return Err(store::Error::Other(format!(
                "`{identifier}` is not a bucket name: use 1 to 128 letters, digits, `-`, `_` or `.`"
            )));
        }
        if !self.grants.allows_bucket(&identifier) {
            self.log_tags.warn(&format!(
                "key-value bucket `{identifier}` denied: not in the route's buckets"
            ));
            return Err(store::Error::AccessDenied);
        }
        self.table
            .push(OpenBucket { name: identifier })
            .map_err(|error| store::Error::Other(error.to_string()))
    }
}

impl store::HostBucket for KeyValueView<'_> {
    async fn get(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<Option<Vec<u8>>, store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.get(name, &key).await?)
    }

    async fn set(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.set(name, &key, value).await?)
    }

    async fn delete(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<(), store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.delete(name, &key).await?)
    }

    async fn exists(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<bool, store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.exists(name, &key).await?)
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<OpenBucket>,
        cursor: Option<u64>,
    ) -> Result<store::KeyResponse, store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        let (keys, cursor) = store.list_keys(name, cursor).await?;
        Ok(store::KeyResponse { keys, cursor })
    }

    async fn drop(&mut self, bucket: Resource<OpenBucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KeyValueView<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
        delta: u64,
    ) -> Result<u64, store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.increment(name, &key, delta).await?)
    }
}

impl batch::Host for KeyValueView<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Vec<u8>)>>, store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.get_many(name, keys).await?)
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<(), store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.set_many(name, key_values).await?)
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        keys: Vec<String>,
    ) -> Result<(), store::Error> {
        let (store, name) = self.bucket(&bucket)?;
        Ok(store.delete_many(name, keys).await?)
    }
}
