//! Messages, in both directions.

use crate::bindings::wsgate::gateway::types as wit;

/// A WebSocket message: a text frame or a binary frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Payload {
    /// The text of a text frame; `None` for a binary frame.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Binary(_) => None,
        }
    }

    /// The bytes of either kind of frame (a text frame's are UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}

impl From<wit::Payload> for Payload {
    fn from(payload: wit::Payload) -> Self {
        match payload {
            wit::Payload::Text(text) => Self::Text(text),
            wit::Payload::Binary(bytes) => Self::Binary(bytes),
        }
    }
}

impl From<Payload> for wit::Payload {
    fn from(payload: Payload) -> Self {
        match payload {
            Payload::Text(text) => Self::Text(text),
            Payload::Binary(bytes) => Self::Binary(bytes),
        }
    }
}
