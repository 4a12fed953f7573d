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

mod delivery;
mod fanout;
mod heartbeat;
mod inbox;
mod keys;
mod lease;
mod link;
mod requests;
mod writer;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio_tungstenite::tungstenite::Message;

pub use self::lease::FENCED;

use self::delivery::{Ask, Delivery, Envelope, Frame};
use self::fanout::FanOut;
use self::lease::Lease;
use self::link::Link;
use self::requests::{Answer, Pending};
use self::writer::{Change, Changes};
use super::{ConnectionInfo, LocalRegistry, Page, Registry, SendError};
use crate::connection::CloseInitiator;
use crate::connection::{Connection, ConnectionId, node_tag, now_ms};
use crate::observability::metrics::Metrics;

/// The most ids one page of a listing holds (as the local registry).
const MAX_PAGE: u32 = 1000;

/// How many ids a listing scans past those of dead nodes, per id it returns.
const SCAN_PER_ID: u32 = 10;

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

    /// Whether Redis answers (the circuit breaker is closed).
    pub fn is_reachable(&self) -> bool {
        self.link.is_closed()
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

    /// Asks the node holding `id` to carry out `delivery`, and waits for its
    /// answer at most the cluster timeout: `Unavailable` then, and the owner,
    /// past the request's deadline, will not carry it out.
    async fn ask(&self, id: &ConnectionId, delivery: Delivery) -> Answer {
        let timeout = self.settings.timeout;
        let mut waiter = self.pending.open();
        let ask = Ask {
            request: waiter.id,
            reply_to: self.node().to_owned(),
            // The owner stops taking it a fifth of the timeout before the
            // caller stops waiting, which leaves time for the answer.
            accept_by: now_ms() + (timeout * 4 / 5).as_millis() as u64,
        };
        let envelope = Envelope {
            ask: Some(ask),
            delivery,
        };
        let asked = async {
            // Not an id a cluster node handed out: never was.
            let tag = id.tag().ok_or(SendError::Gone)?;
            let mut route = keys::eval(keys::ROUTE, &keys::ROUTE_KEYS);
            route
                .arg(self.node())
                .arg(keys::NODE_PREFIX)
                .arg(keys::INBOX_PREFIX)
                .arg(envelope.encode())
                .arg(tag);
            match self.link.query::<i64>(route).await? {
                -1 => Err(SendError::Gone),
                0 => Err(SendError::Unavailable),
                _ => waiter.answer().await,
            }
        };
        tokio::time::timeout(timeout, asked)
            .await
            .unwrap_or(Err(SendError::Unavailable))
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

    fn check_size(&self, message: &Message) -> Result<Frame, SendError> {
        if message.len() > self.max_message_size {
            return Err(SendError::PayloadTooLarge);
        }
        Frame::of(message).ok_or(SendError::Gone)
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
    }

    /// A page of a lexical sorted set of connection ids after `cursor`,
    /// without the ids of dead nodes ([`keys::LIST`]).
    async fn page(&self, key: String, cursor: Option<&str>, limit: u32) -> Result<Page, SendError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let start = cursor.map_or("-".to_owned(), |cursor| format!("({cursor}"));
        let mut list = keys::eval(keys::LIST, &[&key]);
        list.arg(start)
            .arg(limit)
            .arg(keys::NODE_PREFIX)
            .arg(keys::CONNECTION_PREFIX)
            .arg(limit * SCAN_PER_ID + 100);
        let (mut ids, scanned_to): (Vec<String>, String) = self.link.query(list).await?;
        let more = ids.len() > limit as usize;
        ids.truncate(limit as usize);
        let next_cursor = match (more, scanned_to.is_empty()) {
            (true, _) => ids.last().cloned(),
            (false, false) => Some(scanned_to),
            (false, true) => None,
        };
        Ok(Page {
            ids: ids.into_iter().map(ConnectionId::from).collect(),
            next_cursor,
        })
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

#[async_trait]
impl Registry for ClusterRegistry {
    async fn register(&self, connection: Arc<Connection>) {
        self.local.register(Arc::clone(&connection)).await;
        self.record(Change::Register(Arc::clone(&connection)));
        // Fenced meanwhile: the fence may have closed the others already.
        if self.lease.is_fenced() {
            let (code, reason) = FENCED;
            connection.close(code, reason, CloseInitiator::Server);
        }
    }

    async fn unregister(&self, id: &ConnectionId) {
        let groups = self
            .local
            .lookup(id)
            .map(|connection| connection.groups())
            .unwrap_or_default();
        self.local.unregister(id).await;
        self.record(Change::Unregister {
            id: id.clone(),
            groups,
        });
    }

    async fn send(&self, id: &ConnectionId, message: Message) -> Result<(), SendError> {
        if let Some(connection) = self.local.lookup(id) {
            return self.local.send_to(&connection, message);
        }
        let frame = self.check_size(&message)?;
        let id_text = id.to_string();
        self.ask(id, Delivery::Send { id: id_text, frame })
            .await
            .map(drop)
    }

    async fn close(
        &self,
        id: &ConnectionId,
        code: u16,
        reason: &str,
        initiator: CloseInitiator,
    ) -> Result<(), SendError> {
        if let Some(connection) = self.local.lookup(id) {
            return LocalRegistry::close_held(&connection, code, reason, initiator);
        }
        let delivery = Delivery::Close {
            id: id.to_string(),
            code,
            reason: reason.to_owned(),
            by_handler: initiator == CloseInitiator::Handler,
        };
        self.ask(id, delivery).await.map(drop)
    }

    async fn close_local(&self, code: u16, reason: &str, initiator: CloseInitiator) {
        self.local.close_local(code, reason, initiator).await;
    }

    async fn info(&self, id: &ConnectionId) -> Result<ConnectionInfo, SendError> {
        if let Some(connection) = self.local.lookup(id) {
            return LocalRegistry::info_of(&connection);
        }
        let delivery = Delivery::Info { id: id.to_string() };
        let identity = self.ask(id, delivery).await?;
        identity
            .map(|identity| identity.info(id.clone()))
            .ok_or(SendError::Unavailable)
    }

    async fn join(&self, group: &str, id: &ConnectionId) -> Result<(), SendError> {
        if self.local.lookup(id).is_some() {
            return self.join_held(group, id).await;
        }
        // Listed cluster-wide before the owner answers; undone unless it
        // joined.
        let members = keys::group_members(group);
        self.link
            .query::<()>(redis::Cmd::zadd(&members, id.as_str(), 0))
            .await?;
        let delivery = Delivery::Join {
            group: group.to_owned(),
            id: id.to_string(),
        };
        let asked = self.ask(id, delivery).await.map(drop);
        if asked.is_err() {
            let _ = self
                .link
                .query::<()>(redis::Cmd::zrem(&members, id.as_str()))
                .await;
        }
        asked
    }

    async fn leave(&self, group: &str, id: &ConnectionId) {
        if self.local.lookup(id).is_some() {
            return self.leave_held(group, id).await;
        }
        let delivery = Delivery::Leave {
            group: group.to_owned(),
            id: id.to_string(),
        };
        if self.ask(id, delivery).await.is_ok() {
            return;
        }
        // The owner did not answer: unlisted anyway (it is gone, or its
        // node registers its groups again when it returns).
        let _ = self
            .link
            .query::<()>(redis::Cmd::zrem(keys::group_members(group), id.as_str()))
            .await;
    }

    async fn send_to_group(
        &self,
        group: &str,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        let frame = self.check_size(&message)?;
        self.local.send_to_group(group, message, exclude).await?;
        let nodes = self.group_nodes(group).await?;
        if nodes.is_empty() {
            return Ok(());
        }
        let delivery = Envelope::told(Delivery::Group {
            group: group.to_owned(),
            frame,
            exclude: exclude.map(ToString::to_string),
        })
        .encode();
        let mut pipe = redis::pipe();
        for node in &nodes {
            pipe.publish(keys::inbox(node), &delivery).ignore();
        }
        self.link.query(pipe).await
    }

    async fn broadcast(
        &self,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        let frame = self.check_size(&message)?;
        self.local.broadcast(message, exclude).await?;
        let delivery = Envelope::told(Delivery::Broadcast {
            origin: self.node().to_owned(),
            frame,
            exclude: exclude.map(ToString::to_string),
        });
        self.link
            .query(redis::Cmd::publish(keys::BROADCAST, delivery.encode()))
            .await
    }

    async fn members(&self, group: &str, cursor: Option<&str>, limit: u32) -> Page {
        match self.page(keys::group_members(group), cursor, limit).await {
            Ok(page) => page,
            Err(_) => {
                tracing::warn!(
                    group,
                    "cluster unreachable: listing this node's members only"
                );
                self.local.members(group, cursor, limit).await
            }
        }
    }

    async fn connections(&self, cursor: Option<&str>, limit: u32) -> Page {
        match self.page(keys::CONNECTIONS.to_owned(), cursor, limit).await {
            Ok(page) => page,
            Err(_) => {
                tracing::warn!("cluster unreachable: listing this node's connections only");
                self.local.connections(cursor, limit).await
            }
        }
    }

    fn new_id(&self) -> ConnectionId {
        ConnectionId::tagged(&self.tag)
    }

    fn unavailable(&self) -> Option<&'static str> {
        self.lease
            .is_fenced()
            .then_some("this node holds no cluster lease (Redis cannot be reached)")
    }

    async fn retire(&self) {
        heartbeat::retire(self).await;
    }
}
