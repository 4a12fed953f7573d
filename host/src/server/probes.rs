//! Health and readiness probes for load balancers and orchestrators, served on
//! both listeners.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

use crate::keyvalue::KeyValueStore;
use crate::registry::Registry;
use crate::server::shutdown::Shutdown;

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(body.into()))
        .expect("a static response is valid")
}

/// `GET /health`: the process is alive. A plain 200, no WebSocket headers.
pub fn health() -> Response<Full<Bytes>> {
    text(StatusCode::OK, "ok\n")
}

/// `GET /ready`: 200 while serving (the listeners only bind once every
/// configured route has a loaded component); 503 once shutdown has begun, so
/// load balancers stop sending new clients before connections are closed,
/// and 503 with the reason while the key-value store cannot serve handlers or
/// a cluster node holds no lease.
#[derive(Clone)]
pub struct Readiness {
    /// Draining once shutdown begins.
    pub shutdown: Arc<Shutdown>,
    /// Unavailable while a cluster node holds no lease.
    pub registry: Arc<dyn Registry>,
    /// Unavailable while the store cannot serve handlers.
    pub key_value: Arc<dyn KeyValueStore>,
}

impl Readiness {
    /// The probe's answer now.
    pub fn respond(&self) -> Response<Full<Bytes>> {
        if self.shutdown.is_draining() {
            return text(StatusCode::SERVICE_UNAVAILABLE, "draining\n");
        }
        let reason = self
            .registry
            .unavailable()
            .map(str::to_owned)
            .or_else(|| self.key_value.unavailable());
        match reason {
            None => text(StatusCode::OK, "ready\n"),
            Some(reason) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
        }
    }
}
