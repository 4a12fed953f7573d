//! Claiming: a client resumes, on this node, a session another node parked.
//! The claim script moves the connection here and puts a marker on this
//! node's inbox; the server builds the connection from the claimed state
//! and hands it over ([`adopt`]), and at the marker, behind every delivery
//! decided before the claim, the inbox makes it reachable here.

use std::sync::Arc;
use std::time::Duration;

use redis::{FromRedisValue, Value};
use tokio_tungstenite::tungstenite::Message;

use super::super::delivery::{Delivery, Envelope, Frame};
use super::super::writer::Change;
use super::super::{ClusterRegistry, keys};
use super::{Claim, Meta, groups, scripts};
use crate::connection::{Connection, ConnectionId, SendError, SessionSnapshot};
use crate::registry::{ParkedSession, Registry};

/// How often a claim asks again while the parked session's snapshot is
/// still being written.
const NOT_READY_RETRY: Duration = Duration::from_millis(20);

/// Claims the session of `token`, if it can be resumed after `last_seq`:
/// the one parked under it, or the one another node holds (detached, or on
/// a socket not yet seen to drop), which that node parks first. `None` for
/// no such session; `Unavailable` if its node did not answer (not done: the
/// client may retry).
pub(in super::super) async fn claim(
    registry: &ClusterRegistry,
    token: &str,
    last_seq: u64,
) -> Result<Option<ParkedSession>, SendError> {
    // The token names its connection: `ID.SECRET`.
    let Some((id, _)) = token.split_once('.') else {
        return Ok(None);
    };
    let id = ConnectionId::from(id);
    if registry.local.lookup(&id).is_none() {
        let park = Delivery::Park {
            id: id.to_string(),
            token: token.to_owned(),
        };
        match registry.ask(&id, park).await {
            Ok(_) => {}
            Err(SendError::Gone) => return Ok(None),
            Err(error) => return Err(error),
        }
    }
    Ok(claim_parked(registry, token, last_seq).await)
}

/// Claims the session parked under `token`.
async fn claim_parked(
    registry: &ClusterRegistry,
    token: &str,
    last_seq: u64,
) -> Option<ParkedSession> {
    let handoffs = &registry.handoffs;
    let number = handoffs
        .next_claim
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    handoffs
        .claims
        .lock()
        .expect("claims lock")
        .insert(number, Arc::new(Claim::default()));
    handoffs.begin().await;
    let marker = Envelope::told(Delivery::Claimed { claim: number }).encode();
    let deadline = tokio::time::Instant::now() + registry.settings.timeout;
    let claimed = loop {
        let mut claim = keys::eval(&scripts::CLAIM, &[]);
        claim
            .arg(token)
            .arg(registry.node())
            .arg(last_seq)
            .arg(&marker);
        let reply: Vec<Value> = match registry.link.query(claim).await {
            Ok(reply) => reply,
            Err(_) => break None,
        };
        match reply
            .first()
            .and_then(|status| i64::from_redis_value_ref(status).ok())
        {
            Some(3) => break parse(number, token, &reply),
            Some(1) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(NOT_READY_RETRY).await;
            }
            _ => break None,
        }
    };
    let Some((session, groups)) = claimed else {
        finish(registry, number);
        return None;
    };
    if let Some(claim) = handoffs.claim(number) {
        *claim.groups.lock().expect("claim lock") = groups;
    }
    registry.metrics.session_claimed();
    Some(session)
}

/// The claimed session in the script's answer, and its groups.
fn parse(number: u64, token: &str, reply: &[Value]) -> Option<(ParkedSession, Vec<String>)> {
    let text = |at: usize| String::from_redis_value_ref(reply.get(at)?).ok();
    let number_at = |at: usize| text(at)?.parse::<u64>().ok();
    let meta = Meta::parse(&text(2)?);
    let frames = Vec::<String>::from_redis_value_ref(reply.get(6)?).ok()?;
    let (mut numbered, mut tail) = (Vec::new(), Vec::new());
    for entry in frames {
        match entry.split_at_checked(1) {
            Some(("n", frame)) => numbered.push(frame.to_owned()),
            Some(("r", frame)) => {
                let frame: Option<Message> = serde_json::from_str::<Frame>(frame)
                    .ok()
                    .and_then(Frame::message);
                tail.extend(frame);
            }
            _ => {}
        }
    }
    let session = ParkedSession {
        claim: number,
        id: ConnectionId::from(text(1)?),
        peer: meta.peer(),
        connected_at: meta.connected_at,
        last_active_at: meta.last_active_at,
        session: SessionSnapshot {
            token: token.to_owned(),
            next_seq: number_at(4)?,
            acked: number_at(5)?,
            frames: numbered,
            subprotocol: meta.subprotocol,
        },
        context: meta.context,
        tail,
    };
    Some((session, groups(&text(3)?)))
}

/// Hands the connection built from claim `number` to the inbox, and waits
/// until it is reachable here; if the inbox does not get to the claim's
/// marker in time (it lost Redis), makes it reachable itself.
pub(in super::super) async fn adopt(
    registry: &ClusterRegistry,
    number: u64,
    connection: Arc<Connection>,
) {
    let Some(claim) = registry.handoffs.claim(number) else {
        return;
    };
    claim.built.send_replace(Some(Arc::clone(&connection)));
    let mut installed = claim.installed.subscribe();
    let timeout = registry.settings.timeout;
    let waited = tokio::time::timeout(timeout, installed.wait_for(|installed| *installed));
    if waited.await.is_err() {
        tracing::warn!(connection = %connection.id(), "cluster: a claim's marker did not come in time; the connection is made reachable without it");
        install(registry, &claim, connection).await;
        // Or the inbox got there first, and finishes now.
        let _ = tokio::time::timeout(timeout, installed.wait_for(|installed| *installed)).await;
    }
    finish(registry, number);
}

/// At a claim's marker: makes the claimed connection reachable here, once
/// the server has built it.
pub(in super::super) async fn at_marker(registry: &ClusterRegistry, number: u64) {
    let Some(claim) = registry.handoffs.claim(number) else {
        return;
    };
    let mut built = claim.built.subscribe();
    let waited = tokio::time::timeout(registry.settings.timeout, built.wait_for(Option::is_some));
    let connection = match waited.await {
        Ok(Ok(built)) => built.clone(),
        _ => None,
    };
    match connection {
        Some(connection) => install(registry, &claim, connection).await,
        None => tracing::warn!("cluster: a claimed session was not built in time"),
    }
}

/// Registers the claimed connection here and joins it to its groups, once.
async fn install(registry: &ClusterRegistry, claim: &Claim, connection: Arc<Connection>) {
    if claim
        .installing
        .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        return;
    }
    registry.local.register(Arc::clone(&connection)).await;
    registry.record(Change::Register(Arc::clone(&connection)));
    let groups = claim.groups.lock().expect("claim lock").clone();
    for group in groups {
        let _ = registry.join_held(&group, connection.id()).await;
    }
    // Only now: a group send after the answer must find it a member.
    claim.installed.send_replace(true);
}

/// Forgets claim `number`: made reachable, or failed.
fn finish(registry: &ClusterRegistry, number: u64) {
    let handoffs = &registry.handoffs;
    if handoffs
        .claims
        .lock()
        .expect("claims lock")
        .remove(&number)
        .is_some()
    {
        handoffs.end();
    }
}
