//! Parking: a node that stops hands its resumable sessions to the cluster.
//! One script per connection parks it (from then on what it is sent waits
//! in Redis) and puts a marker on this node's inbox; at the marker, behind
//! everything sent to it before, the node seals the session, writes its
//! snapshot and closes the socket with 1012, without `$disconnect`.

use std::sync::Arc;
use std::time::Duration;

use super::super::delivery::{Delivery, Envelope};
use super::super::requests::Answer;
use super::super::{ClusterRegistry, keys};
use super::{Meta, scripts};
use crate::clock::now_ms;
use crate::connection::{CloseInitiator, Connection, ConnectionId, SendError, Session};

/// The close a parked connection's client gets: come back, elsewhere.
pub const SERVICE_RESTART: (u16, &str) = (1012, "service restart");

/// How many connections one round trip parks.
const CHUNK: usize = 200;

/// How much longer than its window a parked session's keys live: a sweep
/// ends it at the window's end; this only bounds what a lost sweep leaves.
const KEYS_OUTLIVE_WINDOW: Duration = Duration::from_secs(300);

/// Parks every resumable session this node holds; answers how many.
pub(in super::super) async fn park_sessions(registry: &ClusterRegistry) -> usize {
    let sessions: Vec<Arc<Connection>> = registry
        .local
        .snapshot()
        .into_iter()
        .filter(|connection| parkable(connection))
        .collect();
    let parked = park(registry, &sessions).await;
    if parked > 0 {
        tracing::info!(
            parked,
            "cluster: parked the reliable sessions, resumable on another node"
        );
    }
    parked
}

/// Parks the session of connection `id` for a client that resumes it with
/// `token` on another node (it dropped, and came back through a load
/// balancer that chose another node): done once it is sealed here.
pub(in super::super) async fn hand_over(
    registry: &ClusterRegistry,
    id: &ConnectionId,
    token: &str,
) -> Answer {
    let held = registry.local.lookup(id).filter(|connection| {
        let session = connection.session();
        parkable(connection) && session.is_some_and(|session| same_token(session.token(), token))
    });
    let Some(connection) = held else {
        return Err(SendError::Gone);
    };
    match park(registry, &[connection]).await {
        1 => Ok(None),
        _ => Err(SendError::Unavailable),
    }
}

/// Whether `connection` has a session that can be parked.
fn parkable(connection: &Connection) -> bool {
    let session = connection.session();
    !connection.close_state().is_requested()
        && session.is_some_and(|session| session.is_resumable() && !session.is_parked())
}

/// Whether two tokens are the same, in a time that does not say how much of
/// them is.
fn same_token(held: &str, offered: &str) -> bool {
    held.len() == offered.len()
        && held
            .bytes()
            .zip(offered.bytes())
            .fold(0, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// Parks `sessions`; answers how many were sealed for another node.
async fn park(registry: &ClusterRegistry, sessions: &[Arc<Connection>]) -> usize {
    if sessions.is_empty() {
        return 0;
    }
    if !registry.link.is_closed() {
        tracing::warn!(
            sessions = sessions.len(),
            "cluster: Redis cannot be reached; the reliable sessions end here, not parked"
        );
        return 0;
    }
    let handoffs = &registry.handoffs;
    handoffs.begin().await;
    handoffs
        .sealing
        .lock()
        .expect("sealing lock")
        .extend(sessions.iter().map(|connection| connection.id().clone()));
    for chunk in sessions.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        let mut groups = std::collections::BTreeSet::new();
        // Past this, Redis refuses the park: by then the node stops waiting
        // for the answer (it may have hung) and the session ends here.
        let accept_by = now_ms() + registry.settings.timeout.as_millis() as u64;
        for connection in chunk {
            pipe.add_command(park_script(registry, connection, accept_by))
                .ignore();
            groups.extend(connection.groups());
        }
        // Before this node can tell it lost its last member of a group:
        // a node that knew only this one with members now asks Redis.
        for group in groups {
            let notice = Envelope::told(Delivery::Presence {
                node: keys::PARKED_NODE.to_owned(),
                group,
                present: true,
            });
            pipe.publish(keys::BROADCAST, notice.encode()).ignore();
        }
        if let Err(error) = registry.link.query::<()>(pipe).await {
            // Parked or not, each is sealed below only if Redis says so.
            tracing::warn!(%error, "cluster: parking sessions failed");
        }
    }
    let unsealed = handoffs.await_seals(registry.settings.timeout * 4).await;
    for id in unsealed {
        // The marker did not come (the inbox lost Redis): seal it now if it
        // was parked, or leave it to end here like any other.
        let parked: Result<Option<String>, _> = registry
            .link
            .query(redis::Cmd::hget(keys::MOVED, id.as_str()))
            .await;
        match parked {
            Ok(Some(moved)) if moved == "parked" => seal(registry, &id).await,
            _ => handoffs.seal_done(&id),
        }
    }
    handoffs.end();
    let parked = sessions
        .iter()
        .filter(|connection| connection.session().is_some_and(Session::is_parked))
        .count();
    registry.metrics.sessions_parked(parked);
    parked
}

/// The script that parks `connection`, unless Redis runs it after
/// `accept_by` (ms since the Unix epoch).
fn park_script(registry: &ClusterRegistry, connection: &Connection, accept_by: u64) -> redis::Cmd {
    let session = connection.session().expect("only sessions are parked");
    let limits = session.limits();
    let meta = Meta::of(connection, session.subprotocol());
    let groups = serde_json::to_string(&connection.groups()).expect("names serialize");
    let marker = Envelope::told(Delivery::Parked {
        id: connection.id().to_string(),
    });
    let mut park = keys::eval(&scripts::PARK, &[]);
    park.arg(connection.id().as_str())
        .arg(registry.node())
        .arg(session.token())
        .arg(serde_json::to_string(&meta).expect("meta serializes"))
        .arg(groups)
        .arg(now_ms() + limits.window.as_millis() as u64)
        .arg(limits.buffer)
        .arg(limits.buffer_bytes)
        .arg(marker.encode())
        .arg(keys_live(limits.window))
        .arg(accept_by);
    park
}

/// How long a parked session's keys live (ms).
fn keys_live(window: Duration) -> u64 {
    (window + KEYS_OUTLIVE_WINDOW).as_millis() as u64
}

/// At a park's marker: seals the connection's session (everything sent to
/// it before is in it), writes its snapshot ahead of what was appended
/// since, and closes it with 1012. A connection that ended (or began to
/// close) first has its park undone, so that its own end (and
/// `$disconnect`) stands.
pub(in super::super) async fn seal(registry: &ClusterRegistry, id: &ConnectionId) {
    let open = registry.local.lookup(id);
    let open = open.filter(|connection| !connection.close_state().is_requested());
    let sealed = open.and_then(|connection| {
        let session = connection.session()?;
        let snapshot = session.seal()?;
        Some((session.limits(), snapshot, connection))
    });
    let Some((limits, snapshot, connection)) = sealed else {
        let mut unpark = keys::eval(&scripts::UNPARK, &[]);
        unpark.arg(id.as_str());
        let _ = registry.link.query::<i64>(unpark).await;
        registry.handoffs.seal_done(id);
        return;
    };
    // Only here: Redis keeps it, parked.
    crate::registry::Registry::unregister(&registry.local, id).await;
    let bytes: usize = snapshot.frames.iter().map(String::len).sum();
    let mut write = keys::eval(&scripts::SNAPSHOT, &[]);
    write
        .arg(id.as_str())
        .arg(snapshot.next_seq)
        .arg(snapshot.acked)
        .arg(bytes)
        .arg(keys_live(limits.window));
    for frame in &snapshot.frames {
        write.arg(format!("n{frame}"));
    }
    if let Err(error) = registry.link.query::<i64>(write).await {
        tracing::warn!(connection = %id, %error, "cluster: a parked session's frames were not written; its client will start afresh");
    }
    let (code, reason) = SERVICE_RESTART;
    connection.close(code, reason, CloseInitiator::Shutdown);
    registry.handoffs.seal_done(id);
}
