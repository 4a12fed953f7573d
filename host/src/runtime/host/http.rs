//! `wasi:http/outgoing-handler`: a handler's outbound HTTP requests. A request
//! goes out only to a host its route's `http.allowed_hosts` lists (any other
//! fails with `HTTP-request-denied` and a warning in the log), within the
//! route's timeout, and its response body may not exceed the route's
//! `http.max_response_bytes`.
//!
//! The gateway reads the response body itself, up to that cap, before the
//! handler gets the response: a body that is too large then fails the request
//! with the typed `HTTP-response-body-size` error. (An error met while the
//! guest reads a streamed body reaches it only as an untyped I/O error in
//! wasmtime-wasi-http 48.) The buffer is bounded by the cap, and a handler
//! reads the whole body anyway.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks, default_send_request};

use crate::runtime::LogTags;
use crate::runtime::grants::RouteGrants;

/// The policy for one handler instance's requests: its current route's.
pub struct OutboundHttp {
    grants: Arc<RouteGrants>,
    tags: LogTags,
}

impl OutboundHttp {
    /// Requests under `grants`, refusals logged with `tags`.
    pub fn new(grants: Arc<RouteGrants>, tags: LogTags) -> Self {
        OutboundHttp { grants, tags }
    }

    /// Switches to another route's grants.
    pub fn set_grants(&mut self, grants: Arc<RouteGrants>) {
        self.grants = grants;
    }
}

/// What `send_request` hands back: the response and the connection's driver.
type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if !self.grants.http().allows(request.uri()) {
            let host = request.uri().authority().map_or("", |a| a.as_str());
            self.tags.warn(&format!(
                "outbound HTTP request to `{host}` denied: not in the route's http.allowed_hosts"
            ));
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let grants = Arc::clone(&self.grants);
        Box::new(send(request, options.unwrap_or_default(), grants))
    }
}

/// Sends `request` with the guest's `options` capped by the route's HTTP policy.
async fn send(
    request: http::Request<WasiBody>,
    options: RequestOptions,
    grants: Arc<RouteGrants>,
) -> SendResult {
    let policy = grants.http();
    let cap =
        |asked: Option<Duration>| Some(asked.map_or(policy.timeout, |t| t.min(policy.timeout)));
    let options = RequestOptions {
        connect_timeout: cap(options.connect_timeout),
        first_byte_timeout: cap(options.first_byte_timeout),
        between_bytes_timeout: cap(options.between_bytes_timeout),
    };
    let (response, connection) = default_send_request(request, Some(options)).await?;
    let max = policy.max_response_bytes;
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if let Some(length) = declared.filter(|&length| length > max) {
        return Err(Error::HttpResponseBodySize(Some(length)));
    }
    // The connection must be driven while the body is read here.
    let connection = tokio::spawn(connection);
    let (head, body) = response.into_parts();
    let body = Limited::new(body, usize::try_from(max).unwrap_or(usize::MAX))
        .collect()
        .await
        .map_err(|error| match error.downcast::<Error>() {
            Ok(inner) => *inner,
            Err(_) => Error::HttpResponseBodySize(None),
        })?
        .to_bytes();
    let body = Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync();
    let connection = async move {
        connection
            .await
            .map_err(|error| Error::InternalError(Some(error.to_string())))?
    };
    Ok((http::Response::from_parts(head, body), Box::new(connection)))
}
