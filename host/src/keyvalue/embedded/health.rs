//! Recovering from a failed write. After an I/O error (a full disk, a failing
//! device) redb refuses every later operation on that handle, even once the
//! cause is gone. So the store drops the handle, says what is wrong and where
//! (the log, `/ready`, the handlers' errors), and in the background reopens
//! the file and writes a probe until a write succeeds again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redb::{Database, ReadableTable, TableDefinition};

/// How often a store that cannot write tries again.
const RETRY: Duration = Duration::from_secs(1);

/// Where the recovery's probe writes: `:` is not allowed in bucket names, so
/// no handler's bucket can be this table.
const PROBE: TableDefinition<'static, &'static str, u64> = TableDefinition::new("wsgate:probe");

/// The open database, and why it cannot write if it cannot.
pub struct Handle {
    path: PathBuf,
    state: Mutex<State>,
}

/// Changed together, so a recovery never clears a fault newer than its probe.
struct State {
    /// None once a failure closed it, until the recovery reopens it.
    database: Option<Arc<Database>>,
    /// Why the store cannot write, while it cannot.
    fault: Option<String>,
}

impl Handle {
    /// A healthy handle on the database opened from `path`.
    pub fn new(path: PathBuf, database: Database) -> Self {
        Handle {
            path,
            state: Mutex::new(State {
                database: Some(Arc::new(database)),
                fault: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The database, unless a failure closed it and it is not reopened yet;
    /// then why not.
    pub fn database(&self) -> Result<Arc<Database>, String> {
        let state = self.state();
        match (&state.database, &state.fault) {
            (Some(database), _) => Ok(Arc::clone(database)),
            (None, fault) => Err(fault.clone().unwrap_or_default()),
        }
    }

    /// Why the store cannot write, while it cannot.
    pub fn fault(&self) -> Option<String> {
        self.state().fault.clone()
    }

    /// Notes a failed operation: an I/O error closes the database, and the
    /// first one is logged and starts the recovery. Must be called within the
    /// Tokio runtime.
    pub fn failed(self: &Arc<Self>, error: &redb::Error) {
        if !matches!(error, redb::Error::Io(_) | redb::Error::PreviousIo) {
            return;
        }
        let first = {
            let mut state = self.state();
            state.database = None;
            let first = state.fault.is_none();
            state.fault.get_or_insert_with(|| {
                format!(
                    "the key-value store {} cannot write: {error}",
                    self.path.display()
                )
            });
            first
        };
        if first {
            tracing::error!(
                path = %self.path.display(),
                %error,
                "the key-value store cannot write: handlers' operations fail and /ready answers 503 until a write succeeds again (retried every {RETRY:?})"
            );
            tokio::spawn(recover(Arc::clone(self)));
        }
    }

    /// Reopens the database if it is closed and writes the probe; whether
    /// the store is healthy again. Blocking.
    fn reopen_and_probe(&self) -> Result<bool, redb::Error> {
        let open = self.state().database.clone();
        let database = match open {
            Some(database) => database,
            None => {
                // Fails while an operation still holds the old handle (redb
                // locks the file); the next attempt opens it.
                let database = Arc::new(Database::open(&self.path)?);
                self.state().database = Some(Arc::clone(&database));
                database
            }
        };
        let written = probe(&database);
        let mut state = self.state();
        let current = state
            .database
            .as_ref()
            .is_some_and(|open| Arc::ptr_eq(open, &database));
        match written {
            Err(error) => {
                if current {
                    state.database = None;
                }
                Err(error)
            }
            Ok(()) if current => {
                state.fault = None;
                Ok(true)
            }
            // A newer failure closed it meanwhile.
            Ok(()) => Ok(false),
        }
    }
}

/// One durable write transaction, like a handler's.
fn probe(database: &Database) -> Result<(), redb::Error> {
    let transaction = database.begin_write()?;
    {
        let mut table = transaction.open_table(PROBE)?;
        let count = table.get("writes")?.map_or(0, |count| count.value());
        table.insert("writes", count.wrapping_add(1))?;
    }
    transaction.commit()?;
    Ok(())
}

/// Retries until the store can write again.
async fn recover(handle: Arc<Handle>) {
    loop {
        tokio::time::sleep(RETRY).await;
        let attempt = Arc::clone(&handle);
        match tokio::task::spawn_blocking(move || attempt.reopen_and_probe()).await {
            Ok(Ok(true)) => {
                tracing::info!(path = %handle.path.display(), "the key-value store can write again");
                return;
            }
            Ok(Ok(false)) => {}
            Ok(Err(error)) => {
                tracing::debug!(path = %handle.path.display(), %error, "the key-value store still cannot write");
            }
            Err(error) => {
                tracing::warn!(path = %handle.path.display(), %error, "the key-value store's recovery attempt failed");
            }
        }
    }
}
