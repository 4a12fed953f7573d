//! Node heartbeats: this node renews its lease ([`keys::BEAT`]), fences
//! itself when the lease runs out, registers its connections again when Redis
//! lost them (a restart) or missed changes (an outage), refreshes what `info`
//! reports about them, forgets nodes whose heartbeat has expired, and deletes
//! its heartbeat when it leaves the cluster.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::RedisResult;
use tokio::time::Instant;

use super::lease::FENCED;
use super::link::Request;
use super::writer::Change;
use super::{ClusterRegistry, keys};
use crate::clock::now_ms;
use crate::connection::CloseInitiator;
use crate::registry::Registry;

/// How many connections one sweeping script forgets.
const SWEEP_CHUNK: usize = 500;

/// Beats until the process ends (or the node retires).
pub(super) async fn run(registry: Arc<ClusterRegistry>) {
    let mut ticker = tokio::time::interval(registry.settings.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced = false;
    // When the last renewal was sent (ms since the Unix epoch; 0: never).
    let mut renewed_at = 0;
    loop {
        ticker.tick().await;
        let started = now_ms();
        let renewed = {
            let retired = registry.retired.lock().await;
            if *retired {
                return;
            }
            renew(&registry, renewed_at).await
        };
        match renewed {
            Some(previous) => {
                renewed_at = started;
                registry.link.close();
                if previous.is_none() {
                    // Redis lost this node: it restarted, or declared it dead.
                    registry.mark_stale();
                }
                if !announced || previous.is_none() {
                    tracing::info!(node = %registry.node(), "cluster: Redis reachable, node registered");
                    announced = true;
                }
                registry.beaten.notify_one();
            }
            None => {
                registry.link.open();
                if announced {
                    tracing::warn!(
                        "cluster: Redis unreachable; local delivery goes on, cross-node operations fail until it returns"
                    );
                    announced = false;
                }
            }
        }
    }
}

/// After each renewal, apart from it so that slow upkeep never delays the
/// next renewal: reconcile if Redis missed changes, else refresh activity;
/// then sweep dead nodes.
pub(super) async fn upkeep(registry: Arc<ClusterRegistry>) {
    // Activity after this instant is written at the next upkeep.
    let mut refreshed_at = 0;
    loop {
        registry.beaten.notified().await;
        let started = now_ms();
        let work = async {
            if registry.stale.swap(false, Ordering::AcqRel) {
                registry.record(Change::Reconcile);
            } else {
                refresh_activity(&registry, refreshed_at).await?;
            }
            sweep(&registry).await
        };
        match tokio::time::timeout(registry.settings.node_expiry, work).await {
            Ok(Ok(())) => refreshed_at = started,
            Ok(Err(error)) => tracing::debug!(%error, "cluster: heartbeat upkeep failed"),
            Err(_) => tracing::debug!("cluster: heartbeat upkeep timed out"),
        }
    }
}

/// Renews the lease; answers the heartbeat's previous value, or none if Redis
/// did not acknowledge within the cluster timeout.
async fn renew(registry: &ClusterRegistry, renewed_at: u64) -> Option<Option<String>> {
    let node = registry.node();
    let sent = Instant::now();
    let mut beat = keys::eval(
        keys::BEAT,
        &[
            &keys::node(node),
            keys::NODES,
            keys::EPOCH,
            keys::SETTLING,
            keys::TAGS,
        ],
    );
    beat.arg(node)
        .arg(now_ms())
        .arg(registry.settings.node_expiry.as_millis() as u64)
        .arg(renewed_at)
        .arg(&registry.tag);
    let reply = tokio::time::timeout(registry.link.timeout(), registry.link.run(beat.into()));
    match reply.await {
        Ok(Ok(previous)) => {
            if registry.lease.renewed(sent) {
                registry.mark_stale();
            }
            registry.metrics.cluster_fenced(registry.lease.is_fenced());
            Some(previous)
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "cluster: heartbeat failed");
            None
        }
        Err(_) => None,
    }
}

/// Closes this node's connections whenever its lease runs out.
pub(super) async fn fence(registry: Arc<ClusterRegistry>) {
    loop {
        registry.lease.expired().await;
        registry.metrics.cluster_fenced(true);
        tracing::warn!(
            node = %registry.node(),
            "cluster: lease lost (no heartbeat acknowledged in time); closing this node's connections and refusing new ones until Redis answers"
        );
        let (code, reason) = FENCED;
        registry
            .local
            .close_local(code, reason, CloseInitiator::Server)
            .await;
        // What Redis holds of the closed connections is cleaned up once the
        // node is registered again.
        registry.mark_stale();
    }
}

/// Writes `lastActiveAt` and the context of the connections active since
/// `since`, so that `info` on another node is at most one beat behind.
async fn refresh_activity(registry: &ClusterRegistry, since: u64) -> RedisResult<()> {
    let active: Vec<_> = registry
        .local
        .snapshot()
        .into_iter()
        .filter(|connection| connection.last_active_at() >= since)
        .collect();
    for chunk in active.chunks(SWEEP_CHUNK) {
        let mut pipe = redis::pipe();
        for connection in chunk {
            // Only while the connection is still registered (HSET would
            // otherwise bring a forgotten one back).
            let mut refresh = keys::eval(keys::REFRESH, &[&keys::connection(connection.id())]);
            refresh
                .arg(connection.last_active_at())
                .arg(super::context_json(connection));
            pipe.add_command(refresh).ignore();
        }
        registry.link.run::<()>(pipe.into()).await?;
    }
    Ok(())
}

/// Forgets every node whose heartbeat has expired, one sweeper per dead node.
async fn sweep(registry: &ClusterRegistry) -> RedisResult<()> {
    let link = &registry.link;
    let nodes: Vec<String> = link.run(redis::Cmd::smembers(keys::NODES).into()).await?;
    for node in nodes.iter().filter(|node| *node != registry.node()) {
        let alive: bool = link
            .run(redis::Cmd::exists(keys::node(node)).into())
            .await?;
        if alive {
            continue;
        }
        let expiry = registry.settings.node_expiry.as_millis() as u64;
        let mut lock = redis::cmd("SET");
        lock.arg(keys::sweep(node))
            .arg(registry.node())
            .arg("NX")
            .arg("PX")
            .arg(expiry);
        let locked: Option<String> = link.run(lock.into()).await?;
        if locked.is_some()
            && let Some(forgotten) = forget(registry, node).await?
        {
            tracing::info!(%node, connections = forgotten, "cluster: forgot a node whose heartbeat expired");
        }
    }
    Ok(())
}

/// Removes a node's connections and group memberships from Redis, unless
/// its heartbeat exists again (it came back, and registers itself); answers
/// how many connections it had, none if it came back.
async fn forget(registry: &ClusterRegistry, node: &str) -> RedisResult<Option<usize>> {
    let heartbeat = keys::node(node);
    let mut forgotten = 0;
    loop {
        let mut chunk = keys::eval(
            keys::FORGET,
            &[
                &heartbeat,
                &keys::node_connections(node),
                &keys::node_groups(node),
                keys::CONNECTIONS,
                keys::MOVED,
            ],
        );
        chunk
            .arg(keys::CONNECTION_PREFIX)
            .arg(SWEEP_CHUNK)
            .arg(keys::GROUP_MEMBERS_PREFIX)
            .arg(node);
        match registry.link.run::<i64>(Request::One(chunk)).await? {
            -1 => return Ok(None),
            0 => break,
            count => forgotten += count as usize,
        }
    }
    let mut last = keys::eval(
        keys::FORGET_NODE,
        &[
            &heartbeat,
            &keys::node_groups(node),
            &keys::node_connections(node),
            keys::NODES,
            keys::TAGS,
        ],
    );
    last.arg(node).arg(keys::GROUP_NODES_PREFIX);
    match registry.link.run::<i64>(Request::One(last)).await? {
        -1 => Ok(None),
        _ => Ok(Some(forgotten)),
    }
}

/// Leaves the cluster: stops beating, deletes the heartbeat (from then on the
/// others answer 410 for this node's connections) and forgets what Redis
/// holds of this node. Bounded by a few cluster timeouts.
pub(super) async fn retire(registry: &ClusterRegistry) {
    let mut retired = registry.retired.lock().await;
    *retired = true;
    registry.lease.retire();
    let node = registry.node();
    let leave = async {
        registry
            .link
            .run::<()>(Request::One(redis::Cmd::del(keys::node(node))))
            .await?;
        forget(registry, node).await
    };
    match tokio::time::timeout(registry.link.timeout() * 4, leave).await {
        Ok(Ok(_)) => tracing::info!(%node, "cluster: left the cluster"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "cluster: could not leave the cluster; the node expires instead")
        }
        Err(_) => tracing::warn!("cluster: Redis did not answer in time; the node expires instead"),
    }
}
