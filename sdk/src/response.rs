//! A `$connect` handler's answer.

use crate::Error;
use crate::bindings::exports::wsgate::gateway::handler as wit;
use crate::bindings::wsgate::gateway::types::HandlerError;

/// Accepts a `$connect`: the upgrade completes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Accept {
    subprotocol: Option<String>,
    context: Vec<(String, String)>,
    headers: Vec<(String, String)>,
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

    /// Adds a header to the 101 response (`Set-Cookie`, say). The handshake's
    /// own headers (`Connection`, `Upgrade`, `Sec-WebSocket-*`,
    /// `Content-Length`, `Transfer-Encoding`) are refused: the gateway then
    /// answers 500 and logs why.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The subprotocol chosen, if any.
    pub fn chosen_subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The connection context, in the order it was added.
    pub fn connection_context(&self) -> &[(String, String)] {
        &self.context
    }

    /// The extra headers of the 101 response, in the order they were added.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
}

impl From<Accept> for wit::ConnectDecision {
    fn from(accept: Accept) -> Self {
        Self::Accept(wit::Accept {
            subprotocol: accept.subprotocol,
            connection_context: accept.context,
            headers: accept.headers,
        })
    }
}

/// Refuses a `$connect`: the client gets an HTTP response instead of a
/// WebSocket.
///
/// Any [`Error`] converts into a `Reject`, so `?` works in `on_connect`: the
/// client then gets the error's status (400, 403, 429, 503, or 500 for an
/// `internal` error, whose text is only logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject(Refusal);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Failed(Error),
}

impl Reject {
    /// Refuses with an HTTP status (300-599; anything else makes the gateway
    /// answer 500 and log it) and a text body.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self(Refusal::Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        })
    }

    /// Adds a response header (`WWW-Authenticate`, `Retry-After`,
    /// `Location`…); the handshake's own headers are refused as for
    /// [`Accept::header`]. A `Reject` made from an [`Error`] has no headers:
    /// this does nothing to it.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Refusal::Response { headers, .. } = &mut self.0 {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// The HTTP status the client gets.
    pub fn status(&self) -> u16 {
        match &self.0 {
            Refusal::Response { status, .. } => *status,
            Refusal::Failed(error) => error.kind().status(),
        }
    }

    /// The response headers, in the order they were added; none for a
    /// refusal made from an [`Error`].
    pub fn headers(&self) -> &[(String, String)] {
        match &self.0 {
            Refusal::Response { headers, .. } => headers,
            Refusal::Failed(_) => &[],
        }
    }

    /// The body given to [`Reject::new`]; `None` for a refusal made from an
    /// [`Error`] (see [`error`](Self::error)).
    pub fn body(&self) -> Option<&str> {
        match &self.0 {
            Refusal::Response { body, .. } => Some(body),
            Refusal::Failed(_) => None,
        }
    }

    /// The error this refusal was made from, if it was.
    pub fn error(&self) -> Option<&Error> {
        match &self.0 {
            Refusal::Response { .. } => None,
            Refusal::Failed(error) => Some(error),
        }
    }

    pub(crate) fn into_result(self) -> Result<wit::ConnectDecision, HandlerError> {
        match self.0 {
            Refusal::Response {
                status,
                headers,
                body,
            } => Ok(wit::ConnectDecision::Reject(wit::Reject {
                status,
                headers,
                body,
            })),
            Refusal::Failed(error) => Err(error.into()),
        }
    }
}

impl<E: Into<Error>> From<E> for Reject {
    fn from(error: E) -> Self {
        Self(Refusal::Failed(error.into()))
    }
}
