//! Why a handler or a call to the gateway failed.

use std::fmt;

use crate::bindings::wsgate::gateway::types as wit;

/// Why a handler failed an event.
///
/// Anything that converts into a `Box<dyn std::error::Error>` converts into
/// it: a `String`, a `&str`, or any error type, so `?` works on them all. The
/// gateway logs the message; a message's sender only gets a generic
/// `Internal server error` frame.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Error {
    fn from(error: E) -> Self {
        Self(error.into().to_string())
    }
}

/// Why the gateway could not send to, close or describe a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The connection does not exist or has closed.
    Gone,
    /// The message is larger than the gateway's maximum.
    PayloadTooLarge,
    /// The connection's outbound queue is full.
    Throttled,
    /// The connection's node cannot be reached now: the operation was not
    /// done and may be retried.
    Unavailable,
}

impl SendError {
    /// The WIT name: `gone`, `payload-too-large`, `throttled` or `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::PayloadTooLarge => "payload-too-large",
            Self::Throttled => "throttled",
            Self::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gone => "the connection is gone",
            Self::PayloadTooLarge => "the message is larger than the gateway's maximum",
            Self::Throttled => "the connection's outbound queue is full",
            Self::Unavailable => "the connection's node cannot be reached now",
        })
    }
}

impl std::error::Error for SendError {}

impl From<wit::SendError> for SendError {
    fn from(error: wit::SendError) -> Self {
        match error {
            wit::SendError::Gone => Self::Gone,
            wit::SendError::PayloadTooLarge => Self::PayloadTooLarge,
            wit::SendError::Throttled => Self::Throttled,
            wit::SendError::Unavailable => Self::Unavailable,
        }
    }
}
