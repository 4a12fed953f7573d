//! What operators see: the access log (one line per event), the Prometheus
//! metrics, and (`--compat aws`) notices of extensions API Gateway lacks.

pub mod access_log;
pub mod extensions;
pub mod metrics;
