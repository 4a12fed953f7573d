//! The state of one handler instance's store, and the views that hand each
//! WIT interface only its slice of it.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_config::WasiConfig;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::grants::RouteGrants;
use super::guest_log::{GuestOutput, LogTags};
use super::memory::InstanceMemory;
use crate::keyvalue::KeyValueStore;
use crate::observability::extensions::ExtensionNotices;
use crate::registry::Registry;
use crate::runtime::host::http::OutboundHttp;
use crate::runtime::host::{ConnectionsView, EventView, GroupsView, KeyValueView};

/// What the gateway offers every handler instance: the connection registry
/// and, if configured, the key-value store.
#[derive(Clone)]
pub struct Services {
    /// Connections and groups.
    pub registry: Arc<dyn Registry>,
    /// Buckets for `wasi:keyvalue`; none refuses every `open`.
    pub key_value: Option<Arc<dyn KeyValueStore>>,
    /// Where a handler's use of an extension API Gateway lacks is reported
    /// (`--compat aws`); none: not reported.
    pub extension_notices: Option<Arc<ExtensionNotices>>,
}

impl Services {
    /// Connections and groups, without a key-value store.
    pub fn registry_only(registry: Arc<dyn Registry>) -> Self {
        Services {
            registry,
            key_value: None,
            extension_notices: None,
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

    /// The resource table, where a 0.2.0 call's event is lent from.
    pub(super) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// What `event` (0.2.0) sees: the event lent to the call in progress.
    pub(crate) fn event(&mut self) -> EventView<'_> {
        EventView {
            table: &mut self.table,
        }
    }

    /// What `connections` sees.
    pub(crate) fn connections(&mut self) -> ConnectionsView<'_> {
        ConnectionsView {
            registry: self.services.registry.as_ref(),
        }
    }

    /// What `groups` sees.
    pub(crate) fn groups(&mut self) -> GroupsView<'_> {
        GroupsView {
            registry: self.services.registry.as_ref(),
            notices: self.services.extension_notices.as_deref(),
            log_tags: &self.log_tags,
        }
    }

    /// What `wasi:keyvalue` sees.
    pub(crate) fn key_value(&mut self) -> KeyValueView<'_> {
        KeyValueView {
            store: self.services.key_value.as_deref(),
            table: &mut self.table,
            grants: &self.grants,
            log_tags: &self.log_tags,
        }
    }

    /// What `wasi:config/store` sees.
    pub(crate) fn config(&mut self) -> WasiConfig<'_> {
        self.grants.wasi_config()
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

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
