//! [`Client`], a WebSocket client (over TCP or TLS) whose every wait is
//! bounded, and [`Recording`], what one saw over a stretch of time.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::WAIT;

/// A byte stream a client can run over: TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A WebSocket client whose every wait is bounded.
pub struct Client {
    ws: WebSocketStream<Box<dyn Io>>,
    /// The response headers of the handshake.
    pub response: tungstenite::handshake::client::Response,
}

impl Client {
    /// Connects, panicking if the gateway refuses.
    pub async fn connect(url: &str) -> Client {
        Self::try_connect(url.into_client_request().unwrap())
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    }

    /// Connects with a prepared request (headers, subprotocols).
    pub async fn try_connect(
        request: tungstenite::handshake::client::Request,
    ) -> Result<Client, tungstenite::Error> {
        let tcp = TcpStream::connect(authority(&request)).await?;
        Self::handshake(request, Box::new(tcp)).await
    }

    /// Connects with `request` expecting the gateway to refuse the upgrade:
    /// the HTTP status and body it answered instead.
    pub async fn refused(request: tungstenite::handshake::client::Request) -> (u16, String) {
        match Self::try_connect(request).await {
            Err(tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                (
                    response.status().as_u16(),
                    String::from_utf8_lossy(body).into_owned(),
                )
            }
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the connection was accepted"),
        }
    }

    /// Connects over TLS (wss), trusting only `root` (a DER certificate).
    pub async fn connect_tls(url: &str, root: &[u8]) -> Result<Client, tungstenite::Error> {
        use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types};
        let request = url.into_client_request()?;
        let mut roots = RootCertStore::empty();
        roots
            .add(pki_types::CertificateDer::from(root.to_vec()))
            .expect("a valid root certificate");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = request.uri().host().unwrap_or("localhost").to_owned();
        let tcp = TcpStream::connect(authority(&request)).await?;
        let name = pki_types::ServerName::try_from(host).expect("a valid server name");
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        Self::handshake(request, Box::new(tls)).await
    }

    async fn handshake(
        request: tungstenite::handshake::client::Request,
        stream: Box<dyn Io>,
    ) -> Result<Client, tungstenite::Error> {
        let handshake = tokio_tungstenite::client_async(request, stream);
        let (ws, response) = tokio::time::timeout(WAIT, handshake)
            .await
            .expect("the handshake timed out")?;
        Ok(Client { ws, response })
    }

    /// The client's connection id, asked of the probe's `whoami` route.
    pub async fn whoami_id(&mut self) -> String {
        self.send_json(serde_json::json!({"action": "whoami"}))
            .await;
        let context = self.recv_json().await;
        context["connectionId"]
            .as_str()
            .expect("whoami answers a connectionId")
            .to_owned()
    }

    /// As an observer of the probe plugin (`?observe=1`): its next disconnect
    /// report, which must be about `id`; then checks no second one follows.
    pub async fn disconnect_report(&mut self, id: &str) -> serde_json::Value {
        let report = self.recv_json().await;
        assert_eq!(report["event"], "disconnect");
        assert_eq!(report["connectionId"], id, "{report}");
        self.expect_silence(Duration::from_millis(500)).await;
        report
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send text");
    }

    /// Sends `text` as one message in frames of at most `frame` bytes: the
    /// first a text frame, the rest continuations.
    pub async fn send_text_in_frames(&mut self, text: &str, frame: usize) {
        use tungstenite::protocol::frame::{
            Frame,
            coding::{Data, OpCode},
        };
        let pieces: Vec<&[u8]> = text.as_bytes().chunks(frame).collect();
        for (n, piece) in pieces.iter().enumerate() {
            let opcode = OpCode::Data(if n == 0 { Data::Text } else { Data::Continue });
            let frame = Frame::message(piece.to_vec(), opcode, n + 1 == pieces.len());
            self.ws
                .send(Message::Frame(frame))
                .await
                .expect("send a frame");
        }
    }

    /// Sends a text frame; false if the connection is gone.
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.ws.send(Message::text(text)).await.is_ok()
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: serde_json::Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("send binary");
    }

    /// The next text or binary message (pings and pongs are skipped); none
    /// once the connection has ended (a close frame, a failure, its end).
    pub async fn next_message(&mut self) -> Option<Message> {
        match self.next_frame().await {
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => None,
            Some(Ok(message)) => Some(message),
        }
    }

    /// What comes next but pings and pongs, within [`WAIT`].
    async fn next_frame(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no message arrived in time");
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    }

    /// The next text or binary message (pings and pongs are skipped).
    pub async fn recv(&mut self) -> Message {
        match self.next_frame().await {
            Some(Ok(message)) => message,
            Some(Err(error)) => panic!("connection failed while waiting for a message: {error}"),
            None => panic!("connection ended while waiting for a message"),
        }
    }

    /// The next message, which must be text.
    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Message::Text(text) => text.as_str().to_owned(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message, which must be JSON text.
    pub async fn recv_json(&mut self) -> serde_json::Value {
        let text = self.recv_text().await;
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("expected JSON, got {text}"))
    }

    /// Asserts nothing but pings arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Waits at most `within` for the gateway's next ping and returns its
    /// payload; the client library answers it with a pong as it reads on.
    pub async fn recv_ping(&mut self, within: Duration) -> Vec<u8> {
        let ping = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Ping(payload))) => return payload.to_vec(),
                    Some(Ok(Message::Pong(_))) => continue,
                    other => panic!("expected a ping, got {other:?}"),
                }
            }
        };
        tokio::time::timeout(within, ping)
            .await
            .unwrap_or_else(|_| panic!("no ping from the gateway within {within:?}"))
    }

    /// Waits for the server's close frame and the end of the connection.
    pub async fn recv_close(&mut self) -> Option<CloseFrame> {
        let mut frame = None;
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the connection was not closed in time");
            match next {
                Some(Ok(Message::Close(close))) => frame = close,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return frame,
            }
        }
    }

    /// Records the text messages that arrive, with when each did, until the
    /// connection ends, `marker` (if any) arrives or `deadline` has passed,
    /// whichever comes first.
    pub async fn record(mut self, marker: Option<&str>, deadline: Duration) -> Recording {
        let until = tokio::time::Instant::now() + deadline;
        let mut recording = Recording::default();
        loop {
            match tokio::time::timeout_at(until, self.ws.next()).await {
                Err(_) => return recording,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let done = marker == Some(text.as_str());
                    recording
                        .texts
                        .push((text.as_str().to_owned(), std::time::Instant::now()));
                    if done {
                        return recording;
                    }
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    recording.closed = Some((frame, std::time::Instant::now()));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => {
                    recording
                        .closed
                        .get_or_insert_with(|| (None, std::time::Instant::now()));
                    return recording;
                }
            }
        }
    }

    /// Closes from the client side with `code` and `reason`.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        self.ws.close(Some(frame)).await.expect("send close");
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

/// What [`Client::record`] saw.
#[derive(Debug, Default)]
pub struct Recording {
    /// The text messages, in order, with when each arrived.
    pub texts: Vec<(String, std::time::Instant)>,
    /// The close frame (if one came) and when the connection ended, if it did.
    pub closed: Option<(Option<CloseFrame>, std::time::Instant)>,
}

impl Recording {
    /// When `text` arrived, if it did.
    pub fn arrival(&self, text: &str) -> Option<std::time::Instant> {
        self.texts
            .iter()
            .find(|(received, _)| received == text)
            .map(|(_, at)| *at)
    }

    /// The close code the server sent, if it sent one.
    pub fn close_code(&self) -> Option<u16> {
        let (frame, _) = self.closed.as_ref()?;
        frame.as_ref().map(|frame| u16::from(frame.code))
    }
}

fn authority(request: &tungstenite::handshake::client::Request) -> String {
    let uri = request.uri();
    format!(
        "{}:{}",
        uri.host().unwrap_or("127.0.0.1"),
        uri.port_u16().unwrap_or(80)
    )
}
