//! The management API's responses: JSON or empty successes, and errors shaped
//! like AWS's (`x-amzn-ErrorType` header, `{"message": …}` body) so that the
//! AWS SDKs raise their typed exceptions.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::connection::SendError;
use crate::registry::Page;

/// A management API response.
pub type ApiResponse = Response<Full<Bytes>>;

/// The header AWS SDKs read an error's type from.
const ERROR_TYPE: &str = "x-amzn-ErrorType";

/// Why a management request failed: an HTTP status, the AWS error type and a
/// message for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {error_type}: {message}")]
pub struct ApiError {
    status: StatusCode,
    error_type: &'static str,
    message: String,
    allow: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type,
            message: message.into(),
            allow: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestException", message)
    }

    /// 401: no credentials were presented.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedException", message)
    }

    /// 403: the credentials presented are not valid.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "ForbiddenException", message)
    }

    /// 429: a limit of the management listener is reached; retry later.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "LimitExceededException",
            message,
        )
    }

    /// 404: no endpoint has this path.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundException", message)
    }

    /// 405: the endpoint exists but does not take this method; `allow` lists
    /// the methods it takes.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowedException",
                format!("this endpoint takes {allow}"),
            )
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The AWS error type, e.g. `GoneException`.
    pub fn error_type(&self) -> &'static str {
        self.error_type
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error as an HTTP response.
    pub fn into_response(self) -> ApiResponse {
        let body = serde_json::json!({ "message": self.message });
        let mut response = json(self.status, &body);
        let headers = response.headers_mut();
        headers.insert(ERROR_TYPE, HeaderValue::from_static(self.error_type));
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wsgate\""),
            );
        }
        response
    }
}

/// The one place where a failed send, close or lookup becomes an HTTP status
/// and an AWS error type.
impl From<SendError> for ApiError {
    fn from(error: SendError) -> Self {
        let (status, error_type) = match error {
            SendError::Gone => (StatusCode::GONE, "GoneException"),
            SendError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException")
            }
            SendError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "LimitExceededException"),
            SendError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
            ),
        };
        Self::new(status, error_type, error.to_string())
    }
}

/// A JSON response.
pub fn json(status: StatusCode, body: &serde_json::Value) -> ApiResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a JSON response is valid")
}

/// A page of a listing: `{"connectionIds": […], "nextCursor": "…" | null}`.
pub fn page(page: Page) -> ApiResponse {
    let ids: Vec<&str> = page.ids.iter().map(|id| id.as_str()).collect();
    let body = serde_json::json!({ "connectionIds": ids, "nextCursor": page.next_cursor });
    json(StatusCode::OK, &body)
}

/// A response with no body: 200 after a send, 204 after a close or a
/// membership change.
pub fn empty(status: StatusCode) -> ApiResponse {
    Response::builder()
        .status(status)
        .body(Full::default())
        .expect("an empty response is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_errors_map_to_the_statuses_and_types_aws_sdks_expect() {
        for (error, status, error_type) in [
            (SendError::Gone, 410, "GoneException"),
            (SendError::PayloadTooLarge, 413, "PayloadTooLargeException"),
            (SendError::Throttled, 429, "LimitExceededException"),
            (SendError::Unavailable, 503, "ServiceUnavailableException"),
        ] {
            let response = ApiError::from(error).into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[ERROR_TYPE], error_type);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        }
    }
}
