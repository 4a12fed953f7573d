//! Health and readiness probes for load balancers and orchestrators, served on
//! both listeners.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

use crate::shutdown::Shutdown;

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

/// `GET /ready`: 200 while serving (the listeners only bind once every
/// configured route has a loaded component), 503 once shutdown has begun, so
/// load balancers stop sending new clients before connections are closed.
pub fn ready(shutdown: &Shutdown) -> Response<Full<Bytes>> {
    match shutdown.is_draining() {
        false => text(StatusCode::OK, "ready\n"),
        true => text(StatusCode::SERVICE_UNAVAILABLE, "draining\n"),
    }
}
