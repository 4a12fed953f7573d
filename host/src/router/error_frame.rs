//! The error frames a client receives when its message could not be handled,
//! shaped like AWS API Gateway's so existing clients understand them.

use tokio_tungstenite::tungstenite::Message;

/// Why a message got an error frame instead of a route response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFrame {
    /// No route matched and there is no `$default`.
    Forbidden,
    /// The handler trapped or returned an error.
    InternalServerError,
    /// The connection or the route is over its rate limit.
    TooManyRequests,
}

impl ErrorFrame {
    /// The frame, e.g. `{"message":"Forbidden","connectionId":"…","requestId":"…"}`.
    pub fn to_message(self, connection_id: &str, request_id: &str) -> Message {
        let message = match self {
            ErrorFrame::Forbidden => "Forbidden",
            ErrorFrame::InternalServerError => "Internal server error",
            ErrorFrame::TooManyRequests => "Too many requests",
        };
        let body = serde_json::json!({
            "message": message,
            "connectionId": connection_id,
            "requestId": request_id,
        });
        Message::Text(body.to_string().into())
    }
}
