//! A TCP proxy on loopback that a test controls, to cut a gateway off from
//! Redis or a client the way a dropped network does: [`Proxy::blackhole`]
//! holds the bytes in both directions without closing or refusing anything
//! (connections made meanwhile are accepted but get no byte through),
//! [`Proxy::restore`] lets them flow again, and the connections survive both;
//! [`Proxy::cut`] ends every connection it forwards, in both directions at
//! once, without a byte more (no WebSocket close frame).
//!
//! The proxy runs on a runtime of its own, so it keeps forwarding while a
//! test blocks its thread (starting a gateway does).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// How many bytes one read forwards at most.
const CHUNK: usize = 64 * 1024;

/// A running proxy; it stops, closing every connection, when dropped.
pub struct Proxy {
    addr: SocketAddr,
    open: watch::Sender<bool>,
    connections: Connections,
    runtime: Option<tokio::runtime::Runtime>,
}

/// The tasks forwarding the connections (one each, both directions):
/// aborting one drops both of its sockets.
type Connections = Arc<Mutex<Vec<AbortHandle>>>;

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub fn start(target: SocketAddr) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the proxy");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the proxy's address");
        let (open, gate) = watch::channel(true);
        let connections = Connections::default();
        runtime.spawn(accept(listener, target, gate, Arc::clone(&connections)));
        Proxy {
            addr,
            open,
            connections,
            runtime: Some(runtime),
        }
    }

    /// Where clients connect instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `redis://` URL through the proxy.
    pub fn redis_url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Holds every byte in both directions from now on, closing nothing.
    pub fn blackhole(&self) {
        self.open.send_replace(false);
    }

    /// Forwards again, what was held first.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }

    /// Ends every connection forwarded now, closing both of its sockets
    /// with nothing more sent; connections made afterwards are forwarded.
    pub fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Accepts connections, even during a blackhole, and forwards each both ways.
async fn accept(
    listener: std::net::TcpListener,
    target: SocketAddr,
    gate: watch::Receiver<bool>,
    connections: Connections,
) {
    let listener = TcpListener::from_std(listener).expect("a proxy listener");
    while let Ok((client, _)) = listener.accept().await {
        let gate = gate.clone();
        let forwarding = tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::join!(
                pump(client_read, server_write, gate.clone()),
                pump(server_read, client_write, gate),
            );
        });
        let mut connections = connections.lock().unwrap();
        connections.retain(|connection| !connection.is_finished());
        connections.push(forwarding.abort_handle());
    }
}

/// Forwards one direction while the gate is open; while it is shut, neither
/// reads nor writes, so the bytes wait in the sockets' buffers.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut gate: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; CHUNK];
    loop {
        if gate.wait_for(|open| *open).await.is_err() {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        // A blackhole that began during the read holds what it brought.
        if gate.wait_for(|open| *open).await.is_err()
            || to.write_all(&buffer[..read]).await.is_err()
        {
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WAIT;
    use std::time::Duration;

    /// An echo server on loopback.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.into_split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        addr
    }

    async fn roundtrip(stream: &mut TcpStream, text: &[u8], within: Duration) -> Option<Vec<u8>> {
        stream.write_all(text).await.unwrap();
        let mut answer = vec![0u8; text.len()];
        tokio::time::timeout(within, stream.read_exact(&mut answer))
            .await
            .ok()
            .map(|read| read.map(|_| answer).unwrap())
    }

    #[tokio::test]
    async fn a_blackhole_holds_bytes_of_old_and_new_connections_until_restored() {
        let proxy = Proxy::start(echo().await);
        let mut old = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(
            roundtrip(&mut old, b"one", WAIT).await.as_deref(),
            Some(&b"one"[..])
        );

        proxy.blackhole();
        let held = Duration::from_millis(300);
        assert_eq!(roundtrip(&mut old, b"two", held).await, None);
        let mut new = TcpStream::connect(proxy.addr()).await.expect("accepted");
        assert_eq!(roundtrip(&mut new, b"six", held).await, None);

        proxy.restore();
        let mut answer = [0u8; 3];
        for (stream, text) in [(&mut old, b"two"), (&mut new, b"six")] {
            tokio::time::timeout(WAIT, stream.read_exact(&mut answer))
                .await
                .expect("the held bytes come through")
                .unwrap();
            assert_eq!(&answer, text);
        }
    }

    #[tokio::test]
    async fn a_cut_ends_the_connections_of_the_moment_and_no_later_one() {
        let proxy = Proxy::start(echo().await);
        let mut old = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(roundtrip(&mut old, b"one", WAIT).await.is_some());

        proxy.cut();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(WAIT, old.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "the cut connection ends");
        assert!(rest.is_empty(), "nothing more comes through: {rest:?}");
        let mut new = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(
            roundtrip(&mut new, b"two", WAIT).await.as_deref(),
            Some(&b"two"[..])
        );
    }
}
