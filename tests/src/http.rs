//! A minimal HTTP/1.1 client over a raw socket, for the listeners' plain HTTP
//! endpoints: it sends exactly the bytes a test asks for (malformed paths
//! included) and reads the whole response; [`Connection`] keeps one socket
//! open across requests.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::WAIT;

/// A response: status, headers (names in lower case) and body.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("expected a JSON body, got {self:?}"))
    }

    /// Asserts an AWS-style error: the status, `x-amzn-ErrorType` and a JSON
    /// body with a message.
    pub fn assert_error(&self, status: u16, error_type: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("x-amzn-errortype"),
            Some(error_type),
            "{self:?}"
        );
        assert!(self.json()["message"].is_string(), "{}", self.text());
    }
}

/// Sends one request with `Connection: close` and reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    parse(&exchange(addr, &bytes).await)
}

/// Sends a raw HTTP/1.1 `GET` and returns the whole response text.
pub async fn http_get(addr: SocketAddr, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    String::from_utf8_lossy(&exchange(addr, request.as_bytes()).await).into_owned()
}

/// Writes `request` and reads until the server closes the connection.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write request");
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("no HTTP response in time")
        .expect("read response");
    response
}

/// One HTTP/1.1 connection kept open, for what a one-shot request cannot
/// show: keep-alive, a head sent without its body, the server closing first.
pub struct Connection {
    stream: TcpStream,
    /// What was read past the last response.
    unread: Vec<u8>,
}

impl Connection {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Connection {
        Connection {
            stream: TcpStream::connect(addr).await.expect("connect"),
            unread: Vec::new(),
        }
    }

    /// Writes `bytes` as they are; false if the server has closed the connection.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// Reads one response: its head, then the `Content-Length` bytes of its body.
    pub async fn response(&mut self) -> HttpResponse {
        tokio::time::timeout(WAIT, self.read_response())
            .await
            .expect("no HTTP response in time")
    }

    async fn read_response(&mut self) -> HttpResponse {
        let head_end = loop {
            if let Some(at) = self.unread.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(
                self.read_more().await,
                "the connection closed before a response"
            );
        };
        let length = parse(&self.unread[..head_end])
            .header("content-length")
            .map_or(0, |length| {
                length.parse().expect("a numeric content-length")
            });
        while self.unread.len() < head_end + length {
            assert!(
                self.read_more().await,
                "the connection closed within a body"
            );
        }
        let response = parse(&self.unread[..head_end + length]);
        self.unread.drain(..head_end + length);
        response
    }

    /// Waits, at most [`WAIT`], until the server closes the connection
    /// (a reset counts); the status of what it answered meanwhile, if anything.
    pub async fn closed(&mut self) -> Option<u16> {
        tokio::time::timeout(WAIT, async { while self.read_more().await {} })
            .await
            .expect("the server did not close the connection in time");
        let answered = std::mem::take(&mut self.unread);
        (!answered.is_empty()).then(|| parse(&answered).status)
    }

    /// Reads what is there; false at the end of the stream or on a reset.
    async fn read_more(&mut self) -> bool {
        let mut buffer = [0u8; 4096];
        match self.stream.read(&mut buffer).await {
            Ok(0) | Err(_) => false,
            Ok(read) => {
                self.unread.extend_from_slice(&buffer[..read]);
                true
            }
        }
    }
}

fn parse(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no complete HTTP head in {:?}",
                String::from_utf8_lossy(raw)
            )
        });
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}
