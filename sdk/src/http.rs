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

use crate::bindings::wasi::http::types::Scheme;
use crate::host::http as host;

/// An HTTP request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// In upper case.
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// A request with `method` (`GET`, `POST`, …) to `url`
    /// (`http://host[:port]/path?query` or `https://…`).
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Request {
            method: method.to_ascii_uppercase(),
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
        host::send(self)
    }
}

/// A response: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A response with `status`, no headers and an empty body: what a unit
    /// test's fake backend answers (`testing::Gateway::respond_http`).
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

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

/// The parts of `url` a request needs: its scheme, its authority
/// (`host[:port]`) and its path with the query; a URL no request can be sent
/// to is an [`HttpError::InvalidRequest`].
pub(crate) fn split_url(url: &str) -> Result<(Scheme, &str, String), HttpError> {
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
    Ok((scheme, authority, path))
}
