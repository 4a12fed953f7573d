//! The clustered registry: this process's [`LocalRegistry`] plus Redis, so
//! that a send, close, group operation or listing issued on any node reaches
//! connections wherever they live.
//!
//! - A connection held here is served by the local registry directly, so local
//!   traffic never waits for Redis and keeps working without it; what Redis
//!   must learn of it is written in the background ([`writer`]).
//! - Any other id is looked up in Redis (`id → node`) and the request is
//!   published on that node's inbox channel, atomically with the lookup
//!   ([`keys::ROUTE`]). The owner carries it out and answers ([`requests`]);
//!   the caller waits at most the cluster timeout, and the owner drops a
//!   request it got too late, so 200 means done and 503 means not done.
//! - An id that is unknown, or whose node's lease has expired, is gone: a node
//!   fences itself before its lease expires ([`lease`]), so no live
//!   connection is ever reported gone.
//! - Groups live in Redis with the nodes that have members; a group send goes
//!   to the local members and then only to the inboxes of the other nodes
//!   with members ([`fanout`]).
//! - [`heartbeat`] renews the lease, registers this node's connections again
//!   when Redis lost them, and forgets dead nodes; [`link`] bounds every
//!   request and opens a circuit breaker when Redis does not answer.
//! - [`inbox`] carries out what other nodes publish for this node.
//! - [`handoff`] moves sessions of the reliable subprotocol between nodes:
//!   parked by a node that stops, claimed by the node their client resumes on.
//! - [`operations`] implements [`Registry`] on these rules.

mod delivery;
mod fanout;
mod handoff;
mod heartbeat;
mod inbox;
mod keys;
mod lease;
mod link;
mod operations;
mod requests;
mod writer;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use self::delivery::{Delivery, Envelope};
use self::fanout::FanOut;
use self::lease::Lease;
use self::link::Link;
use self::requests::Pending;
use self::writer::{Change, Changes};
use super::{LocalRegistry, Registry};
use crate::connection::{Connection, ConnectionId, SendError, node_tag};
use crate::observability::metrics::Metrics;

/// How this node joins the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// The Redis server, as a `redis://` URL.
    pub redis_url: String,
    /// This node's id, unique in the cluster.
    pub node_id: String,
    /// How often the node renews its heartbeat.
    pub heartbeat_interval: Duration,
    /// How long after its last heartbeat a node counts as dead.
    pub node_expiry: Duration,
    /// How long a request to Redis, or to another node, may take.
    pub timeout: Duration,
}

/// A registry shared by every gateway process connected to one Redis.
pub struct ClusterRegistry {
    local: LocalRegistry,
    link: Arc<Link>,
    client: redis::Client,
    settings: ClusterSettings,
    /// This process's tag, which every connection id it hands out ends in.
    tag: String,
    max_message_size: usize,
    metrics: Arc<Metrics>,
    lease: Lease,
    changes: Changes,
    pending: Pending,
    fanout: FanOut,
    handoffs: handoff::Handoffs,
    /// Whether Redis missed a registration change, so that the next heartbeat
    /// must register this node's connections again.
    stale: AtomicBool,
    /// Set once this node left the cluster (after the drain): no more beats.
    retired: tokio::sync::Mutex<bool>,
    /// Wakes the heartbeat's upkeep after each renewal.
    beaten: tokio::sync::Notify,
}

impl ClusterRegistry {
    /// Connects to Redis (lazily: the node starts even while Redis is down,
    /// and takes connections once its first heartbeat gives it a lease) and
    /// starts the heartbeat, the fence, the writer and the inbox listener.
    pub fn start(
        settings: ClusterSettings,
        max_message_size: usize,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<ClusterRegistry>> {
        let client = redis::Client::open(settings.redis_url.as_str()).map_err(|error| {
            anyhow::anyhow!("invalid cluster URL {}: {error}", settings.redis_url)
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let redis = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let link = Arc::new(Link::new(redis, settings.timeout, Arc::clone(&metrics)));
        let (changes, written) = Changes::new();
        let registry = Arc::new(ClusterRegistry {
            local: LocalRegistry::new(max_message_size),
            link: Arc::clone(&link),
            client,
            lease: Lease::new(settings.node_expiry),
            settings,
            tag: node_tag(),
            max_message_size,
            metrics,
            changes,
            pending: Pending::default(),
            fanout: FanOut::default(),
            handoffs: handoff::Handoffs::default(),
            stale: AtomicBool::new(true),
            retired: tokio::sync::Mutex::new(false),
            beaten: tokio::sync::Notify::new(),
        });
        registry.metrics.cluster_fenced(true);
        tokio::spawn(link.probe());
        tokio::spawn(heartbeat::run(Arc::clone(&registry)));
        tokio::spawn(heartbeat::upkeep(Arc::clone(&registry)));
        tokio::spawn(heartbeat::fence(Arc::clone(&registry)));
        tokio::spawn(writer::run(Arc::clone(&registry), written));
        tokio::spawn(inbox::run(Arc::clone(&registry)));
        tracing::info!(node = %registry.node(), "cluster node starting");
        Ok(registry)
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.settings.node_id
    }

    /// Marks that Redis missed changes: the next heartbeat reconciles.
    fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }

    /// Queues a registration change for Redis, without waiting for it.
    fn record(&self, change: Change) {
        if !self.changes.push(change) {
            tracing::warn!("cluster: the registration queue is full; registering again later");
            self.mark_stale();
        }
    }

    /// Publishes a notice on the broadcast channel, every node's.
    async fn notify(&self, notice: Delivery) {
        let publish = redis::Cmd::publish(keys::BROADCAST, Envelope::told(notice).encode());
        let _ = self.link.query::<()>(publish).await;
    }

    /// Adds a connection held here to a group, and tells Redis.
    async fn join_held(&self, group: &str, id: &ConnectionId) -> Result<(), SendError> {
        self.local.join(group, id).await?;
        self.record(Change::Member {
            group: group.to_owned(),
            id: id.clone(),
            joined: true,
        });
        Ok(())
    }

    /// Removes a connection held here from a group, and tells Redis.
    async fn leave_held(&self, group: &str, id: &ConnectionId) {
        self.local.leave(group, id).await;
        self.record(Change::Member {
            group: group.to_owned(),
            id: id.clone(),
            joined: false,
        });
    }

    /// The Redis commands that make `connection` known cluster-wide.
    fn registration(&self, pipe: &mut redis::Pipeline, connection: &Connection) {
        let id = connection.id();
        let peer = connection.peer();
        let fields = [
            ("node", self.node().to_owned()),
            ("connectedAt", connection.connected_at().to_string()),
            ("lastActiveAt", connection.last_active_at().to_string()),
            ("sourceIp", peer.source_ip.clone()),
            ("userAgent", peer.user_agent.clone()),
            ("context", context_json(connection)),
        ];
        pipe.hset_multiple(keys::connection(id), &fields)
            .ignore()
            .zadd(keys::CONNECTIONS, id.as_str(), 0)
            .ignore()
            .sadd(keys::node_connections(self.node()), id.as_str())
            .ignore();
        for group in connection.groups() {
            pipe.zadd(keys::group_members(&group), id.as_str(), 0)
                .ignore();
        }
    }

    /// The Redis commands that forget a connection of this node.
    fn unregistration(&self, pipe: &mut redis::Pipeline, id: &ConnectionId, groups: &[String]) {
        for group in groups {
            pipe.zrem(keys::group_members(group), id.as_str()).ignore();
        }
        pipe.del(keys::connection(id))
            .ignore()
            .zrem(keys::CONNECTIONS, id.as_str())
            .ignore()
            .srem(keys::node_connections(self.node()), id.as_str())
            .ignore();
        // One that moved here from another node (a resumed session).
        if id.tag() != Some(self.tag.as_str()) {
            pipe.hdel(keys::MOVED, id.as_str()).ignore();
        }
    }

    /// Forgets what is known of other nodes' groups (a notice may have been
    /// missed) and learns it again for the groups this node has members in,
    /// so that their group sends need no Redis.
    fn relearn_groups(self: &Arc<Self>) {
        self.fanout.forget_all();
        let registry = Arc::clone(self);
        tokio::spawn(async move {
            for group in registry.local.group_names() {
                let _ = registry.group_nodes(&group).await;
            }
        });
    }

    /// The other nodes with members in `group`, from the cache or Redis.
    async fn group_nodes(&self, group: &str) -> Result<Vec<String>, SendError> {
        if let Some(nodes) = self.fanout.nodes(group) {
            return Ok(nodes);
        }
        let generation = self.fanout.generation();
        let nodes: HashMap<String, String> = self
            .link
            .query(redis::Cmd::hgetall(keys::group_nodes(group)))
            .await?;
        let nodes: HashSet<String> = nodes
            .into_keys()
            .filter(|node| node != self.node())
            .collect();
        self.fanout.learn(group, nodes.clone(), generation);
        Ok(nodes.into_iter().collect())
    }
}

/// A connection's context as the JSON object Redis keeps.
fn context_json(connection: &Connection) -> String {
    let context: HashMap<&str, &str> = connection
        .context()
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    serde_json::to_string(&context).unwrap_or_default()
}
