//! A loaded route handler component and its pool of ready instances.
//!
//! Instantiating a component costs far more than calling it, so instances are
//! reused: a call takes an idle instance (or makes one from the pre-instantiated
//! component), runs the event under the sandbox's limits, and gives it back. An
//! instance that trapped is dropped, never reused.
//!
//! A plugin is built against one version of the world ([`World`]); the pool,
//! the sandbox and the memory budget do not care which.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::Store;
use wasmtime::component::Resource;

use super::bindings::{World, v0_1, v0_2};
use super::compile_cache::Origin;
use super::grants::RouteGrants;
use super::guest_log::LogTags;
use super::memory::MemoryBudget;
use super::sandbox::Sandbox;
use super::state::{HostState, Services};
use crate::event::{Event, EventKind, Response};

/// Why a handler call failed. Either way only this event fails.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The handler trapped: a panic, a deadline overrun, a memory cap hit.
    /// Shown with `{:#}`: the error chain on one line, never a host backtrace.
    #[error("the handler trapped: {0:#}")]
    Trapped(wasmtime::Error),
    /// The handler returned an error.
    #[error("the handler returned an error: {0}")]
    Failed(Failure),
}

/// An error a handler returned: what kind, and its text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What the client is told, and with which status.
    pub kind: FailureKind,
    /// For the client, unless the kind is [`FailureKind::Internal`]: then it
    /// is only logged.
    pub message: String,
}

/// The kinds of `handler-error` (`wsgate:gateway@0.2.0`). A 0.1.0 handler's
/// `err(string)` is always [`FailureKind::Internal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The request or message is malformed: 400.
    BadRequest,
    /// The client may not do this: 403.
    Forbidden,
    /// The client is asking too often: 429.
    TooManyRequests,
    /// Something the handler needs is down; a retry may succeed: 503.
    Unavailable,
    /// A bug or an unexpected failure, only logged: 500.
    Internal,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: [FailureKind; 5] = [
        FailureKind::BadRequest,
        FailureKind::Forbidden,
        FailureKind::TooManyRequests,
        FailureKind::Unavailable,
        FailureKind::Internal,
    ];

    /// The HTTP status a `$connect` is answered with, and the access log
    /// records for any event.
    pub fn status(self) -> u16 {
        match self {
            FailureKind::BadRequest => 400,
            FailureKind::Forbidden => 403,
            FailureKind::TooManyRequests => 429,
            FailureKind::Unavailable => 503,
            FailureKind::Internal => 500,
        }
    }
}

/// A component ready to instantiate, of either version.
#[derive(Clone)]
pub(super) enum HandlerPre {
    /// Built against `wsgate:gateway@0.1.0`.
    V0_1(v0_1::HandlerPre<HostState>),
    /// Built against `wsgate:gateway@0.2.0`.
    V0_2(v0_2::HandlerPre<HostState>),
}

impl HandlerPre {
    /// The version of the world the component is built against.
    pub(super) fn world(&self) -> World {
        match self {
            HandlerPre::V0_1(_) => World::V0_1,
            HandlerPre::V0_2(_) => World::V0_2,
        }
    }

    fn engine(&self) -> &wasmtime::Engine {
        match self {
            HandlerPre::V0_1(pre) => pre.engine(),
            HandlerPre::V0_2(pre) => pre.engine(),
        }
    }

    async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<RouteHandler> {
        Ok(match self {
            HandlerPre::V0_1(pre) => RouteHandler::V0_1(pre.instantiate_async(store).await?),
            HandlerPre::V0_2(pre) => RouteHandler::V0_2(pre.instantiate_async(store).await?),
        })
    }
}

/// An instance's exports, of either version.
enum RouteHandler {
    V0_1(v0_1::RouteHandler),
    V0_2(v0_2::RouteHandler),
}

/// One ready instance of a component, with its own store.
struct Instance {
    store: Store<HostState>,
    handler: RouteHandler,
}

/// What one call of a handler came to: `Err` is a trap.
type Outcome = wasmtime::Result<Result<Response, Failure>>;

impl Instance {
    /// Runs `event` through the instance's handler, whichever version it is.
    async fn call(&mut self, event: Event) -> Outcome {
        let Instance { store, handler } = self;
        match handler {
            RouteHandler::V0_1(handler) => {
                let handler = handler.wsgate_gateway_handler();
                let outcome = handler.call_handle(&mut *store, &event.into()).await?;
                Ok(outcome.map(Response::from).map_err(|message| Failure {
                    kind: FailureKind::Internal,
                    message,
                }))
            }
            RouteHandler::V0_2(handler) => {
                call_v0_2(store, handler.wsgate_gateway_handler(), event).await
            }
        }
    }
}

/// A 0.2.0 call: the request context (and a `$connect`'s request) are lent
/// to the guest as resources for the call, and taken back after it.
async fn call_v0_2(
    store: &mut Store<HostState>,
    handler: &v0_2::handler::Guest,
    event: Event,
) -> Outcome {
    let Event { context, kind } = event;
    let context = store.data_mut().table().push(context)?;
    let lent = || Resource::new_borrow(context.rep());
    let outcome = match kind {
        EventKind::Connect(request) => {
            let request = store.data_mut().table().push(request)?;
            let borrowed = Resource::new_borrow(request.rep());
            let outcome = handler.call_on_connect(&mut *store, lent(), borrowed).await;
            let _ = store.data_mut().table().delete(request);
            outcome.map(|decision| decision.map_err(Failure::from).and_then(Response::try_from))
        }
        EventKind::Message(payload) => handler
            .call_on_message(&mut *store, lent(), (&payload).into())
            .await
            .map(|reply| {
                reply
                    .map(|body| Response::reply(body.map(Into::into)))
                    .map_err(Failure::from)
            }),
        EventKind::Disconnect(info) => handler
            .call_on_disconnect(&mut *store, lent(), (&info).into())
            .await
            .map(|done| done.map(|()| Response::ok()).map_err(Failure::from)),
    };
    let _ = store.data_mut().table().delete(context);
    outcome
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
    pre: HandlerPre,
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
        pre: HandlerPre,
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

    /// The version of the world the component is built against.
    pub fn world(&self) -> World {
        self.pre.world()
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
            event.context.route_key,
            event.context.connection_id().as_str(),
        );
        self.sandbox.arm(&mut instance.store);
        match instance.call(event).await {
            Ok(answer) => {
                self.give_back(instance);
                answer.map_err(HandlerError::Failed)
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
        let handler = self.pre.instantiate(&mut store).await?;
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
