//! A connection on the reliable subprotocol between two sockets: detached
//! after a drop, it waits for its client for the resume window, and ends
//! (with its `$disconnect`) only if the client does not come back in time, it
//! can no longer be resumed, or it is closed meanwhile.

use std::future::poll_fn;
use std::pin::pin;

use tokio::time::sleep;

use super::Pipeline;
use crate::connection::{CloseInitiator, Connection, DisconnectInfo, Resume};

/// Whether a socket that ended so leaves its connection waiting for the
/// client: a drop, or a close by the client other than 1000 and 1001.
pub(super) fn detachable(info: &DisconnectInfo) -> bool {
    info.initiator == CloseInitiator::Client && !matches!(info.code, 1000 | 1001)
}

/// Waits, detached, for the client to resume; `None` once the connection ends.
pub(super) async fn detached(pipeline: &Pipeline, connection: &Connection) -> Option<Resume> {
    let session = connection.session()?;
    tracing::debug!(connection = %connection.id(), window = ?session.window(), "detached");
    pipeline.metrics.detached(1);
    let closed = pin!(connection.close_state().requested());
    let resume = tokio::select! {
        biased;
        resume = poll_fn(|cx| session.poll_resume(cx)) => resume,
        () = closed => None,
        () = sleep(session.window()) => None,
    };
    pipeline.metrics.detached(-1);
    if resume.is_none() {
        session.end();
    }
    resume
}

/// How a detached connection that was not resumed ended: closed meanwhile,
/// or the drop that detached it.
pub(super) fn expired(connection: &Connection, dropped: DisconnectInfo) -> DisconnectInfo {
    if let Some(request) = connection.close_state().request_made() {
        return request.info;
    }
    let resumable = connection.session().is_some_and(|s| s.is_resumable());
    let why = if resumable {
        "not resumed within the resume window"
    } else {
        "its replay buffer overflowed"
    };
    DisconnectInfo {
        reason: format!("{}; {why}", dropped.reason),
        ..dropped
    }
}
