//! The handlers' linear memory: a cap per instance and one budget shared by
//! every instance of every component (`--handlers-memory-total`).
//!
//! Each store's resource limiter counts what its memories grow by against the
//! shared [`MemoryBudget`] and gives it all back when the store is dropped. A
//! growth the budget cannot cover traps the instance with
//! [`MemoryBudgetExhausted`]: that event fails, the poisoned instance is
//! dropped (returning its memory), and every other instance goes on.
//!
//! Not wasmtime's pooling allocator: its pool is sized in slots (instances and
//! memories, each reserving the per-instance maximum), not in bytes, so a
//! byte budget would become total / cap slots — 16 at the defaults — for all
//! components together, while every component keeps up to
//! `--instances-per-plugin` idle instances and a componentize-py component
//! brings several memories. Small handlers would then be refused with most of
//! the budget unused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::{ResourceLimiter, StoreLimits};

/// The linear memory all handler instances together may hold.
#[derive(Debug)]
pub struct MemoryBudget {
    total: usize,
    used: AtomicUsize,
}

/// The trap of an instance whose memory would grow past the shared budget.
#[derive(Debug, thiserror::Error)]
#[error(
    "the handlers' total memory budget of {} MiB (--handlers-memory-total) is used up",
    .0 >> 20
)]
pub struct MemoryBudgetExhausted(pub usize);

impl MemoryBudget {
    /// A budget of `total` bytes, none of it used.
    pub fn new(total: usize) -> Arc<Self> {
        Arc::new(MemoryBudget {
            total,
            used: AtomicUsize::new(0),
        })
    }

    /// Takes `bytes` from the budget, if that many are left.
    fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|after| *after <= self.total)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// One store's resource limiter: the per-instance cap, then the shared budget.
pub struct InstanceMemory {
    cap: StoreLimits,
    budget: Arc<MemoryBudget>,
    /// What this store's memories took from the budget.
    held: usize,
}

impl InstanceMemory {
    pub(super) fn new(cap: StoreLimits, budget: &Arc<MemoryBudget>) -> Self {
        InstanceMemory {
            cap,
            budget: Arc::clone(budget),
            held: 0,
        }
    }
}

impl ResourceLimiter for InstanceMemory {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.cap.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let more = desired.saturating_sub(current);
        if !self.budget.reserve(more) {
            return Err(MemoryBudgetExhausted(self.budget.total).into());
        }
        self.held += more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.cap.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.cap.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.cap.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.cap.instances()
    }

    fn tables(&self) -> usize {
        self.cap.tables()
    }

    fn memories(&self) -> usize {
        self.cap.memories()
    }
}

impl Drop for InstanceMemory {
    fn drop(&mut self) {
        self.budget.release(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_draw_on_one_budget_and_give_back_what_they_held() {
        let budget = MemoryBudget::new(10 << 20);
        let cap = || {
            wasmtime::StoreLimitsBuilder::new()
                .memory_size(8 << 20)
                .build()
        };
        let mut first = InstanceMemory::new(cap(), &budget);
        assert!(first.memory_growing(0, 6 << 20, None).unwrap());
        let mut second = InstanceMemory::new(cap(), &budget);
        let error = second.memory_growing(0, 6 << 20, None).unwrap_err();
        assert!(error.downcast_ref::<MemoryBudgetExhausted>().is_some());
        assert!(second.memory_growing(0, 4 << 20, None).unwrap());
        assert_eq!(budget.used.load(Ordering::Acquire), 10 << 20);
        drop(first);
        assert_eq!(budget.used.load(Ordering::Acquire), 4 << 20);
        drop(second);
        assert_eq!(budget.used.load(Ordering::Acquire), 0);
    }
}
