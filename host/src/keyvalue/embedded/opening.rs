//! Opening the database file without trusting it: a new file is initialised
//! under a temporary name and linked into place only once redb has written its
//! header, so `kv.redb` is never empty unless something emptied it; an
//! existing file is opened and checked page by page (redb's integrity check)
//! before anything is read from it. A damaged file refuses the start instead
//! of being served, or silently replaced by an empty store.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;
use redb::{Database, DatabaseError};

/// Why the database file cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another process holds the file.
    #[error(
        "the key-value store {0} is in use by another process: give each gateway its own --data-dir, or share a store with --kv redis://…"
    )]
    InUse(PathBuf),
    /// The file's content is not a sound database.
    #[error(
        "the key-value store {path} is damaged ({what}): move it away to start with an empty store, or restore it from a backup"
    )]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The file cannot be read or written.
    #[error("cannot open the key-value store {path}: {error}")]
    Unreadable {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

/// Opens the database at `path`, creating it if there is no file yet.
/// Blocking: the check reads every page of an existing file.
pub fn open(path: &Path) -> Result<Database, OpenError> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.len() == 0 => Err(damaged(path, "the file is empty")),
        Ok(_) => open_existing(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => match create(path)? {
            Some(database) => Ok(database),
            // Another process created it meanwhile.
            None => open_existing(path),
        },
        Err(error) => Err(unreadable(path, error)),
    }
}

/// Opens the existing file and runs redb's integrity check on it. redb may
/// panic on pages it cannot parse, so a panic counts as damage too.
fn open_existing(path: &Path) -> Result<Database, OpenError> {
    let checked = catch_unwind(AssertUnwindSafe(|| {
        let mut database = Database::open(path)?;
        let clean = database.check_integrity()?;
        Ok::<_, DatabaseError>((database, clean))
    }));
    match checked {
        Ok(Ok((database, true))) => Ok(database),
        // redb repaired it by rolling back to an older commit: writes that
        // were acknowledged may be gone, which the operator must decide on.
        Ok(Ok((_, false))) => Err(damaged(
            path,
            "redb's integrity check failed and rolled the file back to an earlier commit",
        )),
        Ok(Err(error)) => Err(classify(path, error)),
        Err(panic) => Err(damaged(
            path,
            &format!("redb panicked reading it: {}", panic_message(&*panic)),
        )),
    }
}

/// Creates a new database: initialised under a temporary name, then
/// hard-linked into place (which fails if `path` appeared meanwhile, so two
/// processes never both create one). `None` if it appeared.
fn create(path: &Path) -> Result<Option<Database>, OpenError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".kv.redb.")
        .tempfile_in(dir)
        .map_err(|error| unreadable(path, error))?;
    let file = partial.reopen().map_err(|error| unreadable(path, error))?;
    let database = FileBackend::new(file)
        .and_then(|backend| Database::builder().create_with_backend(backend))
        .map_err(|error| classify(path, error))?;
    match std::fs::hard_link(partial.path(), path) {
        Ok(()) => Ok(Some(database)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(error) => Err(unreadable(path, error)),
    }
}

fn classify(path: &Path, error: DatabaseError) -> OpenError {
    match error {
        DatabaseError::DatabaseAlreadyOpen => OpenError::InUse(path.to_path_buf()),
        // A file cut short is damaged; any other I/O error is the file system's.
        DatabaseError::Storage(redb::StorageError::Io(error))
            if error.kind() != std::io::ErrorKind::UnexpectedEof =>
        {
            unreadable(path, error)
        }
        other => damaged(path, &other.to_string()),
    }
}

fn damaged(path: &Path, what: &str) -> OpenError {
    OpenError::Damaged {
        path: path.to_path_buf(),
        what: what.to_owned(),
    }
}

fn unreadable(path: &Path, error: std::io::Error) -> OpenError {
    OpenError::Unreadable {
        path: path.to_path_buf(),
        error,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message")
}
