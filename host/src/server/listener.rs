//! The client listener: plain HTTP for `GET /health` and `GET /ready`, WebSocket
//! upgrades for everything else, on one port, over TCP or TLS (wss); and the
//! HTTP/1.1 serve loop both ports run ([`serve_http`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::{ClientContext, handshake, probes};

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
pub async fn serve(listener: TcpListener, context: Arc<ClientContext>, tls: Option<TlsAcceptor>) {
    loop {
        let (stream, remote) = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = context.shutdown.stopped_accepting() => return,
        };
        let _ = stream.set_nodelay(true);
        let context = Arc::clone(&context);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_client(stream, remote, context, false).await,
                Some(tls) => {
                    let timeout = context.admission.limits().handshake_timeout;
                    match tokio::time::timeout(timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => serve_client(stream, remote, context, true).await,
                        Ok(Err(error)) => tracing::debug!(%remote, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// Serves HTTP/1.1 on one client connection (over TLS if `secure`), handing
/// upgrades to the handshake.
async fn serve_client<S>(stream: S, remote: SocketAddr, context: Arc<ClientContext>, secure: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = context.admission.limits().http();
    let respond = move |request| respond(Arc::clone(&context), request, remote, secure);
    serve_http(stream, remote, limits, Port::Client, respond).await;
}

/// The HTTP limits both ports serve under.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Time allowed for a request head, and for a kept-alive connection's
    /// next one.
    pub head_timeout: Duration,
    /// Largest request head.
    pub max_header_size: usize,
}

/// Which of the gateway's two ports a connection came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// WebSocket clients: upgrades allowed.
    Client,
    /// The management API: no upgrades.
    Management,
}

/// Serves HTTP/1.1 on one accepted connection of either port, answering each
/// request with `respond`, under `limits`: a request head must arrive within
/// the head timeout, and hyper's header-read timer also runs while a
/// kept-alive connection waits for its next request, so the same timeout
/// closes idle keep-alive connections; a head larger than `max_header_size` is
/// answered 431. Only the client port allows upgrades. A response body may
/// be streamed (the management port's live tail).
pub async fn serve_http<S, F, R, B>(
    stream: S,
    remote: SocketAddr,
    limits: HttpLimits,
    port: Port,
    respond: F,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> R + Send + 'static,
    R: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(limits.max_header_size);
    let service = service_fn(move |request| {
        let response = respond(request);
        async move { Ok::<_, Infallible>(response.await) }
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    let served = match port {
        Port::Client => connection.with_upgrades().await,
        Port::Management => connection.await,
    };
    if let Err(error) = served {
        let port = match port {
            Port::Client => "client",
            Port::Management => "management",
        };
        tracing::debug!(%remote, %error, "{port} connection ended with an error");
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
    context: Arc<ClientContext>,
    request: Request<Incoming>,
    remote: SocketAddr,
    secure: bool,
) -> Response<Full<Bytes>> {
    if handshake::is_upgrade(&request) {
        return handshake::upgrade(&context, request, remote).await;
    }
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => probes::health(),
        (&Method::GET, "/ready") => context.readiness.respond(),
        _ => handshake::upgrade_required(not_websocket(&request, secure)),
    }
}

/// What a plain HTTP request to the client port is told: to connect with a
/// WebSocket client, and where the probes a load balancer may use instead are,
/// as URLs on the host it asked for (just paths without a `Host` header).
fn not_websocket<B>(request: &Request<B>, secure: bool) -> String {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    let (ws, http) = match (host.is_empty(), secure) {
        (true, _) => (String::new(), String::new()),
        (false, false) => (format!("ws://{host}"), format!("http://{host}")),
        (false, true) => (format!("wss://{host}"), format!("https://{host}")),
    };
    format!(
        "This port serves WebSocket clients: connect to {ws}/ with a WebSocket client.\n\
         Health checks: GET {http}/health (liveness) and GET {http}/ready (readiness) \
         answer on this port without WebSocket headers.\n"
    )
}
