//! Admission: who may start a WebSocket handshake, decided before `$connect`
//! runs — not while draining, not from a foreign browser origin, not beyond the
//! connection limit or the new-connection rate.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use http_body_util::Full;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::AdmissionLimits;
use crate::limits::TokenBucket;
use crate::probes;

/// Decides whether a new connection may be admitted.
#[derive(Debug)]
pub struct Admission {
    allowed_origins: Vec<String>,
    slots: Arc<Semaphore>,
    new_connections: Option<TokenBucket>,
}

impl Admission {
    /// Admission under `limits`.
    pub fn new(limits: &AdmissionLimits) -> Self {
        let slots = limits.max_connections.min(Semaphore::MAX_PERMITS);
        Admission {
            allowed_origins: limits.allowed_origins.clone(),
            slots: Arc::new(Semaphore::new(slots)),
            new_connections: limits.connections_per_second.map(TokenBucket::new),
        }
    }

    /// A place for one more connection, held until it ends; or the HTTP
    /// response refusing it.
    #[allow(clippy::result_large_err)]
    pub fn admit(
        &self,
        headers: &HeaderMap,
    ) -> Result<OwnedSemaphorePermit, Response<Full<Bytes>>> {
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.allowed_origins.is_empty()
            && !self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        {
            return Err(probes::text(StatusCode::FORBIDDEN, "origin not allowed\n"));
        }
        let permit = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| probes::text(StatusCode::SERVICE_UNAVAILABLE, "too many connections\n"))?;
        if !self.new_connections.as_ref().is_none_or(TokenBucket::allow) {
            let mut response =
                probes::text(StatusCode::TOO_MANY_REQUESTS, "too many new connections\n");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
            return Err(response);
        }
        Ok(permit)
    }
}
