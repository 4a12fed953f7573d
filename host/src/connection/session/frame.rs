//! The reliable subprotocol's frames on the wire: the session frame, the
//! numbered wrapping of what the gateway sends, and the client's
//! acknowledgements (docs/reliable.md).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use crate::connection::ConnectionId;

/// A frame the client sends that is about the session rather than the application.
#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    seq: u64,
}

/// The frame that opens every socket of a session.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Greeting<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    connection_id: &'a str,
    resume_token: &'a str,
    resumed: bool,
}

/// A frame sent to the client, wrapped with its sequence number.
#[derive(Serialize)]
struct Wrapped<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
}

/// The session frame: the connection's id and resume token, and whether this
/// socket resumed it.
pub(super) fn greeting(id: &ConnectionId, token: &str, resumed: bool) -> Message {
    let greeting = Greeting {
        kind: "session",
        connection_id: id.as_str(),
        resume_token: token,
        resumed,
    };
    Message::text(serde_json::to_string(&greeting).expect("a greeting serializes"))
}

/// `message` as the numbered frame the client receives; `None` for control frames.
pub(super) fn wrap(seq: u64, message: &Message) -> Option<Message> {
    let wrapped = match message {
        Message::Text(text) => Wrapped {
            kind: "message",
            seq,
            data: Some(text.as_str()),
            binary: None,
        },
        Message::Binary(bytes) => Wrapped {
            kind: "message",
            seq,
            data: None,
            binary: Some(STANDARD.encode(bytes)),
        },
        _ => return None,
    };
    Some(Message::text(
        serde_json::to_string(&wrapped).expect("a frame serializes"),
    ))
}

/// The longest text taken for an acknowledgement: room for whitespace around
/// the 42 bytes of `{"type":"ack","seq":18446744073709551615}`; a longer text
/// goes to the application.
const MAX_ACK: usize = 256;

/// The sequence number a client acknowledges with `text`, if `text` is an ack
/// frame (`{"type":"ack","seq":N}`) rather than a message for the application.
pub fn acknowledged(text: &str) -> Option<u64> {
    // Most messages are not acks: parse only what can be one, and never scan
    // a long message (an ack with the largest seq is 42 bytes).
    if text.len() > MAX_ACK || !text.trim_start().starts_with('{') || !text.contains("\"ack\"") {
        return None;
    }
    let frame: ClientFrame = serde_json::from_str(text).ok()?;
    (frame.kind == "ack").then_some(frame.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ack_frames_are_acknowledgements() {
        assert_eq!(acknowledged(r#"{"type":"ack","seq":7}"#), Some(7));
        assert_eq!(acknowledged(r#" {"seq":7,"type":"ack"}"#), Some(7));
        assert_eq!(acknowledged(r#"{"action":"ack","seq":7}"#), None);
        assert_eq!(acknowledged(r#"{"type":"ack"}"#), None);
        assert_eq!(acknowledged("ack"), None);
        let padded = format!(r#"{{"type":"ack",{}"seq":7}}"#, " ".repeat(MAX_ACK));
        assert_eq!(
            acknowledged(&padded),
            None,
            "a long text is the application's"
        );
    }
}
