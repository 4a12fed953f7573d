//! The connections on the reliable subprotocol a client may resume, by
//! resume token, and the resuming upgrade: a client that offers
//! `?resume=TOKEN&lastSeq=N` gets its connection back, without `$connect`,
//! from this node or, in a cluster, from the node that parked it as it
//! stopped ([`take_over`]); this node's own parked sessions that end
//! without a resume get their `$disconnect` from [`sweep_parked`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use tokio::sync::oneshot;

use super::{ClientContext, Pipeline, probes, task};
use crate::connection::{Connection, Resume, Session};
use crate::event::ConnectRequest;

/// How often a cluster node looks for parked sessions that ended.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

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

/// What came of resuming a session another node parked.
pub enum TakeOver {
    /// Resumed here: the 101 answers with this subprotocol.
    Resumed(Option<String>),
    /// No room for the connection: this answer.
    Refused(Response<Full<Bytes>>),
    /// No parked session can be resumed so: a new connection, on this upgrade.
    Fresh(OnUpgrade),
}

/// Resumes, on this node, the session of `token` another node parked or
/// holds, if it can be resumed after `last_seq`. The claim runs in the
/// connection's own task: a client that vanishes meanwhile leaves a claimed
/// connection detached here, which ends after its window like any other.
pub async fn take_over(
    context: &ClientContext,
    token: &str,
    last_seq: u64,
    upgrade: OnUpgrade,
) -> TakeOver {
    let permit = match context.admission.place() {
        Ok(permit) => permit,
        Err(refusal) => return TakeOver::Refused(refusal),
    };
    let pipeline = Arc::clone(&context.pipeline);
    let token = token.to_owned();
    let (answer, answered) = oneshot::channel();
    context.shutdown.spawn_connection(async move {
        let parked = match pipeline.registry.claim(&token, last_seq).await {
            Ok(Some(parked)) => parked,
            Ok(None) => {
                let _ = answer.send(TakeOver::Fresh(upgrade));
                return;
            }
            Err(_) => {
                let _ = answer.send(TakeOver::Refused(probes::text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the node that holds the session does not answer; resume again\n",
                )));
                return;
            }
        };
        let session = Session::restore(parked.session, parked.tail, pipeline.limits.resume);
        let subprotocol = session.subprotocol();
        let connection = Connection::new(parked.id, parked.peer, &pipeline.limits)
            .since(parked.connected_at, parked.last_active_at)
            .resumed_from(session);
        connection.set_context(parked.context);
        let connection = Arc::new(connection);
        pipeline
            .registry
            .adopt(parked.claim, Arc::clone(&connection))
            .await;
        tracing::debug!(connection = %connection.id(), last_seq, "resumed a session another node parked");
        let _ = answer.send(TakeOver::Resumed(subprotocol));
        task::run_resumed(pipeline, connection, upgrade, permit, last_seq).await;
    });
    match answered.await {
        Ok(outcome) => outcome,
        Err(_) => TakeOver::Refused(probes::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the resume ended before it was answered\n",
        )),
    }
}

/// Runs, on this node, the `$disconnect` of every parked session that ended
/// without a resume (each taken by one node of the cluster); never returns.
pub async fn sweep_parked(pipeline: Arc<Pipeline>) {
    let mut ticker = tokio::time::interval(SWEEP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for ended in pipeline.registry.ended_sessions().await {
            let connection = Connection::new(ended.id, ended.peer, &pipeline.limits)
                .since(ended.connected_at, ended.last_active_at);
            connection.set_context(ended.context);
            tracing::debug!(connection = %connection.id(), reason = %ended.info.reason, "a parked session ended");
            pipeline.metrics.parked_session_ended();
            pipeline
                .router
                .disconnect(&Arc::new(connection), ended.info)
                .await;
        }
    }
}
