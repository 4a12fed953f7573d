//! The connections on the reliable subprotocol a client may resume, by
//! resume token, and the resuming upgrade: a client that offers
//! `?resume=TOKEN&lastSeq=N` gets its connection back, without `$connect`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use hyper::upgrade::OnUpgrade;

use crate::connection::{Connection, Resume};
use crate::event::ConnectRequest;

/// Every resumable connection of this node, by token.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Weak<Connection>>>,
}

/// A connection's place in [`Sessions`], given up when the guard drops (its
/// task ends, however it ends).
pub struct SessionEntry {
    sessions: Arc<Sessions>,
    token: String,
}

impl Sessions {
    /// Lists `connection` under its resume token until the entry drops;
    /// `None` for a connection without the reliable subprotocol.
    pub fn enter(self: &Arc<Self>, connection: &Arc<Connection>) -> Option<SessionEntry> {
        let token = connection.session()?.token().to_owned();
        self.lock()
            .insert(token.clone(), Arc::downgrade(connection));
        Some(SessionEntry {
            sessions: Arc::clone(self),
            token,
        })
    }

    /// Hands `upgrade` to the connection resumed with `token`; gives it back
    /// when there is none or it cannot honour the resume.
    pub fn resume(
        &self,
        token: &str,
        last_seq: u64,
        upgrade: OnUpgrade,
    ) -> Result<Arc<Connection>, OnUpgrade> {
        let Some(connection) = self.lock().get(token).and_then(Weak::upgrade) else {
            return Err(upgrade);
        };
        let session = connection.session().expect("only sessions are listed");
        match session.hand_over(Resume { upgrade, last_seq }) {
            Ok(()) => Ok(connection),
            Err(resume) => Err(resume.upgrade),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<Connection>>> {
        self.by_token.lock().expect("sessions lock")
    }
}

impl Drop for SessionEntry {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.token);
    }
}

/// What a client asks of the reliable subprotocol.
pub enum Reliability {
    /// It did not offer the subprotocol.
    Off,
    /// A new connection on the subprotocol.
    New,
    /// It resumes the connection of `token` after frame `last_seq`.
    Resume {
        /// The resume token of the connection.
        token: String,
        /// The last frame the client received.
        last_seq: u64,
    },
}

impl Reliability {
    /// What `request` asks: the subprotocol offered, and `resume` and
    /// `lastSeq` in its query (a resume without a valid `lastSeq` is new).
    pub fn of(request: &ConnectRequest) -> Self {
        let offered = request
            .subprotocols
            .iter()
            .any(|protocol| protocol == crate::connection::RELIABLE_SUBPROTOCOL);
        if !offered {
            return Reliability::Off;
        }
        let query = |name: &str| {
            request
                .query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        match (
            query("resume"),
            query("lastSeq").and_then(|n| n.parse().ok()),
        ) {
            (Some(token), Some(last_seq)) if !token.is_empty() => Reliability::Resume {
                token: token.to_owned(),
                last_seq,
            },
            _ => Reliability::New,
        }
    }
}
