//! Health probes for load balancers and orchestrators, served on both listeners.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

/// A plain-text response.
pub fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a static response is valid")
}

/// `GET /health`: the process is alive. A plain 200, no WebSocket headers.
pub fn health() -> Response<Full<Bytes>> {
    text(StatusCode::OK, "ok\n")
}

/// Whether the gateway should get traffic: set once every configured route
/// has a loaded component. Clearing it (when shutting down) turns `/ready` to
/// 503 so that load balancers stop sending clients before connections close.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the gateway ready or not.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    /// Whether the gateway is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `GET /ready`: 200 when ready, 503 otherwise.
pub fn ready(readiness: &Readiness) -> Response<Full<Bytes>> {
    match readiness.is_ready() {
        true => text(StatusCode::OK, "ready\n"),
        false => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
    }
}
