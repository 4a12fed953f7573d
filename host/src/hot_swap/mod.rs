//! Hot swap: when the plugins directory or `wsgate.toml` changes (or on SIGHUP),
//! build a new route table off the I/O path and switch the router to it.
//!
//! Unchanged files keep their loaded plugin (and its warm instances); new or
//! changed ones are compiled (or fetched from the compile cache), validated and
//! instantiated before anything is switched. A file that fails is refused with
//! one log line and its routes keep their previous component. In-flight events
//! finish on the version they started with; every connection's next event uses
//! the new table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::clock::now_ms;
use crate::config::{RouteConfig, RouteSources, Settings};
use crate::observability::access_log::SwapRecord;
use crate::observability::metrics::Metrics;
use crate::routing::{Route, RouteTable, Router};
use crate::runtime::{Plugin, PluginError, PluginRuntime, Problem, directory};

mod watcher;

pub use watcher::Watcher;

/// Reloads the route table of a running gateway.
pub struct HotSwap {
    router: Arc<Router>,
    metrics: Arc<Metrics>,
    sources: RouteSources,
    runtime: Arc<PluginRuntime>,
    /// One reload at a time; holds the refusals the last reload reported, so a
    /// file still broken at the next reload is not reported again.
    reloading: Mutex<Vec<String>>,
}

/// The first route table, at start-up: a refused file fails the start.
pub async fn initial_table(
    runtime: &Arc<PluginRuntime>,
    settings: &Settings,
    metrics: &Metrics,
) -> anyhow::Result<RouteTable> {
    let (table, refusals) = build(
        runtime,
        &settings.plugins,
        &settings.routes,
        &RouteTable::default(),
        metrics,
    )
    .await?;
    if let Some(refusal) = refusals.into_iter().next() {
        return Err(refusal.into());
    }
    if table.is_empty() {
        tracing::warn!(plugins = %settings.plugins.display(), "no components in the plugins directory{}: every message gets a Forbidden error frame until one is added (a plugins directory holds built components, ROUTE.wasm)", directory::subdirectories(&settings.plugins));
    }
    for (route, entry) in table.iter() {
        let info = entry.plugin.info();
        tracing::info!(route = %route, component = %info.name, version = %short(&info.hash), world = %entry.plugin.world(), origin = ?info.origin, "route bound");
    }
    Ok(table)
}

impl HotSwap {
    /// Hot swap for `router`, reading `sources` and loading components with
    /// `runtime`.
    pub fn new(
        router: Arc<Router>,
        metrics: Arc<Metrics>,
        sources: RouteSources,
        runtime: Arc<PluginRuntime>,
    ) -> Arc<Self> {
        Arc::new(HotSwap {
            router,
            metrics,
            sources,
            runtime,
            reloading: Mutex::new(Vec::new()),
        })
    }

    /// Rebuilds the route table from the plugins directory and config file and
    /// switches to it. Returns the files that were refused.
    pub async fn reload(&self) -> Vec<PluginError> {
        let mut reported = self.reloading.lock().await;
        let sources = &self.sources;
        let routes = match sources.reread_routes() {
            Ok(routes) => routes,
            Err(error) => {
                tracing::error!("reload refused, nothing changed: {error:#}");
                return Vec::new();
            }
        };
        let previous = self.router.table();
        let (table, refusals) = match build(
            &self.runtime,
            &sources.plugins,
            &routes,
            &previous,
            &self.metrics,
        )
        .await
        {
            Ok(built) => built,
            Err(error) => {
                tracing::error!("reload refused, nothing changed: {error:#}");
                return Vec::new();
            }
        };
        let now_refused: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        for (refusal, text) in refusals.iter().zip(&now_refused) {
            if !reported.contains(text) {
                tracing::error!(file = %refusal.file, "component refused, the previous version keeps serving: {}", refusal.problem);
                self.metrics.refused();
            }
        }
        *reported = now_refused;
        let next = Arc::new(table);
        self.router.swap(Arc::clone(&next));
        // Logged after the switch: whoever reads "route swapped" can rely on it.
        for change in changes(&previous, &next) {
            change.log();
            self.metrics.swap(change.route);
            self.router.log_swap(&change.record());
        }
        for route in reconfigured(&previous, &next) {
            tracing::info!(route = %route, "route reconfigured: its next event reads the new config and http settings");
        }
        refusals
    }

    /// Reloads on every SIGHUP.
    pub fn reload_on_sighup(self: &Arc<Self>) -> anyhow::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        let hot_swap = Arc::clone(self);
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading components");
                hot_swap.reload().await;
            }
        });
        Ok(())
    }
}

/// Builds a table from the directory: unchanged files keep their plugin from
/// `previous`, the others are loaded. Routes whose file is refused keep their
/// previous binding; the refusals are returned. Each route is counted in
/// `metrics`.
async fn build(
    runtime: &Arc<PluginRuntime>,
    dir: &Path,
    routes: &RouteConfig,
    previous: &RouteTable,
    metrics: &Metrics,
) -> anyhow::Result<(RouteTable, Vec<PluginError>)> {
    let bindings = directory::bind_routes(dir, &routes.components)?;
    let mut plugins: HashMap<PathBuf, Result<Option<Arc<Plugin>>, PluginError>> = HashMap::new();
    for binding in &bindings {
        if !plugins.contains_key(&binding.file) {
            let plugin = plugin_for(runtime, &binding.file, previous).await;
            plugins.insert(binding.file.clone(), plugin);
        }
    }
    let mut table = RouteTable::default();
    for binding in &bindings {
        match &plugins[&binding.file] {
            Ok(Some(plugin)) => {
                let rate = routes.rates.get(&binding.route).copied();
                let grants = routes.grants(&binding.route);
                table.bind(
                    &binding.route,
                    Arc::clone(plugin),
                    grants,
                    rate,
                    previous,
                    metrics,
                );
            }
            Ok(None) | Err(_) => table.keep(&binding.route, previous),
        }
    }
    let refusals = plugins.into_values().filter_map(Result::err).collect();
    Ok((table, refusals))
}

/// The plugin for `file`: the one already serving it if its bytes are the
/// same, else a fresh load, compiled off the async runtime's threads. None if
/// the file changed while it was loading: that version is superseded, and the
/// watcher's next reload loads the newer one.
async fn plugin_for(
    runtime: &Arc<PluginRuntime>,
    file: &Path,
    previous: &RouteTable,
) -> Result<Option<Arc<Plugin>>, PluginError> {
    let before = FileStamp::of(file);
    let path = file.to_path_buf();
    // Read once, off the async runtime's threads: a component can be 20 MB.
    let (bytes, hash) = tokio::task::spawn_blocking(move || PluginRuntime::read(&path))
        .await
        .expect("the reading task does not panic")?;
    let unchanged = previous.iter().find(|(_, route)| {
        let info = route.plugin.info();
        info.file == file && info.hash == hash
    });
    if let Some((_, route)) = unchanged {
        return Ok(Some(Arc::clone(&route.plugin)));
    }
    let loading = Arc::clone(runtime);
    let path = file.to_path_buf();
    let plugin = tokio::task::spawn_blocking(move || loading.load_read(&path, &bytes, hash))
        .await
        .expect("the loading task does not panic")?;
    plugin.warm_up().await.map_err(|error| PluginError {
        file: file.display().to_string(),
        problem: Problem::Instantiation(format!("{error:#}")),
    })?;
    // The file was replaced while it loaded; if not by the very bytes loaded
    // (the load may have read the newer file), this version is superseded.
    if FileStamp::of(file) != before
        && PluginRuntime::hash_file(file).ok().as_ref() != Some(&plugin.info().hash)
    {
        tracing::info!(file = %file.display(), version = %short(&plugin.info().hash), "superseded: the file changed while this version loaded; the newer one loads next");
        return Ok(None);
    }
    Ok(Some(Arc::new(plugin)))
}

/// What tells that a file was replaced or rewritten: its inode (a rename
/// into place gives a new one), size and modification time.
#[derive(PartialEq, Eq)]
struct FileStamp(Option<(u64, u64, Option<std::time::SystemTime>)>);

impl FileStamp {
    fn of(file: &Path) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp(
            std::fs::metadata(file)
                .ok()
                .map(|meta| (meta.ino(), meta.len(), meta.modified().ok())),
        )
    }
}

/// A route whose component a reload changed.
struct Change<'t> {
    route: &'t str,
    kind: &'static str,
    entry: Option<&'t Route>,
}

impl Change<'_> {
    fn log(&self) {
        let route = self.route;
        match self.entry {
            Some(entry) => {
                let info = entry.plugin.info();
                tracing::info!(route = %route, component = %info.name, version = %short(&info.hash), world = %entry.plugin.world(), generation = entry.generation, origin = ?info.origin, "route {}", self.kind);
            }
            None => tracing::info!(route = %route, "route unbound: its messages go to $default"),
        }
    }

    fn record(&self) -> SwapRecord<'_> {
        SwapRecord {
            route_key: self.route,
            change: self.kind,
            component: self.entry.map(|entry| entry.plugin.info().name.as_str()),
            version: self.entry.map(|entry| entry.plugin.info().hash.as_str()),
            generation: self.entry.map(|entry| entry.generation),
            time: now_ms(),
        }
    }
}

/// The routes bound, swapped or unbound between two tables.
fn changes<'t>(previous: &'t RouteTable, next: &'t RouteTable) -> Vec<Change<'t>> {
    let mut changes = Vec::new();
    for (route, entry) in next.iter() {
        let kind = match previous.get(route) {
            Some(old) if Arc::ptr_eq(&old.plugin, &entry.plugin) => continue,
            Some(_) => "swapped",
            None => "bound",
        };
        changes.push(Change {
            route,
            kind,
            entry: Some(entry),
        });
    }
    for (route, _) in previous.iter() {
        if next.get(route).is_none() {
            changes.push(Change {
                route,
                kind: "unbound",
                entry: None,
            });
        }
    }
    changes
}

/// The routes that kept their component but got other grants.
fn reconfigured<'t>(previous: &RouteTable, next: &'t RouteTable) -> Vec<&'t str> {
    next.iter()
        .filter(|(key, route)| {
            previous.get(key).is_some_and(|old| {
                Arc::ptr_eq(&old.plugin, &route.plugin) && old.grants != route.grants
            })
        })
        .map(|(key, _)| key)
        .collect()
}

/// The first 12 hex digits of a content hash, for logs.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
