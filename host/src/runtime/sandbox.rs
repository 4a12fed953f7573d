//! The limits every handler call runs under: a CPU deadline, a memory cap and
//! the memory budget all instances share ([`super::memory`]).
//!
//! The deadline uses epoch interruption: one ticker thread advances the
//! engine's epoch every [`TICK`]; a running handler yields to the async runtime
//! at every tick (so a busy handler never starves other connections) and traps
//! once it has used up its ticks.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Engine, Store, StoreLimitsBuilder, UpdateDeadline};

use super::memory::{InstanceMemory, MemoryBudget};
use super::state::HostState;

/// How often the epoch advances.
pub const TICK: Duration = Duration::from_millis(10);

/// The error a handler traps with when it overruns its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the handler ran past its CPU deadline of {0:?}")]
pub struct DeadlineExceeded(pub Duration);

/// Per-call limits for handler instances.
#[derive(Clone, Copy, Debug)]
pub struct Sandbox {
    /// The CPU time one call may use.
    pub deadline: Duration,
    /// The most linear memory one instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// The most linear memory all instances together may hold, in bytes.
    pub memory_total: usize,
}

impl Default for Sandbox {
    /// 1 s of CPU per call, 64 MiB per instance, 1 GiB for all.
    fn default() -> Self {
        Sandbox {
            deadline: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            memory_total: 1 << 30,
        }
    }
}

impl Sandbox {
    /// The per-instance memory cap, drawing on `budget`.
    pub fn instance_memory(&self, budget: &Arc<MemoryBudget>) -> InstanceMemory {
        let cap = StoreLimitsBuilder::new()
            .memory_size(self.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        InstanceMemory::new(cap, budget)
    }

    /// Installs the limiter and the deadline callback on a new store.
    pub fn configure(&self, store: &mut Store<HostState>) {
        let deadline = self.deadline;
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_callback(move |mut store| {
            let ticks_left = &mut store.data_mut().ticks_left;
            if *ticks_left == 0 {
                return Err(DeadlineExceeded(deadline).into());
            }
            *ticks_left -= 1;
            Ok(UpdateDeadline::Yield(1))
        });
    }

    /// Gives the next call its full CPU budget.
    pub fn arm(&self, store: &mut Store<HostState>) {
        store.data_mut().ticks_left = (self.deadline.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(1);
    }
}

/// Advances `engine`'s epoch every [`TICK`] until the engine is dropped.
pub fn start_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("wsgate-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .expect("spawn the epoch ticker thread");
}
