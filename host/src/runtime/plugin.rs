//! A loaded route handler component and its pool of ready instances.
//!
//! Instantiating a component costs far more than calling it, so instances are
//! reused: a call takes an idle instance (or makes one from the pre-instantiated
//! component), runs the event under the sandbox's limits, and gives it back. An
//! instance that trapped is dropped, never reused.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::Store;

use super::bindings::{HandlerPre, RouteHandler};
use super::compile_cache::Origin;
use super::grants::RouteGrants;
use super::guest_log::LogTags;
use super::memory::MemoryBudget;
use super::sandbox::Sandbox;
use super::state::{HostState, Services};
use crate::event::{Event, Response};

/// Why a handler call failed. Either way only this event fails.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The handler trapped: a panic, a deadline overrun, a memory cap hit.
    /// Shown with `{:#}`: the error chain on one line, never a host backtrace.
    #[error("the handler trapped: {0:#}")]
    Trapped(wasmtime::Error),
    /// The handler returned an error.
    #[error("the handler returned an error: {0}")]
    Failed(String),
}

/// One ready instance of a component, with its own store.
struct Instance {
    store: Store<HostState>,
    handler: RouteHandler,
}

/// Where a loaded component came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// The file name, e.g. `sendmessage.wasm`.
    pub name: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// Hex SHA-256 of the file's bytes: the component's version.
    pub hash: String,
    /// When it was loaded (ms since the Unix epoch).
    pub loaded_at: u64,
    /// Whether it came from the compile cache.
    pub origin: Origin,
}

/// A compiled, validated route handler component.
pub struct Plugin {
    info: PluginInfo,
    pre: HandlerPre<HostState>,
    sandbox: Sandbox,
    memory: Arc<MemoryBudget>,
    services: Services,
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("info", &self.info).finish()
    }
}

impl Plugin {
    pub(super) fn new(
        info: PluginInfo,
        pre: HandlerPre<HostState>,
        sandbox: Sandbox,
        memory: Arc<MemoryBudget>,
        services: Services,
        max_idle: usize,
    ) -> Self {
        Plugin {
            info,
            pre,
            sandbox,
            memory,
            services,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// The component's file name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Where the component came from and which version it is.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Runs one event through the component, with the grants of the route it
    /// was routed to.
    pub async fn handle(
        &self,
        event: Event,
        grants: &Arc<RouteGrants>,
    ) -> Result<Response, HandlerError> {
        let mut instance = match self.take_idle() {
            Some(instance) => instance,
            None => self.instantiate().await.map_err(HandlerError::Trapped)?,
        };
        let state = instance.store.data_mut();
        state.set_grants(grants);
        state.log_tags.set_event(
            &event.context.route_key,
            event.context.connection_id.as_str(),
        );
        self.sandbox.arm(&mut instance.store);
        let outcome = instance
            .handler
            .wsgate_gateway_handler()
            .call_handle(&mut instance.store, &event.into())
            .await;
        match outcome {
            Ok(Ok(response)) => {
                self.give_back(instance);
                Ok(response.into())
            }
            Ok(Err(message)) => {
                self.give_back(instance);
                Err(HandlerError::Failed(message))
            }
            Err(trap) => Err(HandlerError::Trapped(trap)),
        }
    }

    /// Makes sure at least one instance is ready, so the first event does not
    /// pay for instantiation.
    pub async fn warm_up(&self) -> Result<(), wasmtime::Error> {
        let instance = self.instantiate().await?;
        self.give_back(instance);
        Ok(())
    }

    async fn instantiate(&self) -> Result<Instance, wasmtime::Error> {
        let state = HostState::new(
            self.services.clone(),
            self.sandbox.instance_memory(&self.memory),
            LogTags::new(&self.info.name),
        );
        let mut store = Store::new(self.pre.engine(), state);
        self.sandbox.configure(&mut store);
        self.sandbox.arm(&mut store);
        let handler = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance { store, handler })
    }

    fn take_idle(&self) -> Option<Instance> {
        self.idle.lock().expect("instance pool lock").pop()
    }

    fn give_back(&self, instance: Instance) {
        let mut idle = self.idle.lock().expect("instance pool lock");
        if idle.len() < self.max_idle {
            idle.push(instance);
        }
    }
}
