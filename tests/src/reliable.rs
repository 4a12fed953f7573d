//! [`ReliableClient`], a client of the reliable subprotocol
//! (`wsgate.reliable.v1`): it offers the subprotocol, reads the session
//! frame, unwraps the numbered frames (asserting each comes right after the
//! last, so a gap or a duplicate fails the test), acknowledges and resumes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, http::HeaderValue};

use crate::Client;

/// The subprotocol a client offers to opt in.
pub const RELIABLE: &str = "wsgate.reliable.v1";

/// A client on the reliable subprotocol.
pub struct ReliableClient {
    /// The underlying client (to send application frames on).
    pub client: Client,
    /// The connection id the session frame named.
    pub connection_id: String,
    /// The resume token the session frame carried.
    pub token: String,
    /// Whether the session frame said the connection was resumed.
    pub resumed: bool,
    last_seq: u64,
}

/// A frame the gateway sent, unwrapped.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl ReliableClient {
    /// Connects to `url` offering the subprotocol, and reads the session frame.
    pub async fn connect(url: &str) -> ReliableClient {
        Self::open(url, 0).await
    }

    /// Resumes with `token` after frame `last_seq` (`url` may carry a query).
    pub async fn resume(url: &str, token: &str, last_seq: u64) -> ReliableClient {
        let separator = if url.contains('?') { '&' } else { '?' };
        Self::open(
            &format!("{url}{separator}resume={token}&lastSeq={last_seq}"),
            last_seq,
        )
        .await
    }

    /// Resumes like [`ReliableClient::resume`]; the error if the handshake fails.
    pub async fn try_resume(
        url: &str,
        token: &str,
        last_seq: u64,
    ) -> Result<ReliableClient, tungstenite::Error> {
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}resume={token}&lastSeq={last_seq}");
        Self::try_open(&url, last_seq).await
    }

    async fn open(url: &str, last_seq: u64) -> ReliableClient {
        Self::try_open(url, last_seq)
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    }

    async fn try_open(url: &str, last_seq: u64) -> Result<ReliableClient, tungstenite::Error> {
        let mut request = url.into_client_request().expect("a valid URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&format!("chat.v2, {RELIABLE}")).expect("a header value"),
        );
        let mut client = Client::try_connect(request).await?;
        let session = client.recv_json().await;
        assert_eq!(session["type"], "session", "the first frame: {session}");
        let resumed = session["resumed"].as_bool().expect("resumed is a boolean");
        Ok(ReliableClient {
            client,
            connection_id: text(&session, "connectionId"),
            token: text(&session, "resumeToken"),
            resumed,
            // A connection not resumed starts over.
            last_seq: if resumed { last_seq } else { 0 },
        })
    }

    /// The number of the last frame received.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The next frame, which must be numbered one after the last; none once
    /// the socket has ended (to resume with [`Self::token`] and
    /// [`Self::last_seq`]).
    pub async fn next(&mut self) -> Option<Frame> {
        let message = self.client.next_message().await?;
        let text = message.into_text().expect("the gateway sends text frames");
        let frame: Value = serde_json::from_str(text.as_str()).expect("a JSON frame");
        Some(self.unwrap(frame))
    }

    /// The next frame, which must be numbered one after the last.
    pub async fn recv(&mut self) -> Frame {
        let frame = self.client.recv_json().await;
        self.unwrap(frame)
    }

    /// The payload of a numbered frame, which must come one after the last.
    fn unwrap(&mut self, frame: Value) -> Frame {
        assert_eq!(frame["type"], "message", "a numbered frame: {frame}");
        let seq = frame["seq"].as_u64().expect("seq is a number");
        assert_eq!(
            seq,
            self.last_seq + 1,
            "frames come in order, once: {frame}"
        );
        self.last_seq = seq;
        match (frame["data"].as_str(), frame["binary"].as_str()) {
            (Some(data), None) => Frame::Text(data.to_owned()),
            (None, Some(binary)) => Frame::Binary(STANDARD.decode(binary).expect("base64")),
            _ => panic!("a frame has data or binary: {frame}"),
        }
    }

    /// The next frame, which must be text.
    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Frame::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

    /// The next frame, which must be JSON text.
    pub async fn recv_json(&mut self) -> Value {
        let text = self.recv_text().await;
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("expected JSON, got {text}"))
    }

    /// Acknowledges every frame received so far.
    pub async fn ack(&mut self) {
        let ack = json!({"type": "ack", "seq": self.last_seq});
        self.client.send_json(ack).await;
    }

    /// Drops the TCP connection without a close frame; the token and the
    /// last frame received, to resume with.
    pub fn drop_connection(self) -> (String, u64) {
        self.client.drop_connection();
        (self.token, self.last_seq)
    }
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {value}"))
        .to_owned()
}
