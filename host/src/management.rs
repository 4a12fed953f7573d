//! The management listener (loopback by default): health now; the
//! `@connections` API, metrics and route listing build on it.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;
use crate::{listener, probes};

/// Serves management requests until the process ends (also while draining, so
/// `/ready` can say so).
pub async fn serve(listener: TcpListener, shutdown: Arc<Shutdown>) {
    loop {
        let (stream, _) = listener::accept(&listener).await;
        let shutdown = Arc::clone(&shutdown);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let shutdown = Arc::clone(&shutdown);
                async move {
                    Ok::<_, Infallible>(match (request.method(), request.uri().path()) {
                        (&Method::GET, "/health") => probes::health(),
                        (&Method::GET, "/ready") => probes::ready(&shutdown),
                        _ => probes::text(StatusCode::NOT_FOUND, "not found\n"),
                    })
                }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "management connection ended with an error");
            }
        });
    }
}
