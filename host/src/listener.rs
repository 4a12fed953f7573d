//! The client listener: plain HTTP for `GET /health`, WebSocket upgrades for
//! everything else, on one port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use crate::gateway::Gateway;
use crate::{handshake, probes};

/// Accepts client connections until the process ends.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    loop {
        let (stream, remote) = accept(&listener).await;
        let _ = stream.set_nodelay(true);
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let gateway = Arc::clone(&gateway);
                async move { Ok::<_, Infallible>(respond(gateway, request, remote).await) }
            });
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%remote, %error, "client connection ended with an error");
            }
        });
    }
}

/// The next connection of `listener`. Accept errors (out of file descriptors,
/// most likely) are logged and retried after a pause instead of spinning.
pub async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(error) => {
                tracing::warn!(listener = ?listener.local_addr().ok(), %error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn respond(
    gateway: Arc<Gateway>,
    request: Request<Incoming>,
    remote: SocketAddr,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    if handshake::is_upgrade(&request) {
        return handshake::upgrade(gateway, request, remote).await;
    }
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => probes::health(),
        (&Method::GET, "/ready") => probes::ready(&gateway.readiness),
        _ => probes::text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket; GET /health for liveness\n",
        ),
    }
}
