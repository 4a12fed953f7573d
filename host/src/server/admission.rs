//! Admission: who may start a WebSocket handshake, decided before `$connect`
//! runs — not while draining, not from a foreign browser origin, not beyond the
//! connection limit or the new-connection rate.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use http_body_util::Full;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::listener::HttpLimits;
use super::probes;
use crate::limits::{Rate, TokenBucket};

/// Who may connect, checked before `$connect` runs.
#[derive(Clone, Debug)]
pub struct AdmissionLimits {
    /// Most simultaneous connections.
    pub max_connections: usize,
    /// New connections per second.
    pub connections_per_second: Option<Rate>,
    /// Time allowed for the request head.
    pub handshake_timeout: Duration,
    /// Largest request head.
    pub max_header_size: usize,
    /// Allowed `Origin`s; empty allows any.
    pub allowed_origins: Vec<String>,
}

impl AdmissionLimits {
    /// The HTTP limits of a request head (both ports use the same).
    pub fn http(&self) -> HttpLimits {
        HttpLimits {
            head_timeout: self.handshake_timeout,
            max_header_size: self.max_header_size,
        }
    }
}

/// Every status an upgrade is refused with before `$connect` runs: a foreign
/// `Origin` (403), the new-connection rate (429), and the connection limit, a
/// shutdown or a registry that cannot take connections (503).
pub const REFUSALS: [u16; 3] = [403, 429, 503];

/// The smallest request head limit: hyper needs a buffer at least this big.
pub const MIN_HEADER_SIZE: usize = 8192;

/// Decides whether a new connection may be admitted.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionLimits,
    slots: Arc<Semaphore>,
    new_connections: Option<TokenBucket>,
}

impl Admission {
    /// Admission under `limits`.
    pub fn new(limits: &AdmissionLimits) -> Self {
        let slots = limits.max_connections.min(Semaphore::MAX_PERMITS);
        Admission {
            limits: limits.clone(),
            slots: Arc::new(Semaphore::new(slots)),
            new_connections: limits.connections_per_second.map(TokenBucket::new),
        }
    }

    /// The limits it admits under.
    pub fn limits(&self) -> &AdmissionLimits {
        &self.limits
    }

    /// A place for one more connection, held until it ends; or the HTTP
    /// response refusing it.
    #[allow(clippy::result_large_err)]
    pub fn admit(
        &self,
        headers: &HeaderMap,
    ) -> Result<OwnedSemaphorePermit, Response<Full<Bytes>>> {
        self.check_origin(headers)?;
        let permit = self.place()?;
        self.check_rate()?;
        Ok(permit)
    }

    /// A place for a connection [`admit_resume`](Self::admit_resume) let in
    /// but that could not be resumed, so starts anew: the one check it has
    /// not passed yet (a handshake is charged to the rate once).
    #[allow(clippy::result_large_err)]
    pub fn place(&self) -> Result<OwnedSemaphorePermit, Response<Full<Bytes>>> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| probes::text(StatusCode::SERVICE_UNAVAILABLE, "too many connections\n"))
    }

    /// Whether a client may resume its connection on a new socket: the
    /// `Origin` and the new-connection rate are checked as for a new
    /// connection (a handshake costs the same), but it takes no new place.
    #[allow(clippy::result_large_err)]
    pub fn admit_resume(&self, headers: &HeaderMap) -> Result<(), Response<Full<Bytes>>> {
        self.check_origin(headers)?;
        self.check_rate()
    }

    #[allow(clippy::result_large_err)]
    fn check_rate(&self) -> Result<(), Response<Full<Bytes>>> {
        if self.new_connections.as_ref().is_none_or(TokenBucket::allow) {
            return Ok(());
        }
        let mut response =
            probes::text(StatusCode::TOO_MANY_REQUESTS, "too many new connections\n");
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        Err(response)
    }

    #[allow(clippy::result_large_err)]
    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Response<Full<Bytes>>> {
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.limits.allowed_origins.is_empty()
            && !self
                .limits
                .allowed_origins
                .iter()
                .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        {
            return Err(probes::text(StatusCode::FORBIDDEN, "origin not allowed\n"));
        }
        Ok(())
    }
}
