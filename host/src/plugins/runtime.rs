//! The plugin runtime: one wasmtime engine and linker for every component.

use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::bindings::RouteHandler;
use super::check::{self, PluginError};
use super::plugin::Plugin;
use super::sandbox::{self, Sandbox};
use super::state::HostState;
use crate::registry::Registry;

/// Compiles components and hands out [`Plugin`]s that share one engine.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<HostState>,
    sandbox: Sandbox,
    registry: Arc<dyn Registry>,
    max_idle: usize,
}

impl PluginRuntime {
    /// A runtime whose handlers reach connections through `registry` and run
    /// under `sandbox`; each plugin keeps at most `max_idle` instances ready.
    pub fn new(
        sandbox: Sandbox,
        registry: Arc<dyn Registry>,
        max_idle: usize,
    ) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(anyhow_from)?;
        sandbox::start_ticker(&engine);

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow_from)?;
        RouteHandler::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(anyhow_from)?;
        Ok(PluginRuntime {
            engine,
            linker,
            sandbox,
            registry,
            max_idle,
        })
    }

    /// Compiles and validates the component in `path`.
    pub fn load(&self, path: &Path) -> Result<Plugin, PluginError> {
        let pre = check::load(&self.engine, &self.linker, path)?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Plugin::new(
            name,
            pre,
            self.sandbox,
            Arc::clone(&self.registry),
            self.max_idle,
        ))
    }
}

/// Wasmtime's error type, carried into `anyhow` with its whole chain.
fn anyhow_from(error: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}
