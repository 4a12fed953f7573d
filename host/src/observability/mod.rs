//! What operators see: the access log (one line per event) and the
//! Prometheus metrics.

pub mod access_log;
pub mod metrics;
