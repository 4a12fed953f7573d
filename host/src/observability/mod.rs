//! What operators see: the access log (one line per event), its live tail
//! (the same records, to whoever watches), the route table's recent swaps,
//! the Prometheus metrics, and (`--compat aws`) notices of extensions API
//! Gateway lacks.

pub mod access_log;
pub mod extensions;
pub mod live_tail;
pub mod metrics;
pub mod swap_history;
