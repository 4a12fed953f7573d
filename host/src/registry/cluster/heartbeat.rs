//! Node heartbeats: this node renews its heartbeat key, registers its
//! connections again when Redis lost them (a restart) or missed changes (an
//! outage), refreshes what `info` reports about them, and forgets nodes whose
//! heartbeat has expired.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::RedisResult;
use redis::aio::ConnectionManager;

use super::{ClusterRegistry, keys};
use crate::connection::{ConnectionId, now_ms};

/// How many connections one pipeline registers or forgets.
const CHUNK: usize = 1000;

/// Beats until the process ends.
pub(super) async fn run(registry: Arc<ClusterRegistry>) {
    let mut ticker = tokio::time::interval(registry.settings.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Activity after this instant is written at the next beat.
    let mut refreshed_at = 0;
    let mut announced = false;
    loop {
        ticker.tick().await;
        let started = now_ms();
        let beat =
            tokio::time::timeout(registry.settings.node_expiry, beat(&registry, refreshed_at));
        let reachable = match beat.await {
            Ok(Ok(())) => {
                refreshed_at = started;
                true
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "cluster: heartbeat failed");
                false
            }
            Err(_) => false,
        };
        if !reachable {
            registry.stale.store(true, Ordering::Relaxed);
        }
        registry.metrics.cluster_reachable(reachable);
        let was = registry.reachable.swap(reachable, Ordering::Relaxed);
        if reachable && (!was || !announced) {
            tracing::info!(node = %registry.node(), "cluster: Redis reachable, node registered");
        } else if !reachable && (was || !announced) {
            tracing::warn!(
                "cluster: Redis unreachable; local delivery goes on, cross-node operations fail until it returns"
            );
        }
        announced = true;
    }
}

/// One heartbeat: renew, re-register if needed, refresh, sweep.
async fn beat(registry: &ClusterRegistry, refreshed_at: u64) -> RedisResult<()> {
    let mut redis = registry.redis.clone();
    let node = registry.node();
    let expiry = registry.settings.node_expiry.as_millis() as u64;
    let (previous,): (Option<String>,) = redis::pipe()
        .cmd("SET")
        .arg(keys::node(node))
        .arg(now_ms())
        .arg("PX")
        .arg(expiry)
        .arg("GET")
        .sadd(keys::NODES, node)
        .ignore()
        .query_async(&mut redis)
        .await?;
    // No previous heartbeat: Redis restarted, or this node was declared dead.
    let missed_changes = registry.stale.swap(false, Ordering::Relaxed);
    if previous.is_none() || missed_changes {
        if let Err(error) = register_again(registry, &mut redis).await {
            registry.stale.store(true, Ordering::Relaxed);
            return Err(error);
        }
    } else {
        refresh_activity(registry, &mut redis, refreshed_at).await?;
    }
    sweep(registry, &mut redis).await
}

/// Forgets whatever Redis holds for this node, then registers every local
/// connection and its groups from scratch.
async fn register_again(
    registry: &ClusterRegistry,
    redis: &mut ConnectionManager,
) -> RedisResult<()> {
    forget(redis, registry.node()).await?;
    // Taken after the wipe, so a connection registered during it is included.
    let connections = registry.local.snapshot();
    for chunk in connections.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        for connection in chunk {
            registry.registration(&mut pipe, connection);
        }
        pipe.query_async::<()>(redis).await?;
    }
    // A connection that ended meanwhile may have been written back: forget it.
    let mut pipe = redis::pipe();
    for connection in connections
        .iter()
        .filter(|c| registry.local.lookup(c.id()).is_none())
    {
        registry.unregistration(&mut pipe, connection.id(), &connection.groups());
    }
    if !pipe.is_empty() {
        pipe.query_async::<()>(redis).await?;
    }
    tracing::info!(
        connections = connections.len(),
        "cluster: registered this node's connections again"
    );
    Ok(())
}

/// Writes `lastActiveAt` and the context of the connections active since
/// `since`, so that `info` on another node is at most one beat behind.
async fn refresh_activity(
    registry: &ClusterRegistry,
    redis: &mut ConnectionManager,
    since: u64,
) -> RedisResult<()> {
    let active: Vec<_> = registry
        .local
        .snapshot()
        .into_iter()
        .filter(|connection| connection.last_active_at() >= since)
        .collect();
    for chunk in active.chunks(CHUNK) {
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
        pipe.query_async::<()>(redis).await?;
    }
    Ok(())
}

/// Forgets every node whose heartbeat has expired, one sweeper per dead node.
async fn sweep(registry: &ClusterRegistry, redis: &mut ConnectionManager) -> RedisResult<()> {
    let nodes: Vec<String> = redis::Cmd::smembers(keys::NODES).query_async(redis).await?;
    for node in nodes.iter().filter(|node| *node != registry.node()) {
        let alive: bool = redis::Cmd::exists(keys::node(node))
            .query_async(redis)
            .await?;
        if alive {
            continue;
        }
        let expiry = registry.settings.node_expiry.as_millis() as u64;
        let locked: Option<String> = redis::cmd("SET")
            .arg(keys::sweep(node))
            .arg(registry.node())
            .arg("NX")
            .arg("PX")
            .arg(expiry)
            .query_async(redis)
            .await?;
        if locked.is_some() {
            let forgotten = forget(redis, node).await?;
            redis::Cmd::srem(keys::NODES, node)
                .query_async::<()>(redis)
                .await?;
            tracing::info!(%node, connections = forgotten, "cluster: forgot a node whose heartbeat expired");
        }
    }
    Ok(())
}

/// Removes a node's connections and group memberships from Redis; answers
/// how many connections it had.
async fn forget(redis: &mut ConnectionManager, node: &str) -> RedisResult<usize> {
    let groups: Vec<String> = redis::Cmd::smembers(keys::node_groups(node))
        .query_async(redis)
        .await?;
    let ids: Vec<String> = redis::Cmd::smembers(keys::node_connections(node))
        .query_async(redis)
        .await?;
    for chunk in ids.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        for group in &groups {
            pipe.zrem(keys::group_members(group), chunk).ignore();
        }
        pipe.zrem(keys::CONNECTIONS, chunk).ignore();
        for id in chunk {
            pipe.del(keys::connection(&ConnectionId::from(id.as_str())))
                .ignore();
        }
        pipe.query_async::<()>(redis).await?;
    }
    let mut pipe = redis::pipe();
    for group in &groups {
        pipe.hdel(keys::group_nodes(group), node).ignore();
    }
    pipe.del(keys::node_groups(node))
        .ignore()
        .del(keys::node_connections(node))
        .ignore();
    pipe.query_async::<()>(redis).await?;
    Ok(ids.len())
}
