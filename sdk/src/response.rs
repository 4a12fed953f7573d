//! A `$connect` handler's answer.

use crate::Error;
use crate::bindings::wsgate::gateway::types as wit;

/// Accepts a `$connect`: the upgrade completes.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Accept {
    subprotocol: Option<String>,
    context: Vec<(String, String)>,
}

impl Accept {
    /// Accepts with no subprotocol and an empty connection context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses the subprotocol to answer with; it must be one the client
    /// offered ([`ConnectRequest::subprotocols`](crate::ConnectRequest::subprotocols)).
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocol = Some(name.into());
        self
    }

    /// Adds a key/value pair to the connection context, which every later
    /// event of the connection carries ([`RequestContext::get`](crate::RequestContext::get)).
    pub fn context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }
}

impl From<Accept> for wit::Response {
    fn from(accept: Accept) -> Self {
        Self {
            status: 200,
            body: None,
            subprotocol: accept.subprotocol,
            context: accept.context,
        }
    }
}

/// Refuses a `$connect`: the client gets an HTTP error instead of a WebSocket.
///
/// Any [`Error`] converts into a `Reject`, so `?` works in `on_connect`; the
/// gateway then logs the error and answers 500.
#[derive(Debug)]
pub struct Reject(Refusal);

#[derive(Debug)]
enum Refusal {
    Status { status: u16, body: String },
    Failed(Error),
}

impl Reject {
    /// Refuses with an HTTP status (401, 403, 429…; not 2xx) and a text body.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self(Refusal::Status {
            status,
            body: body.into(),
        })
    }

    pub(crate) fn into_response(self) -> Result<wit::Response, String> {
        match self.0 {
            Refusal::Status { status, body } => Ok(wit::Response {
                status,
                body: Some(wit::Payload::Text(body)),
                subprotocol: None,
                context: Vec::new(),
            }),
            Refusal::Failed(error) => Err(error.to_string()),
        }
    }
}

impl<E: Into<Error>> From<E> for Reject {
    fn from(error: E) -> Self {
        Self(Refusal::Failed(error.into()))
    }
}
