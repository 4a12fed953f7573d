//! The state of one handler instance's store: everything host imports can see.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_config::WasiConfig;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpHooks};

use super::grants::RouteGrants;
use super::guest_log::{GuestOutput, LogTags};
use super::memory::InstanceMemory;
use crate::keyvalue::KeyValueStore;
use crate::registry::Registry;
use crate::runtime::host::http::OutboundHttp;

/// What the gateway offers every handler instance: the connection registry
/// and, if configured, the key-value store.
#[derive(Clone)]
pub struct Services {
    /// Connections and groups.
    pub registry: Arc<dyn Registry>,
    /// Buckets for `wasi:keyvalue`; none refuses every `open`.
    pub key_value: Option<Arc<dyn KeyValueStore>>,
}

impl Services {
    /// Connections and groups, without a key-value store.
    pub fn registry_only(registry: Arc<dyn Registry>) -> Self {
        Services {
            registry,
            key_value: None,
        }
    }
}

/// The data of a handler instance's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory cap and budget share, enforced by the store's resource limiter.
    pub(super) limits: InstanceMemory,
    /// CPU deadline: epoch ticks the current call may still run.
    pub(super) ticks_left: u64,
    /// Tags for the guest's stdout and stderr.
    pub(super) log_tags: LogTags,
    services: Services,
    /// The grants of the route whose event is being handled.
    grants: Arc<RouteGrants>,
    http: WasiHttpCtx,
    outbound: OutboundHttp,
}

impl HostState {
    /// A sandboxed state: no environment, no arguments, no filesystem, no
    /// sockets; stdout and stderr go to the log. Until [`Self::set_grants`],
    /// no configuration values and no outbound HTTP.
    pub(super) fn new(services: Services, limits: InstanceMemory, log_tags: LogTags) -> Self {
        let wasi = WasiCtxBuilder::new()
            .stdout(GuestOutput::stdout(log_tags.clone()))
            .stderr(GuestOutput::stderr(log_tags.clone()))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits,
            ticks_left: 0,
            outbound: OutboundHttp::new(Arc::default(), log_tags.clone()),
            log_tags,
            services,
            grants: Arc::default(),
            http: WasiHttpCtx::new(),
        }
    }

    /// Grants the configuration values and outbound HTTP of the route whose
    /// event comes next.
    pub fn set_grants(&mut self, grants: &Arc<RouteGrants>) {
        if !Arc::ptr_eq(&self.grants, grants) {
            self.grants = Arc::clone(grants);
            self.outbound.set_grants(Arc::clone(grants));
        }
    }

    /// Tags for log lines about this instance's current event.
    pub(crate) fn log_tags(&self) -> &LogTags {
        &self.log_tags
    }

    /// The grants of the route being handled.
    pub fn grants(&self) -> &RouteGrants {
        &self.grants
    }

    /// The key-value store, if the gateway has one.
    pub fn key_value(&self) -> Option<&dyn KeyValueStore> {
        self.services.key_value.as_deref()
    }

    /// The instance's resources.
    pub(crate) fn table_ref(&self) -> &ResourceTable {
        &self.table
    }

    /// The instance's resources, to add or remove one.
    pub(crate) fn table_mut(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// What `wasi:config/store` reads.
    pub fn config(&mut self) -> WasiConfig<'_> {
        self.grants.wasi_config()
    }

    /// The pieces `wasi:http` works with.
    pub(crate) fn http_parts(
        &mut self,
    ) -> (&mut WasiHttpCtx, &mut ResourceTable, &mut dyn WasiHttpHooks) {
        (&mut self.http, &mut self.table, &mut self.outbound)
    }

    /// The connection registry, for the `connections` and `groups` imports.
    pub fn registry(&self) -> &dyn Registry {
        self.services.registry.as_ref()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
