//! A parked session between its park and its claim: what it is sent waits
//! in Redis (appended by the routing, group and broadcast scripts), a
//! request for it is carried out on its parked state, and once its window
//! passes, or it is closed or overflows, one node takes it and runs its
//! `$disconnect`.

use serde::{Deserialize, Serialize};

use super::super::delivery::{Delivery, Frame, Identity};
use super::super::requests::Answer;
use super::super::{ClusterRegistry, keys};
use super::{Meta, groups, scripts};
use crate::clock::now_ms;
use crate::connection::{CloseInitiator, ConnectionId, DisconnectInfo, SendError};
use crate::registry::EndedSession;

/// How many ended sessions one sweep takes.
const SWEEP_BATCH: usize = 100;

/// How a parked session was closed, as its hash keeps it.
#[derive(Serialize, Deserialize)]
struct Closed {
    code: u16,
    reason: String,
    by_handler: bool,
}

/// The entry a parked session's frames keep for `frame`.
pub(in super::super) fn entry(frame: &Frame) -> String {
    format!(
        "r{}",
        serde_json::to_string(frame).expect("a frame serializes")
    )
}

/// Carries out `delivery` (not a send: the routing script appends those)
/// on the parked state of `id`; `None` if it is no longer parked (it was
/// claimed meanwhile: ask its node).
pub(in super::super) async fn request(
    registry: &ClusterRegistry,
    id: &ConnectionId,
    delivery: &Delivery,
) -> Option<Answer> {
    let (script, extra): (&str, Vec<String>) = match delivery {
        Delivery::Close {
            code,
            reason,
            by_handler,
            ..
        } => {
            let closed = Closed {
                code: *code,
                reason: reason.clone(),
                by_handler: *by_handler,
            };
            let closed = serde_json::to_string(&closed).expect("a close serializes");
            (&scripts::CLOSE, vec![closed])
        }
        Delivery::Join { group, .. } => (&scripts::MEMBERSHIP, vec![group.clone(), "1".into()]),
        Delivery::Leave { group, .. } => (&scripts::MEMBERSHIP, vec![group.clone(), "0".into()]),
        Delivery::Info { .. } => return info(registry, id).await,
        // Parked already: the claim follows.
        Delivery::Park { .. } => return Some(Ok(None)),
        _ => return Some(Err(SendError::Gone)),
    };
    let mut command = keys::eval(script, &[]);
    command.arg(id.as_str()).arg(extra);
    let mut pipe = redis::pipe();
    pipe.add_command(command);
    if let Delivery::Join { group, .. } = delivery {
        // A node that knew no other with members now asks Redis.
        let notice = super::super::delivery::Envelope::told(Delivery::Presence {
            node: keys::PARKED_NODE.to_owned(),
            group: group.clone(),
            present: true,
        });
        pipe.publish(keys::BROADCAST, notice.encode()).ignore();
    }
    let done: Result<(i64,), SendError> = registry.link.query(pipe).await;
    match done {
        Ok((1,)) => Some(Ok(None)),
        Ok((0,)) => None,
        Ok(_) if matches!(delivery, Delivery::Leave { .. }) => Some(Ok(None)),
        Ok(_) => Some(Err(SendError::Gone)),
        Err(error) => Some(Err(error)),
    }
}

/// What a parked session tells of its connection.
async fn info(registry: &ClusterRegistry, id: &ConnectionId) -> Option<Answer> {
    let mut read = redis::cmd("HMGET");
    read.arg(keys::park(id)).arg(&["meta", "groups", "ended"]);
    let fields: Result<[Option<String>; 3], SendError> = registry.link.query(read).await;
    match fields.map(|[meta, groups, ended]| (meta, groups, ended)) {
        Err(error) => Some(Err(error)),
        Ok((Some(_), _, Some(_))) => Some(Err(SendError::Gone)),
        Ok((Some(meta), groups_json, None)) => {
            let meta = Meta::parse(&meta);
            Some(Ok(Some(Identity {
                connected_at: meta.connected_at,
                last_active_at: meta.last_active_at,
                source_ip: meta.source_ip,
                user_agent: meta.user_agent,
                context: meta.context,
                groups: groups(groups_json.as_deref().unwrap_or("[]")),
            })))
        }
        // Claimed (or swept) meanwhile.
        Ok((None, _, _)) => None,
    }
}

/// Takes the parked sessions that ended or whose window passed.
pub(in super::super) async fn ended(registry: &ClusterRegistry) -> Vec<EndedSession> {
    if !registry.link.is_closed() {
        return Vec::new();
    }
    let mut sweep = keys::eval(&scripts::SWEEP, &[]);
    sweep.arg(now_ms()).arg(SWEEP_BATCH);
    let taken: Vec<(String, String, String)> = match registry.link.query(sweep).await {
        Ok(taken) => taken,
        Err(_) => return Vec::new(),
    };
    taken
        .into_iter()
        .map(|(id, meta, ended)| {
            let meta = Meta::parse(&meta);
            EndedSession {
                id: ConnectionId::from(id),
                peer: meta.peer(),
                connected_at: meta.connected_at,
                last_active_at: meta.last_active_at,
                context: meta.context,
                info: how_it_ended(&ended),
            }
        })
        .collect()
}

/// The `$disconnect` of a parked session: closed by a handler or the API,
/// overflowed, or not resumed in time.
fn how_it_ended(ended: &str) -> DisconnectInfo {
    if let Ok(closed) = serde_json::from_str::<Closed>(ended) {
        return DisconnectInfo {
            code: closed.code,
            reason: closed.reason,
            initiator: match closed.by_handler {
                true => CloseInitiator::Handler,
                false => CloseInitiator::Api,
            },
        };
    }
    let (code, restart) = super::park::SERVICE_RESTART;
    let why = match ended {
        "overflow" => "its replay buffer overflowed",
        _ => "not resumed within the resume window",
    };
    DisconnectInfo {
        code,
        reason: format!("{restart}; {why}"),
        initiator: CloseInitiator::Shutdown,
    }
}
