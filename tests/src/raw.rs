//! WebSocket by hand over a TCP socket, for what a well-behaved client
//! library will not do: [`RawClient`] sends frames byte by byte, the
//! upgrade request heads are written out in full, and
//! [`upgrade_and_vanish`] leaves in the middle of a handshake.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::WAIT;

/// A client speaking raw WebSocket frames, for what a well-behaved client
/// library will not send.
pub struct RawClient {
    /// The socket, after the 101 response.
    pub stream: TcpStream,
}

impl RawClient {
    /// Completes a handshake by hand on `addr`.
    pub async fn connect(addr: SocketAddr) -> RawClient {
        let (response, client) = Self::send_head(addr, upgrade_head(addr, "").as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        client
    }

    /// Writes `head` (a request head, whole or not) on a new connection to
    /// `addr` and reads the response head: all of it, or what came before the
    /// gateway ended the connection (then with the reason).
    pub async fn send_head(addr: SocketAddr, head: &[u8]) -> (String, RawClient) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(head)
            .await
            .expect("write the request head");
        // Read the response head byte by byte, so no frame is consumed with it.
        let mut response = Vec::new();
        let mut ended = None;
        while ended.is_none() && !response.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            match tokio::time::timeout(WAIT, stream.read(&mut byte)).await {
                Err(_) => panic!(
                    "no response head in time: {}",
                    String::from_utf8_lossy(&response)
                ),
                Ok(Ok(0)) => ended = Some("connection closed".to_owned()),
                Ok(Ok(_)) => response.push(byte[0]),
                Ok(Err(error)) => ended = Some(error.to_string()),
            }
        }
        let mut response = String::from_utf8_lossy(&response).into_owned();
        if let Some(reason) = ended {
            response.push_str(&format!("[{reason}]"));
        }
        (response, RawClient { stream })
    }

    /// Sends one frame: `first_byte` is FIN, RSV and opcode; masked as a client must,
    /// unless `masked` is false.
    pub async fn send_frame(&mut self, first_byte: u8, payload: &[u8], masked: bool) {
        use tokio::io::AsyncWriteExt;
        assert!(payload.len() < 126, "short frames only");
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut frame = vec![
            first_byte,
            payload.len() as u8 | if masked { 0x80 } else { 0 },
        ];
        if masked {
            frame.extend_from_slice(&mask);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            frame.extend_from_slice(payload);
        }
        self.stream.write_all(&frame).await.expect("write frame");
    }

    /// Reads until the server's close frame; returns its code.
    pub async fn recv_close_code(&mut self) -> u16 {
        use tokio::io::AsyncReadExt;
        loop {
            let mut header = [0u8; 2];
            tokio::time::timeout(WAIT, self.stream.read_exact(&mut header))
                .await
                .expect("no frame in time")
                .expect("read frame header");
            let len = usize::from(header[1] & 0x7f);
            assert!(len < 126, "short frames only");
            let mut payload = vec![0u8; len];
            self.stream
                .read_exact(&mut payload)
                .await
                .expect("read frame");
            if header[0] & 0x0f == 0x8 {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    }
}

/// Sends a WebSocket upgrade request for `path` to `addr` and, `after` it was
/// sent, vanishes without reading a byte of the answer: a client gone before,
/// while or after `$connect` runs. To the gateway the socket is closed (a FIN);
/// the client then reads until the gateway closes its side too, so that every
/// test client is done when this returns (the gateway may still be running
/// the connection's `$connect` and `$disconnect`).
pub async fn upgrade_and_vanish(addr: SocketAddr, path: &str, after: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(upgrade_head_for(addr, path, "").as_bytes())
        .await
        .expect("write the upgrade request");
    tokio::time::sleep(after).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    assert!(
        ended.is_ok(),
        "the gateway kept a vanished client's socket open"
    );
}

/// A WebSocket upgrade request head for `/` on `addr`, with `extra` header
/// lines (each ending in CRLF) before the blank line.
pub fn upgrade_head(addr: SocketAddr, extra: &str) -> String {
    upgrade_head_for(addr, "/", extra)
}

/// A WebSocket upgrade request head for `path` on `addr`, with `extra` header
/// lines (each ending in CRLF) before the blank line.
pub fn upgrade_head_for(addr: SocketAddr, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}
