//! The state of one handler instance's store: everything host imports can see.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::guest_log::{GuestOutput, LogTags};
use crate::registry::Registry;

/// The data of a handler instance's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory cap, enforced by the store's resource limiter.
    pub(super) limits: StoreLimits,
    /// CPU deadline: epoch ticks the current call may still run.
    pub(super) ticks_left: u64,
    /// Tags for the guest's stdout and stderr.
    pub(super) log_tags: LogTags,
    registry: Arc<dyn Registry>,
}

impl HostState {
    /// A sandboxed state: no environment, no arguments, no filesystem, no
    /// network; stdout and stderr go to the log.
    pub fn new(registry: Arc<dyn Registry>, limits: StoreLimits, log_tags: LogTags) -> Self {
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
            log_tags,
            registry,
        }
    }

    /// The connection registry, for the `connections` and `groups` imports.
    pub fn registry(&self) -> &dyn Registry {
        self.registry.as_ref()
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
