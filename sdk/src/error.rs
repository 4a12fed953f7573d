//! Why a handler or a call to the gateway failed.

use std::fmt;

use crate::bindings::wsgate::gateway::types as wit;

/// Why a handler failed an event, and what the client is told.
///
/// Each kind has one meaning wherever it is returned:
///
/// | kind | after a message | from `$connect` |
/// |---|---|---|
/// | [`bad_request`](Self::bad_request) | error frame with the text | 400, the text as body |
/// | [`forbidden`](Self::forbidden) | error frame with the text | 403, the text as body |
/// | [`too_many_requests`](Self::too_many_requests) | error frame with the text | 429, the text as body |
/// | [`unavailable`](Self::unavailable) | error frame with the text | 503, the text as body |
/// | [`internal`](Self::internal) | `Internal server error` frame; the text is only logged | 500, `Internal server error` |
///
/// After `$disconnect` every kind is only logged and counted. The text of the
/// first four reaches the client, so choose what it reveals.
///
/// Anything that converts into a `Box<dyn std::error::Error>` converts into
/// an `internal` error: a `String`, a `&str`, or any error type, so `?` works
/// on them all. A [`SendError::Unavailable`] converts into `unavailable`
/// instead (the gateway could not reach the connection's node; the client may
/// retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The kinds of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The client's request is malformed (400).
    BadRequest,
    /// The client may not do this (403).
    Forbidden,
    /// The client asks too often (429).
    TooManyRequests,
    /// Something the handler needs is down; a retry may succeed (503).
    Unavailable,
    /// The handler's own failure (500); its text is only logged.
    Internal,
}

impl ErrorKind {
    /// The HTTP status a `$connect` failing with this kind answers.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Forbidden => 403,
            Self::TooManyRequests => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

impl Error {
    /// The client's request is malformed: a message's sender gets `message`
    /// in its error frame, a `$connect` a 400 with `message` as body.
    pub fn bad_request(message: impl ToString) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// The client may not do this (403 for a `$connect`).
    pub fn forbidden(message: impl ToString) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// The client asks too often (429 for a `$connect`).
    pub fn too_many_requests(message: impl ToString) -> Self {
        Self::new(ErrorKind::TooManyRequests, message)
    }

    /// Something the handler needs is down and a retry may succeed (503 for a
    /// `$connect`).
    pub fn unavailable(message: impl ToString) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The handler's own failure: the client gets `Internal server error`,
    /// the gateway logs `message`.
    pub fn internal(message: impl ToString) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    fn new(kind: ErrorKind, message: impl ToString) -> Self {
        Self {
            kind,
            message: message.to_string(),
        }
    }

    /// Which kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The error's text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Error {
    fn from(error: E) -> Self {
        // `SendError` converts through this impl too (a second `From` would
        // overlap it), so its one retryable case is told apart here.
        match error.into().downcast::<SendError>() {
            Ok(send) if *send == SendError::Unavailable => Self::unavailable(send),
            Ok(send) => Self::internal(send),
            Err(other) => Self::internal(other),
        }
    }
}

impl From<Error> for wit::HandlerError {
    fn from(error: Error) -> Self {
        let Error { kind, message } = error;
        match kind {
            ErrorKind::BadRequest => Self::BadRequest(message),
            ErrorKind::Forbidden => Self::Forbidden(message),
            ErrorKind::TooManyRequests => Self::TooManyRequests(message),
            ErrorKind::Unavailable => Self::Unavailable(message),
            ErrorKind::Internal => Self::Internal(message),
        }
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
