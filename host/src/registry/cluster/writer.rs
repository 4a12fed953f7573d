//! Registration changes, written to Redis in the background so that local
//! work (a handshake, a join, a disconnect) never waits for Redis.
//!
//! Changes are written in the order they were made, a batch per round trip.
//! The queue is bounded in bytes; when it is full, when the breaker is open
//! or when a write fails, the changes are dropped and the registry marked
//! stale: the next heartbeat queues a [`Change::Reconcile`], which writes
//! this node's connections and groups as they are then and removes what
//! Redis holds beyond them.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

use super::delivery::Delivery;
use super::{ClusterRegistry, keys};
use crate::connection::{Connection, ConnectionId};

/// The most bytes of changes waiting to be written.
pub(super) const MAX_QUEUED_BYTES: usize = 4 << 20;

/// The most changes written in one round trip.
const BATCH: usize = 256;

/// How many connections one reconciling pipeline writes.
const CHUNK: usize = 1000;

/// A change to what Redis knows of this node.
pub(super) enum Change {
    /// A connection was accepted.
    Register(Arc<Connection>),
    /// A connection ended; it was in these groups.
    Unregister {
        /// The connection.
        id: ConnectionId,
        /// Its groups.
        groups: Vec<String>,
    },
    /// A connection held here joined (or left) a group.
    Member {
        /// The group.
        group: String,
        /// The connection.
        id: ConnectionId,
        /// Joined, else left.
        joined: bool,
    },
    /// Write everything again (Redis lost it or missed changes).
    Reconcile,
}

impl Change {
    /// About how many bytes the change holds while queued.
    fn weight(&self) -> usize {
        let strings = match self {
            Change::Register(connection) => {
                connection.peer().user_agent.len()
                    + connection
                        .context()
                        .iter()
                        .map(|(key, value)| key.len() + value.len())
                        .sum::<usize>()
            }
            Change::Unregister { groups, .. } => groups.iter().map(String::len).sum(),
            Change::Member { group, .. } => group.len(),
            Change::Reconcile => 0,
        };
        128 + strings
    }
}

/// The sending side of the queue.
pub(super) struct Changes {
    sender: mpsc::UnboundedSender<(Change, usize)>,
    queued: AtomicUsize,
}

impl Changes {
    /// A queue and the receiver its writer drains.
    pub(super) fn new() -> (Changes, mpsc::UnboundedReceiver<(Change, usize)>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let changes = Changes {
            sender,
            queued: AtomicUsize::new(0),
        };
        (changes, receiver)
    }

    /// Queues a change; answers false if the queue is full (the change is
    /// dropped, and the registry must be reconciled).
    pub(super) fn push(&self, change: Change) -> bool {
        let weight = change.weight();
        let queued = self.queued.fetch_add(weight, Ordering::AcqRel);
        if queued + weight > MAX_QUEUED_BYTES && !matches!(change, Change::Reconcile) {
            self.queued.fetch_sub(weight, Ordering::AcqRel);
            return false;
        }
        self.sender.send((change, weight)).is_ok()
    }

    fn taken(&self, weight: usize) {
        self.queued.fetch_sub(weight, Ordering::AcqRel);
    }
}

/// Writes changes until the process ends.
pub(super) async fn run(
    registry: Arc<ClusterRegistry>,
    mut receiver: mpsc::UnboundedReceiver<(Change, usize)>,
) {
    // The groups Redis lists this node in.
    let mut present = HashSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        for (_, weight) in &batch {
            registry.changes.taken(*weight);
        }
        let mut changes = batch.drain(..).map(|(change, _)| change).peekable();
        while changes.peek().is_some() {
            let reconcile = changes.next_if(|change| matches!(change, Change::Reconcile));
            let written = match reconcile {
                Some(_) => reconcile_now(&registry, &mut present).await,
                None => {
                    let run: Vec<Change> = std::iter::from_fn(|| {
                        changes.next_if(|change| !matches!(change, Change::Reconcile))
                    })
                    .collect();
                    write(&registry, run, &mut present).await
                }
            };
            if !written {
                registry.mark_stale();
            }
        }
    }
}

/// Writes a run of changes in one round trip; answers whether Redis took it.
async fn write(
    registry: &ClusterRegistry,
    changes: Vec<Change>,
    present: &mut HashSet<String>,
) -> bool {
    if !registry.link.is_closed() {
        return false;
    }
    let mut pipe = redis::pipe();
    let mut touched = BTreeSet::new();
    for change in changes {
        match change {
            // One that already ended is not written back.
            Change::Register(connection) if registry.local.lookup(connection.id()).is_some() => {
                registry.registration(&mut pipe, &connection);
            }
            Change::Register(_) | Change::Reconcile => {}
            Change::Unregister { id, groups } => {
                registry.unregistration(&mut pipe, &id, &groups);
                touched.extend(groups);
            }
            Change::Member { group, id, joined } => {
                let members = keys::group_members(&group);
                match joined {
                    true => pipe.zadd(members, id.as_str(), 0).ignore(),
                    false => pipe.zrem(members, id.as_str()).ignore(),
                };
                touched.insert(group);
            }
        }
    }
    let notices = presence(registry, &mut pipe, touched.iter().cloned(), present);
    if pipe.is_empty() {
        return true;
    }
    if registry.link.query::<()>(pipe).await.is_err() {
        present.clear();
        return false;
    }
    for notice in notices {
        registry.notify(notice).await;
    }
    // Learn where the other members of this node's groups are now, so that
    // a group send from here needs no Redis.
    for group in touched {
        if registry.local.has_members(&group) && !registry.fanout.knows(&group) {
            let _ = registry.group_nodes(&group).await;
        }
    }
    true
}

/// Adds to `pipe` the presence changes of `groups` (this node gained its
/// first member of one, or lost its last), and answers their notices.
fn presence(
    registry: &ClusterRegistry,
    pipe: &mut redis::Pipeline,
    groups: impl IntoIterator<Item = String>,
    present: &mut HashSet<String>,
) -> Vec<Delivery> {
    let node = registry.node();
    let mut notices = Vec::new();
    for group in groups {
        let has = registry.local.has_members(&group);
        if has == present.contains(&group) {
            continue;
        }
        match has {
            true => {
                pipe.sadd(keys::node_groups(node), &group)
                    .ignore()
                    .hset(keys::group_nodes(&group), node, 1)
                    .ignore();
                present.insert(group.clone());
            }
            false => {
                pipe.srem(keys::node_groups(node), &group)
                    .ignore()
                    .hdel(keys::group_nodes(&group), node)
                    .ignore();
                present.remove(&group);
            }
        }
        notices.push(Delivery::Presence {
            node: node.to_owned(),
            group,
            present: has,
        });
    }
    notices
}

/// Writes this node's connections and groups as they are now, and removes
/// from Redis what it holds of this node beyond them; answers whether Redis
/// took it all.
async fn reconcile_now(registry: &ClusterRegistry, present: &mut HashSet<String>) -> bool {
    present.clear();
    let reconciled = tokio::time::timeout(registry.settings.node_expiry, async {
        let node = registry.node();
        let held = registry.local.snapshot();
        for chunk in held.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            for connection in chunk {
                registry.registration(&mut pipe, connection);
            }
            registry.link.run::<()>(pipe.into()).await?;
        }
        let listed: Vec<String> = registry
            .link
            .run(redis::Cmd::smembers(keys::node_connections(node)).into())
            .await?;
        let groups: Vec<String> = registry
            .link
            .run(redis::Cmd::smembers(keys::node_groups(node)).into())
            .await?;
        let gone: Vec<ConnectionId> = listed
            .into_iter()
            .map(ConnectionId::from)
            .filter(|id| registry.local.lookup(id).is_none())
            .collect();
        // A claim may have listed one here that is not reachable yet.
        let gone = match registry.handoffs.claiming() {
            true => {
                registry.mark_stale();
                Vec::new()
            }
            false => gone,
        };
        for chunk in gone.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            for id in chunk {
                registry.unregistration(&mut pipe, id, &groups);
            }
            registry.link.run::<()>(pipe.into()).await?;
        }
        // Redis lists this node in none of its groups until told.
        let mut pipe = redis::pipe();
        for group in &groups {
            pipe.srem(keys::node_groups(node), group)
                .ignore()
                .hdel(keys::group_nodes(group), node)
                .ignore();
        }
        let all = groups.into_iter().chain(registry.local.group_names());
        let _ = presence(registry, &mut pipe, all, present);
        registry.link.run::<()>(pipe.into()).await?;
        tracing::info!(
            connections = held.len(),
            "cluster: registered this node's connections again"
        );
        redis::RedisResult::Ok(())
    });
    let written = matches!(reconciled.await, Ok(Ok(())));
    if written {
        registry
            .notify(Delivery::Resync {
                node: registry.node().to_owned(),
            })
            .await;
    } else {
        present.clear();
    }
    written
}
