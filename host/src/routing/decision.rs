//! What `$connect` decides about an upgrade, and the response headers a
//! handler may add to either answer.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::connection::{Connection, Fields};
use crate::event::{Payload, Response};
use crate::observability::access_log::{EventRecord, Outcome};
use crate::runtime::{Failure, FailureKind, Plugin};

/// What `$connect` decided.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnectDecision {
    /// Answer the upgrade with 101.
    Accept {
        /// The subprotocol to confirm, one the client offered.
        subprotocol: Option<String>,
        /// The connection context for later events.
        context: Fields,
        /// Extra headers for the 101 (e.g. `Set-Cookie`).
        headers: HeaderMap,
    },
    /// Answer the upgrade with this status, headers and body.
    Reject {
        /// An HTTP status other than 2xx.
        status: u16,
        /// Response headers (e.g. `WWW-Authenticate`, `Retry-After`).
        headers: HeaderMap,
        /// The response body.
        body: Bytes,
    },
}

impl ConnectDecision {
    /// Accepts with no subprotocol, no context and no extra headers.
    pub fn accept() -> Self {
        ConnectDecision::Accept {
            subprotocol: None,
            context: Fields::new(),
            headers: HeaderMap::new(),
        }
    }

    /// The length of the answer's body: 0 for a 101.
    pub fn body_len(&self) -> usize {
        match self {
            ConnectDecision::Accept { .. } => 0,
            ConnectDecision::Reject { body, .. } => body.len(),
        }
    }

    /// 500 `Internal server error`: the handler failed or answered something
    /// the gateway cannot use.
    pub fn internal_error() -> Self {
        ConnectDecision::Reject {
            status: 500,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"Internal server error"),
        }
    }

    /// What a handler's error means for the upgrade: its status, and its
    /// text as the body unless the error is internal.
    pub fn failed(failure: &Failure) -> Self {
        match failure.kind {
            FailureKind::Internal => ConnectDecision::internal_error(),
            kind => ConnectDecision::Reject {
                status: kind.status(),
                headers: HeaderMap::new(),
                body: Bytes::from(failure.message.clone()),
            },
        }
    }
}

/// A handler's response headers as a header map, or what is wrong with them:
/// a name or value HTTP does not allow, or a header of the handshake itself,
/// which only the gateway sets.
pub fn response_headers(fields: &Fields) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (name, value) in fields {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        if is_handshake_header(&name) {
            return Err(format!("`{name}` is set by the gateway, not by a handler"));
        }
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| format!("the value of `{name}` is not a valid header value"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The headers the WebSocket handshake and the HTTP framing are made of.
fn is_handshake_header(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::UPGRADE,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
        || name.as_str().starts_with("sec-websocket-")
}

/// What `$connect`'s response means for the upgrade; one the gateway cannot
/// use is logged, recorded as invalid and answered with a 500.
pub(super) fn decide(
    connection: &Connection,
    plugin: &Plugin,
    response: Response,
    offered: &[String],
    record: &mut EventRecord<'_>,
) -> ConnectDecision {
    record.outcome = Outcome::Status(response.status);
    let headers = match response_headers(&response.headers) {
        Ok(headers) => headers,
        Err(problem) => {
            tracing::error!(connection = %connection.id(), plugin = plugin.name(), %problem, "$connect set a response header it may not");
            record.outcome = Outcome::Invalid("$connect set a response header it may not");
            return ConnectDecision::internal_error();
        }
    };
    match response.status {
        200..=299 => match response.subprotocol {
            Some(chosen) if !offered.contains(&chosen) => {
                let problem = "$connect chose a subprotocol the client did not offer";
                tracing::error!(connection = %connection.id(), plugin = plugin.name(), %chosen, ?offered, "{problem}");
                record.outcome = Outcome::Invalid(problem);
                ConnectDecision::internal_error()
            }
            subprotocol => ConnectDecision::Accept {
                subprotocol,
                context: response.context,
                headers,
            },
        },
        status @ 300..=599 => ConnectDecision::Reject {
            status,
            headers,
            body: match response.body {
                Some(Payload::Text(text)) => text.into(),
                Some(Payload::Binary(bytes)) => bytes,
                None => Bytes::new(),
            },
        },
        status => {
            let problem = "$connect returned a status that is neither 2xx nor an HTTP error";
            tracing::error!(connection = %connection.id(), plugin = plugin.name(), status, "{problem}");
            record.outcome = Outcome::Invalid(problem);
            ConnectDecision::internal_error()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn headers_a_handler_may_set_are_kept_in_order_repeats_included() {
        let headers = response_headers(&fields(&[
            ("WWW-Authenticate", "Bearer realm=\"chat\""),
            ("set-cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ]))
        .expect("allowed");
        assert_eq!(headers["www-authenticate"], "Bearer realm=\"chat\"");
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn handshake_and_framing_headers_and_malformed_ones_are_refused() {
        for name in [
            "Connection",
            "upgrade",
            "Sec-WebSocket-Accept",
            "sec-websocket-protocol",
            "Content-Length",
            "transfer-encoding",
        ] {
            let refused = response_headers(&fields(&[(name, "x")])).unwrap_err();
            assert!(refused.contains("set by the gateway"), "{name}: {refused}");
        }
        let bad_name = response_headers(&fields(&[("bad name", "x")])).unwrap_err();
        assert!(bad_name.contains("not a valid header name"), "{bad_name}");
        let bad_value = response_headers(&fields(&[("x-a", "line\r\nbreak")])).unwrap_err();
        assert!(
            bad_value.contains("not a valid header value"),
            "{bad_value}"
        );
    }

    #[test]
    fn each_kind_of_handler_error_rejects_with_its_status_and_only_internal_hides_its_text() {
        for (kind, status) in [
            (FailureKind::BadRequest, 400),
            (FailureKind::Forbidden, 403),
            (FailureKind::TooManyRequests, 429),
            (FailureKind::Unavailable, 503),
            (FailureKind::Internal, 500),
        ] {
            let failure = Failure {
                kind,
                message: "secret detail".to_owned(),
            };
            let ConnectDecision::Reject {
                status: answered,
                body,
                ..
            } = ConnectDecision::failed(&failure)
            else {
                panic!("{kind:?} must reject");
            };
            assert_eq!(answered, status, "{kind:?}");
            let body = std::str::from_utf8(&body).expect("text");
            match kind {
                FailureKind::Internal => assert_eq!(body, "Internal server error"),
                _ => assert_eq!(body, "secret detail"),
            }
        }
    }
}
