//! The file watcher: what changed in the plugins directory (or the config
//! file), debounced, starts a reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, NoCache, new_debouncer};
use tokio::sync::mpsc;

use super::HotSwap;

/// How long the directory must stay quiet before a reload: a copy in progress
/// keeps producing events, so it is not read half-written (and a file that
/// is read half-written anyway fails validation and is refused until the
/// write completes). Short, because it is most of the swap latency.
const QUIET: Duration = Duration::from_millis(100);

/// What the file watcher saw, between two reloads.
struct Seen {
    /// The plugins directory itself was deleted, created or renamed.
    replaced: bool,
    /// The component files and config file that changed.
    seen: Vec<PathBuf>,
}

impl Seen {
    /// The "change seen" line: what a reload is about to read.
    fn log(&mut self) {
        self.seen.sort();
        self.seen.dedup();
        let files: Vec<String> = self
            .seen
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        match files.is_empty() {
            // The directory itself changed (it was replaced, or its
            // attributes changed): `watch_again` says which.
            true => tracing::debug!("plugins directory changed: reloading"),
            false => tracing::info!(files = %files.join(" "), "change seen: reloading"),
        }
    }
}

/// The file watcher's debouncer.
type Debounced = Debouncer<RecommendedWatcher, NoCache>;

/// Keeps the file watcher alive.
pub struct Watcher {
    _debouncer: Arc<std::sync::Mutex<Debounced>>,
}

impl HotSwap {
    /// Reloads whenever the plugins directory or the config file changes. The
    /// directory's parent is watched too, so a directory deleted and created
    /// again (a deploy that replaces it) is watched anew and what it then holds
    /// is loaded.
    pub fn watch(self: &Arc<Self>) -> anyhow::Result<Watcher> {
        let sources = &self.sources;
        let (changed, mut changes) = mpsc::unbounded_channel();
        // The watcher reports absolute paths.
        let plugins = std::fs::canonicalize(&sources.plugins)?;
        let config = std::path::absolute(sources.config_path(&plugins))?;
        let mut dirs: Vec<PathBuf> = [Some(plugins.as_path()), plugins.parent(), config.parent()]
            .into_iter()
            .flatten()
            .map(Path::to_path_buf)
            .collect();
        dirs.sort();
        dirs.dedup();
        let dir = plugins.clone();
        let relevant = move |path: &Path| path == config || is_component(&dir, path);
        let dir = plugins.clone();
        let mut debouncer = new_debouncer(QUIET, None, move |events: DebounceEventResult| {
            let Ok(events) = events else { return };
            let changes: Vec<PathBuf> = events
                .into_iter()
                .filter(|event| changes_something(&event.kind))
                .flat_map(|event| event.event.paths)
                .collect();
            // The directory itself was deleted, created or renamed.
            let replaced = changes.contains(&dir);
            let seen: Vec<PathBuf> = changes.into_iter().filter(|path| relevant(path)).collect();
            if replaced || !seen.is_empty() {
                let _ = changed.send(Seen { replaced, seen });
            }
        })?;
        for dir in &dirs {
            debouncer.watch(dir, RecursiveMode::NonRecursive)?;
        }
        let debouncer = Arc::new(std::sync::Mutex::new(debouncer));
        let rearm = Arc::downgrade(&debouncer);
        let hot_swap = Arc::clone(self);
        tokio::spawn(async move {
            while let Some(mut seen) = changes.recv().await {
                while let Ok(more) = changes.try_recv() {
                    seen.replaced |= more.replaced;
                    seen.seen.extend(more.seen);
                }
                seen.log();
                if seen.replaced {
                    let Some(debouncer) = rearm.upgrade() else {
                        break;
                    };
                    watch_again(&mut debouncer.lock().expect("watcher lock"), &plugins);
                }
                hot_swap.reload().await;
            }
        });
        tracing::info!(plugins = %sources.plugins.display(), "watching for component changes");
        Ok(Watcher {
            _debouncer: debouncer,
        })
    }
}

/// Watches the plugins directory `dir` again after it was replaced (the old
/// watch died with the old directory); if it is gone for now, its parent's
/// watch reports when it is back.
fn watch_again(debouncer: &mut Debounced, dir: &Path) {
    let _ = debouncer.unwatch(dir);
    match debouncer.watch(dir, RecursiveMode::NonRecursive) {
        Ok(()) => {
            tracing::info!(plugins = %dir.display(), "plugins directory replaced: watching the new one")
        }
        Err(error) => {
            tracing::warn!(plugins = %dir.display(), %error, "plugins directory gone: routes keep their components until it is back")
        }
    }
}

/// Whether an event of `kind` may have changed what a reload reads. Reading a
/// file or listing a directory is an event too (inotify's open and
/// close-without-write): counted, every reload's own reads would start the
/// next one, forever.
fn changes_something(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Whether `path` is a component file of the plugins directory.
fn is_component(plugins: &Path, path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    path.parent() == Some(plugins) && name.ends_with(".wasm") && !name.starts_with('.')
}
