//! Opening client connections: from a chosen loopback source address (one
//! address has only ~28k ephemeral ports towards one server port), many at a
//! time but with a bounded number of handshakes in flight.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::reliable;

/// A client-side WebSocket connection.
pub type Ws = WebSocketStream<TcpStream>;

/// Handshakes in flight at once when opening many connections; below the
/// servers' accept backlog, so no SYN is dropped and retried a second later.
const CONCURRENT_HANDSHAKES: usize = 256;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest message the load generator expects back.
const MAX_MESSAGE: usize = 1 << 20;

/// The clients' read buffer. tungstenite zeroes its whole read buffer before
/// every read (128 KiB by default), which would make the clients, sharing the
/// machine with the servers, the bottleneck.
const READ_BUFFER: usize = 16 * 1024;

/// Hands out source addresses 127.0.0.2, 127.0.0.3, … so that every batch of
/// connections gets fresh ephemeral ports (earlier batches' ports may still be
/// in TIME_WAIT).
pub fn next_source() -> IpAddr {
    static NEXT: AtomicU8 = AtomicU8::new(2);
    let last = NEXT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(if n >= 254 { 2 } else { n + 1 })
        })
        .unwrap_or(2);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Where to connect: a server's address and the path (with query) to ask for.
#[derive(Clone, Debug)]
pub struct Target {
    /// The server.
    pub addr: SocketAddr,
    /// The request path, such as `/` or `/?room=bench`.
    pub path: String,
    /// Whether the clients offer the gateway's reliable subprotocol.
    pub reliable: bool,
}

impl Target {
    /// `path` on `addr`.
    pub fn new(addr: SocketAddr, path: impl Into<String>) -> Self {
        Target {
            addr,
            path: path.into(),
            reliable: false,
        }
    }

    /// The root path of `addr`.
    pub fn root(addr: SocketAddr) -> Self {
        Self::new(addr, "/")
    }

    /// The same target, the clients on the reliable subprotocol.
    pub fn reliable(self) -> Self {
        Target {
            reliable: true,
            ..self
        }
    }

    /// The `ws://` URL.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, self.path)
    }
}

/// Opens one connection from `source`.
pub async fn connect(target: &Target, source: IpAddr) -> anyhow::Result<Ws> {
    let attempt = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket.connect(target.addr).await?;
        stream.set_nodelay(true)?;
        let mut request = target.url().into_client_request()?;
        if target.reliable {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", reliable::SUBPROTOCOL.parse()?);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .read_buffer_size(READ_BUFFER);
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        anyhow::Ok(ws)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .context("the handshake timed out")?
        .with_context(|| format!("connecting to {} from {source}", target.url()))
}

/// Opens `count` connections from `source`, a bounded number at a time.
pub async fn connect_many(
    target: &Target,
    source: IpAddr,
    count: usize,
) -> anyhow::Result<Vec<Ws>> {
    stream::iter(0..count)
        .map(|_| connect(target, source))
        .buffer_unordered(CONCURRENT_HANDSHAKES)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The line a holder prints once all its connections are open.
pub const HELD: &str = "held";

/// Opens `count` idle connections, prints [`HELD`] and keeps them open until
/// its standard input closes (the `hold` subcommand, run as a child process
/// because one process may hold only ~20k sockets).
pub async fn hold(target: &Target, source: IpAddr, count: usize) -> anyhow::Result<()> {
    let connections = connect_many(target, source, count).await?;
    println!("{HELD} {}", connections.len());
    tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await?;
    drop(connections);
    Ok(())
}
