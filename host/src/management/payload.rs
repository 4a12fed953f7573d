//! What a request body becomes: read whole up to a limit, then sent as one
//! WebSocket frame.
//!
//! A body that is valid UTF-8 goes out as a text frame, anything else as a
//! binary frame, which is what a client of AWS API Gateway receives.
//! `?frame=binary` forces a binary frame and `?frame=text` insists on text.
//! The `Content-Type` header is deliberately not used for this: several AWS
//! SDKs send `application/octet-stream` with every `PostToConnection`, and
//! their users expect text frames.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use hyper::body::Incoming;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Utf8Bytes;

use super::endpoint::Query;
use super::response::ApiError;
use crate::connection::SendError;

/// Reads the whole body; more than `limit` bytes is a 413, at once when the
/// head announces it (`Content-Length`), without reading a byte of it.
pub async fn read(body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(SendError::PayloadTooLarge.into());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(SendError::PayloadTooLarge.into())
        }
        Err(error) => Err(ApiError::bad_request(format!(
            "the request body could not be read: {error}"
        ))),
    }
}

/// The frame `body` is sent as, following `?frame=`.
pub fn frame(body: Bytes, query: &Query) -> Result<Message, ApiError> {
    match query.get("frame") {
        Some("binary") => Ok(Message::Binary(body)),
        Some("text") => Utf8Bytes::try_from(body)
            .map(Message::Text)
            .map_err(|_| ApiError::bad_request("frame=text, but the body is not UTF-8")),
        None => Ok(match Utf8Bytes::try_from(body.clone()) {
            Ok(text) => Message::Text(text),
            Err(_) => Message::Binary(body),
        }),
        Some(other) => Err(ApiError::bad_request(format!(
            "frame must be text or binary, not `{other}`"
        ))),
    }
}
