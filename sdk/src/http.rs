//! Outbound HTTP requests, through the standard `wasi:http` interface.
//!
//! The gateway sends a request only to a host the route lists in
//! `http.allowed_hosts` in `wsgate.toml`; any other fails with
//! [`HttpError::Denied`]. The route's `http.timeout` and
//! `http.max_response_bytes` apply to every request.
//!
//! ```no_run
//! use wsgate_sdk::http::Request;
//!
//! let response = Request::post("http://127.0.0.1:9000/events", r#"{"hello":1}"#)
//!     .header("content-type", "application/json")
//!     .send()?;
//! if response.status() == 200 {
//!     println!("backend said {}", response.text());
//! }
//! # Ok::<(), wsgate_sdk::http::HttpError>(())
//! ```

use std::fmt;

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme, http_error_code,
};
use crate::bindings::wasi::io::streams::StreamError;

/// The largest piece of the body written in one call.
const WRITE_CHUNK: usize = 4096;
/// The most read in one call.
const READ_CHUNK: u64 = 64 * 1024;

/// An HTTP request to send.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// A request with `method` (`GET`, `POST`, …) to `url`
    /// (`http://host[:port]/path?query` or `https://…`).
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request with `body`.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", url).body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        let target = Target::parse(&self.url)?;
        let fields: Vec<(String, Vec<u8>)> = self
            .headers
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect();
        let headers = Fields::from_list(&fields)
            .map_err(|error| HttpError::InvalidRequest(format!("bad header: {error:?}")))?;
        let request = OutgoingRequest::new(headers);
        let invalid = |what: &str| HttpError::InvalidRequest(format!("bad {what} in {}", self.url));
        request
            .set_method(&self.method)
            .map_err(|()| invalid("method"))?;
        request
            .set_scheme(Some(&target.scheme))
            .map_err(|()| invalid("scheme"))?;
        request
            .set_authority(Some(&target.authority))
            .map_err(|()| invalid("host"))?;
        request
            .set_path_with_query(Some(&target.path))
            .map_err(|()| invalid("path"))?;
        let outgoing = request.body().map_err(|()| invalid("body"))?;
        let pending = outgoing_handler::handle(request, None)
            .map_err(|code| HttpError::from_code(code, &target.authority))?;
        // A request the gateway refuses (or that fails) closes the body
        // stream; the response then says why, so it is checked first.
        let written = write_body(outgoing, &self.body);
        let response = loop {
            match pending.get() {
                Some(result) => break result,
                None => pending.subscribe().block(),
            }
        };
        let failed = |code| HttpError::from_code(code, &target.authority);
        let response = response
            .map_err(|()| HttpError::Failed("the response was already taken".into()))?
            .map_err(failed)?;
        written.map_err(failed)?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| HttpError::Failed("the response body was already taken".into()))?;
        let body = read_body(incoming).map_err(failed)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// A response: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body, taken out of the response.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The route may not call this host: it is not in `http.allowed_hosts`.
    Denied {
        /// The host (and port) that was refused.
        host: String,
    },
    /// The URL, method or a header is not valid.
    InvalidRequest(String),
    /// No connection, or no answer, within the route's `http.timeout`.
    Timeout,
    /// The response body is larger than the route's `http.max_response_bytes`.
    TooLarge,
    /// Anything else, as the gateway described it.
    Failed(String),
}

impl HttpError {
    fn from_code(code: ErrorCode, host: &str) -> Self {
        match code {
            ErrorCode::HttpRequestDenied => HttpError::Denied {
                host: host.to_owned(),
            },
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::HttpResponseTimeout => HttpError::Timeout,
            ErrorCode::HttpResponseBodySize(_) => HttpError::TooLarge,
            other => HttpError::Failed(format!("{other:?}")),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Denied { host } => write!(
                f,
                "HTTP request to {host} denied: the route's http.allowed_hosts does not list it"
            ),
            HttpError::InvalidRequest(why) => write!(f, "invalid HTTP request: {why}"),
            HttpError::Timeout => f.write_str("HTTP request timed out"),
            HttpError::TooLarge => {
                f.write_str("HTTP response body larger than the route's http.max_response_bytes")
            }
            HttpError::Failed(why) => write!(f, "HTTP request failed: {why}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// The parts of a URL a request needs.
struct Target {
    scheme: Scheme,
    authority: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, HttpError> {
        let invalid = |why: &str| HttpError::InvalidRequest(format!("{why}: {url}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("the URL needs http:// or https://"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid("the scheme must be http or https")),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty() {
            return Err(invalid("the URL has no host"));
        }
        let path = match path {
            "" => "/".to_owned(),
            query if query.starts_with('?') => format!("/{query}"),
            path => path.to_owned(),
        };
        Ok(Target {
            scheme,
            authority: authority.to_owned(),
            path,
        })
    }
}

fn write_body(outgoing: OutgoingBody, body: &[u8]) -> Result<(), ErrorCode> {
    {
        let stream = outgoing
            .write()
            .map_err(|()| ErrorCode::InternalError(Some("no body stream".into())))?;
        for chunk in body.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(stream_error)?;
        }
    }
    OutgoingBody::finish(outgoing, None)
}

fn read_body(incoming: IncomingBody) -> Result<Vec<u8>, ErrorCode> {
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| ErrorCode::InternalError(Some("no body stream".into())))?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(bytes) => body.extend_from_slice(&bytes),
                Err(StreamError::Closed) => break,
                Err(error) => return Err(stream_error(error)),
            }
        }
    }
    drop(IncomingBody::finish(incoming));
    Ok(body)
}

fn stream_error(error: StreamError) -> ErrorCode {
    match error {
        StreamError::LastOperationFailed(error) => http_error_code(&error)
            .unwrap_or_else(|| ErrorCode::InternalError(Some(error.to_debug_string()))),
        StreamError::Closed => ErrorCode::HttpProtocolError,
    }
}
