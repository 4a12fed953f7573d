//! A REST backend for handlers to call: a real HTTP/1.1 server (hyper) on a
//! loopback port that records every request and answers as the test says.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::{WAIT, eventually};

/// A request the backend received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON request body")
    }
}

/// How the backend answers one request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Whether the body is streamed in pieces without a `content-length`.
    pub chunked: bool,
}

impl Reply {
    /// `status` with `body`, at once.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            body: body.into(),
            delay: Duration::ZERO,
            chunked: false,
        }
    }

    /// The same reply, its body streamed in 4 KiB pieces with no
    /// `content-length`, so its size is known only by reading it.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// The same reply after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A running backend; it stops when dropped.
pub struct Backend {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Backend {
    /// Starts a backend that answers each request with `respond(request)`.
    pub async fn start(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a backend port");
        let addr = listener.local_addr().expect("the backend's address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let log = Arc::clone(&received);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (respond, log) = (Arc::clone(&respond), Arc::clone(&log));
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (respond, log) = (Arc::clone(&respond), Arc::clone(&log));
                    async move {
                        let recorded = record(request).await;
                        let reply = respond(&recorded);
                        log.lock().unwrap().push(recorded);
                        tokio::time::sleep(reply.delay).await;
                        let response = hyper::Response::builder()
                            .status(reply.status)
                            .body(body(reply.body, reply.chunked))
                            .expect("a valid response");
                        Ok::<_, Infallible>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Backend {
            addr,
            received,
            server,
        }
    }

    /// The backend's address, e.g. for `http.allowed_hosts`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A URL of the backend.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Recorded> {
        let what = format!("the backend got {count} requests");
        eventually(&what, WAIT, async || {
            let received = self.received();
            if received.len() >= count {
                Ok(received)
            } else {
                Err(format!("{received:?}"))
            }
        })
        .await
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `bytes` as a response body: whole, or streamed in pieces of unknown total.
fn body(bytes: Vec<u8>, chunked: bool) -> BoxBody<Bytes, Infallible> {
    if !chunked {
        return Full::new(Bytes::from(bytes)).boxed();
    }
    let pieces: Vec<Result<Frame<Bytes>, Infallible>> = bytes
        .chunks(4096)
        .map(|piece| Ok(Frame::data(Bytes::copy_from_slice(piece))))
        .collect();
    StreamBody::new(futures_util::stream::iter(pieces)).boxed()
}

async fn record(request: hyper::Request<Incoming>) -> Recorded {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    Recorded {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |path| path.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}
