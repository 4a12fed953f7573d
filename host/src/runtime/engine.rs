//! The plugin runtime: one wasmtime engine and linker for every component, the
//! compile cache, and the versions loaded recently (so swapping back is instant).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

use super::bindings::{keyvalue, v0_1, v0_2};
use super::check::{self, PluginError, Problem};
use super::compile_cache::{CompileCache, Origin, content_hash};
use super::host::{Connections, EventResources, Groups, KeyValue, Types};
use super::memory::MemoryBudget;
use super::plugin::{HandlerPre, Plugin, PluginInfo};
use super::sandbox::{self, Sandbox};
use super::state::{HostState, Services};
use crate::clock::now_ms;

/// How many recently loaded versions are kept compiled in memory.
const RECENT_VERSIONS: usize = 16;

/// Compiles components and hands out [`Plugin`]s that share one engine.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: CompileCache,
    recent: Mutex<VecDeque<(String, HandlerPre)>>,
    sandbox: Sandbox,
    memory: Arc<MemoryBudget>,
    services: Services,
    max_idle: usize,
}

impl PluginRuntime {
    /// A runtime whose handlers reach connections and state through
    /// `services` and run under `sandbox`; each plugin keeps at most
    /// `max_idle` instances ready. Compiled components are kept in
    /// `cache_dir`, if given.
    pub fn new(
        sandbox: Sandbox,
        services: Services,
        max_idle: usize,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(anyhow_from)?;
        sandbox::start_ticker(&engine);

        let mut linker = Linker::new(&engine);
        add_host_imports(&mut linker).map_err(anyhow_from)?;
        Ok(PluginRuntime {
            cache: CompileCache::new(cache_dir, &engine),
            engine,
            linker,
            recent: Mutex::new(VecDeque::new()),
            memory: MemoryBudget::new(sandbox.memory_total),
            sandbox,
            services,
            max_idle,
        })
    }

    /// The content hash of the component in `path`, without loading it.
    pub fn hash_file(path: &Path) -> Result<String, PluginError> {
        Ok(Self::read(path)?.1)
    }

    /// The bytes of the component in `path` and their content hash.
    pub fn read(path: &Path) -> Result<(Vec<u8>, String), PluginError> {
        let bytes =
            std::fs::read(path).map_err(|error| refused(path, Problem::Unreadable(error)))?;
        let hash = content_hash(&bytes);
        Ok((bytes, hash))
    }

    /// Reads, compiles (or fetches from a cache) and validates the component
    /// in `path`. Blocking: compiling can take a while.
    pub fn load(&self, path: &Path) -> Result<Plugin, PluginError> {
        let (bytes, hash) = Self::read(path)?;
        self.load_read(path, &bytes, hash)
    }

    /// [`PluginRuntime::load`] of what [`PluginRuntime::read`] read from
    /// `path`: a big component is read and hashed once, not twice.
    pub fn load_read(
        &self,
        path: &Path,
        bytes: &[u8],
        hash: String,
    ) -> Result<Plugin, PluginError> {
        let (pre, origin) = match self.recent(&hash) {
            Some(pre) => (pre, Origin::Cached),
            None => {
                check::inspect(bytes).map_err(|problem| refused(path, problem))?;
                let (component, origin) = self
                    .cache
                    .component(&self.engine, bytes, &hash, path)
                    .map_err(|error| refused(path, Problem::Invalid(format!("{error:#}"))))?;
                let pre = check::handler(&self.engine, &self.linker, &component)
                    .map_err(|problem| refused(path, problem))?;
                self.remember(&hash, &pre);
                (pre, origin)
            }
        };
        let info = PluginInfo {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file: path.to_path_buf(),
            hash,
            loaded_at: now_ms(),
            origin,
        };
        Ok(Plugin::new(
            info,
            pre,
            self.sandbox,
            Arc::clone(&self.memory),
            self.services.clone(),
            self.max_idle,
        ))
    }

    fn recent(&self, hash: &str) -> Option<HandlerPre> {
        let recent = self.recent.lock().expect("recent versions lock");
        recent
            .iter()
            .find(|(known, _)| known == hash)
            .map(|(_, pre)| pre.clone())
    }

    fn remember(&self, hash: &str, pre: &HandlerPre) {
        let mut recent = self.recent.lock().expect("recent versions lock");
        if recent.len() == RECENT_VERSIONS {
            recent.pop_front();
        }
        recent.push_back((hash.to_owned(), pre.clone()));
    }
}

/// Every import a handler may use, one interface a line, each given only its
/// view of the store.
fn add_host_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    wasmtime_wasi_config::add_to_linker(linker, HostState::config)?;
    // Both versions of the gateway's own interfaces: different names to the
    // linker (`…@0.1.0`, `…@0.2.0`), so neither shadows the other.
    v0_1::types::add_to_linker::<HostState, Types>(linker, |_| Types)?;
    v0_1::connections::add_to_linker::<HostState, Connections>(linker, HostState::connections)?;
    v0_1::groups::add_to_linker::<HostState, Groups>(linker, HostState::groups)?;
    v0_2::types::add_to_linker::<HostState, Types>(linker, |_| Types)?;
    v0_2::connections::add_to_linker::<HostState, Connections>(linker, HostState::connections)?;
    v0_2::groups::add_to_linker::<HostState, Groups>(linker, HostState::groups)?;
    v0_2::resources::add_to_linker::<HostState, EventResources>(linker, HostState::event)?;
    keyvalue::store::add_to_linker::<HostState, KeyValue>(linker, HostState::key_value)?;
    keyvalue::atomics::add_to_linker::<HostState, KeyValue>(linker, HostState::key_value)?;
    keyvalue::batch::add_to_linker::<HostState, KeyValue>(linker, HostState::key_value)?;
    Ok(())
}

fn refused(path: &Path, problem: Problem) -> PluginError {
    PluginError {
        file: path.display().to_string(),
        problem,
    }
}

/// Wasmtime's error type, carried into `anyhow` with its whole chain.
fn anyhow_from(error: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}
