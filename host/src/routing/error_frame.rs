//! The error frames a client receives when its message could not be handled,
//! shaped like AWS API Gateway's so existing clients understand them.

use tokio_tungstenite::tungstenite::Message;

/// Why a message got an error frame instead of a route response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorFrame {
    /// No route matched and there is no `$default`.
    Forbidden,
    /// The handler trapped or returned an internal error.
    InternalServerError,
    /// The handler refused the message (a 0.2.0 `handler-error` other than
    /// `internal`); its text is the frame's message.
    Refused(String),
    /// The connection or the route is over its rate limit.
    TooManyRequests,
    /// The route response is larger than the maximum message size, in bytes.
    ResponseTooLarge(usize),
}

impl ErrorFrame {
    /// The frame, e.g. `{"message":"Forbidden","connectionId":"…","requestId":"…"}`.
    pub fn to_message(self, connection_id: &str, request_id: &str) -> Message {
        let message: std::borrow::Cow<'static, str> = match self {
            ErrorFrame::Forbidden => "Forbidden".into(),
            ErrorFrame::InternalServerError => "Internal server error".into(),
            ErrorFrame::Refused(message) => message.into(),
            ErrorFrame::TooManyRequests => "Too many requests".into(),
            ErrorFrame::ResponseTooLarge(limit) => std::borrow::Cow::Owned(format!(
                "Response too large: the route response is over the maximum message size of {limit} bytes"
            )),
        };
        let body = serde_json::json!({
            "message": message,
            "connectionId": connection_id,
            "requestId": request_id,
        });
        Message::Text(body.to_string().into())
    }
}
