//! The client listener: plain HTTP for `GET /health` and `GET /ready`, WebSocket
//! upgrades for everything else, on one port, over TCP or TLS (wss).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::{handshake, probes};
use crate::gateway::Gateway;
use crate::server::admission::AdmissionLimits;

/// Pending connections the kernel queues before `accept`: enough for a burst
/// of reconnecting clients after a node restarts.
const BACKLOG: i32 = 4096;

/// Binds the client listener; with `reuse_port`, other processes may bind the
/// same address (SO_REUSEPORT) and the kernel spreads new connections across
/// them, so one machine holds more connections than one process's file limit.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Accepts client connections until shutdown begins.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, tls: Option<TlsAcceptor>) {
    loop {
        let (stream, remote) = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = gateway.shutdown.stopped_accepting() => return,
        };
        let _ = stream.set_nodelay(true);
        let gateway = Arc::clone(&gateway);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_http(stream, remote, gateway).await,
                Some(tls) => {
                    let timeout = gateway.settings.admission.handshake_timeout;
                    match tokio::time::timeout(timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => serve_http(stream, remote, gateway).await,
                        Ok(Err(error)) => tracing::debug!(%remote, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// Serves HTTP/1.1 on one client connection, handing upgrades to the handshake.
async fn serve_http<S>(stream: S, remote: SocketAddr, gateway: Arc<Gateway>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = http1(&gateway.settings.admission);
    let service = service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        async move { Ok::<_, Infallible>(respond(gateway, request, remote).await) }
    });
    let connection = http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!(%remote, %error, "client connection ended with an error");
    }
}

/// The HTTP/1.1 server both listeners run, hardened by `limits`: a request
/// head must arrive within the handshake timeout, and hyper's header-read
/// timer also runs while a kept-alive connection waits for its next request,
/// so the same timeout closes idle keep-alive connections; a head larger than
/// `max_header_size` is answered 431.
pub fn http1(limits: &AdmissionLimits) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.handshake_timeout)
        .max_buf_size(limits.max_header_size);
    http
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
        (&Method::GET, "/ready") => probes::ready(
            &gateway.shutdown,
            gateway.registry.as_ref(),
            gateway.key_value.as_ref(),
        ),
        _ => probes::text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket; GET /health for liveness\n",
        ),
    }
}
