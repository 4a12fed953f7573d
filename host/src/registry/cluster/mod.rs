//! The clustered registry: this process's [`LocalRegistry`] plus Redis, so
//! that a send, close, group operation or listing issued on any node reaches
//! connections wherever they live.
//!
//! - A connection held here is served by the local registry directly, so local
//!   traffic never waits for Redis and keeps working without it.
//! - Any other id is looked up in Redis (`id → node`) and the request is
//!   published on that node's inbox channel ([`delivery`]), atomically with the
//!   lookup ([`keys::ROUTE`]); an id that is unknown, or whose node has stopped
//!   its heartbeat, is gone.
//! - Groups live in Redis with a member count per node; a group send goes to
//!   the local members and then only to the inboxes of nodes with members.
//! - [`heartbeat`] keeps this node alive in Redis, forgets dead nodes, and
//!   re-registers this node's connections after Redis was lost.
//! - [`inbox`] carries out what other nodes publish for this node.
//!
//! Sends to another node are answered once Redis has handed them to that
//! node: a connection that closes in the meantime loses them silently, as a
//! local connection loses what it had queued.

mod delivery;
mod heartbeat;
mod inbox;
mod keys;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio_tungstenite::tungstenite::Message;

use self::delivery::{Delivery, Frame};
use super::{ConnectionInfo, LocalRegistry, Page, Registry, SendError};
use crate::connection::{Connection, ConnectionId};
use crate::event::CloseInitiator;
use crate::metrics::Metrics;

/// How long one Redis request may take before the cluster counts as unreachable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The most ids one page of a listing holds (as the local registry).
const MAX_PAGE: u32 = 1000;

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
}

/// A registry shared by every gateway process connected to one Redis.
pub struct ClusterRegistry {
    local: LocalRegistry,
    redis: ConnectionManager,
    client: redis::Client,
    settings: ClusterSettings,
    max_message_size: usize,
    metrics: Arc<Metrics>,
    /// Whether Redis answered the last heartbeat; while it does not, cross-node
    /// operations fail at once instead of waiting for a timeout.
    reachable: AtomicBool,
    /// Whether Redis missed a registration change, so that the next heartbeat
    /// must register this node's connections again.
    stale: AtomicBool,
}

impl ClusterRegistry {
    /// Connects to Redis (lazily: the node starts, and serves its own
    /// connections, even while Redis is down) and starts the heartbeat and
    /// the inbox listener.
    pub fn start(
        settings: ClusterSettings,
        max_message_size: usize,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<ClusterRegistry>> {
        let client = redis::Client::open(settings.redis_url.as_str()).map_err(|error| {
            anyhow::anyhow!("invalid cluster URL {}: {error}", settings.redis_url)
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let redis = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let registry = Arc::new(ClusterRegistry {
            local: LocalRegistry::new(max_message_size),
            redis,
            client,
            settings,
            max_message_size,
            metrics,
            reachable: AtomicBool::new(false),
            stale: AtomicBool::new(true),
        });
        tokio::spawn(heartbeat::run(Arc::clone(&registry)));
        tokio::spawn(inbox::run(Arc::clone(&registry)));
        tracing::info!(node = %registry.node(), "cluster node starting");
        Ok(registry)
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.settings.node_id
    }

    /// Whether Redis answered the last heartbeat.
    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Runs a Redis request with a bounded wait; any failure makes the
    /// operation [`SendError::Unavailable`].
    async fn query<T: redis::FromRedisValue>(
        &self,
        request: impl Into<Request>,
    ) -> Result<T, SendError> {
        if !self.is_reachable() {
            return Err(SendError::Unavailable);
        }
        let mut redis = self.redis.clone();
        let request = async {
            match request.into() {
                Request::One(command) => command.query_async(&mut redis).await,
                Request::Many(pipeline) => pipeline.query_async(&mut redis).await,
            }
        };
        match tokio::time::timeout(REDIS_TIMEOUT, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                tracing::warn!(%error, "cluster request failed");
                Err(SendError::Unavailable)
            }
            Err(_) => {
                tracing::warn!("cluster request timed out");
                Err(SendError::Unavailable)
            }
        }
    }

    /// Publishes `delivery` to the node holding `id` (see [`keys::ROUTE`]).
    async fn route(&self, id: &ConnectionId, delivery: Delivery) -> Result<(), SendError> {
        let mut route = keys::eval(keys::ROUTE, &[&keys::connection(id)]);
        route
            .arg(self.node())
            .arg(keys::NODE_PREFIX)
            .arg(keys::INBOX_PREFIX)
            .arg(delivery.encode());
        match self.query::<i64>(route).await? {
            -1 => Err(SendError::Gone),
            0 => Err(SendError::Unavailable),
            _ => Ok(()),
        }
    }

    /// Runs a registration change in Redis; if Redis cannot take it now, the
    /// next successful heartbeat registers everything again.
    async fn record(&self, change: redis::Pipeline) {
        if self.query::<()>(change).await.is_err() {
            self.stale.store(true, Ordering::Relaxed);
        }
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
            pipe.add_command(keys::membership(keys::JOIN, &group, id, self.node()))
                .ignore();
        }
    }

    /// The Redis commands that forget a connection of this node.
    fn unregistration(&self, pipe: &mut redis::Pipeline, id: &ConnectionId, groups: &[String]) {
        for group in groups {
            pipe.add_command(keys::membership(keys::LEAVE, group, id, self.node()))
                .ignore();
        }
        pipe.del(keys::connection(id))
            .ignore()
            .zrem(keys::CONNECTIONS, id.as_str())
            .ignore()
            .srem(keys::node_connections(self.node()), id.as_str())
            .ignore();
    }

    /// A lexical page of a Redis sorted set after `cursor`.
    async fn page(&self, key: String, cursor: Option<&str>, limit: u32) -> Result<Page, SendError> {
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let start = cursor.map_or("-".to_owned(), |cursor| format!("({cursor}"));
        let mut range = redis::cmd("ZRANGEBYLEX");
        range
            .arg(key)
            .arg(start)
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(limit + 1);
        let mut ids: Vec<String> = self.query(range).await?;
        let more = ids.len() > limit;
        ids.truncate(limit);
        let next_cursor = more.then(|| ids.last().cloned()).flatten();
        Ok(Page {
            ids: ids.into_iter().map(ConnectionId::from).collect(),
            next_cursor,
        })
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

/// What can run against Redis: one command or a pipeline.
enum Request {
    One(redis::Cmd),
    Many(redis::Pipeline),
}

impl From<redis::Cmd> for Request {
    fn from(command: redis::Cmd) -> Self {
        Request::One(command)
    }
}

impl From<redis::Pipeline> for Request {
    fn from(pipeline: redis::Pipeline) -> Self {
        Request::Many(pipeline)
    }
}

#[async_trait]
impl Registry for ClusterRegistry {
    async fn register(&self, connection: Arc<Connection>) {
        let mut pipe = redis::pipe();
        self.registration(&mut pipe, &connection);
        self.local.register(connection).await;
        self.record(pipe).await;
    }

    async fn unregister(&self, id: &ConnectionId) {
        let groups = self
            .local
            .lookup(id)
            .map(|connection| connection.groups())
            .unwrap_or_default();
        self.local.unregister(id).await;
        let mut pipe = redis::pipe();
        self.unregistration(&mut pipe, id, &groups);
        self.record(pipe).await;
    }

    async fn send(&self, id: &ConnectionId, message: Message) -> Result<(), SendError> {
        if let Some(connection) = self.local.lookup(id) {
            return self.local.send_to(&connection, message);
        }
        let frame = self.check_size(&message)?;
        let id_text = id.to_string();
        self.route(id, Delivery::Send { id: id_text, frame }).await
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
        self.route(id, delivery).await
    }

    async fn close_local(&self, code: u16, reason: &str, initiator: CloseInitiator) {
        self.local.close_local(code, reason, initiator).await;
    }

    async fn info(&self, id: &ConnectionId) -> Result<ConnectionInfo, SendError> {
        if let Some(connection) = self.local.lookup(id) {
            return LocalRegistry::info_of(&connection);
        }
        let mut info = keys::eval(keys::INFO, &[&keys::connection(id)]);
        info.arg(keys::NODE_PREFIX);
        let fields: Option<HashMap<String, String>> = self.query(info).await?;
        let mut fields = fields.ok_or(SendError::Gone)?;
        let mut take = |name: &str| fields.remove(name).unwrap_or_default();
        let context: HashMap<String, String> =
            serde_json::from_str(&take("context")).unwrap_or_default();
        Ok(ConnectionInfo {
            id: id.clone(),
            connected_at: take("connectedAt").parse().unwrap_or_default(),
            last_active_at: take("lastActiveAt").parse().unwrap_or_default(),
            source_ip: take("sourceIp"),
            user_agent: take("userAgent"),
            context: context.into_iter().collect(),
        })
    }

    async fn join(&self, group: &str, id: &ConnectionId) -> Result<(), SendError> {
        if self.local.lookup(id).is_some() {
            self.local.join(group, id).await?;
            let mut pipe = redis::pipe();
            pipe.add_command(keys::membership(keys::JOIN, group, id, self.node()));
            self.record(pipe).await;
            return Ok(());
        }
        // Visible cluster-wide before the owner hears of it; undone if the
        // connection turns out to be gone.
        let owner: Option<String> = self
            .query(redis::Cmd::hget(keys::connection(id), "node"))
            .await?;
        let owner = owner.ok_or(SendError::Gone)?;
        self.query::<()>(keys::membership(keys::JOIN, group, id, &owner))
            .await?;
        let delivery = Delivery::Join {
            group: group.to_owned(),
            id: id.to_string(),
        };
        let routed = self.route(id, delivery).await;
        if routed.is_err() {
            let _ = self
                .query::<()>(keys::membership(keys::LEAVE, group, id, &owner))
                .await;
        }
        routed
    }

    async fn leave(&self, group: &str, id: &ConnectionId) {
        let owner = match self.local.lookup(id) {
            Some(_) => {
                self.local.leave(group, id).await;
                Some(self.node().to_owned())
            }
            None => {
                let delivery = Delivery::Leave {
                    group: group.to_owned(),
                    id: id.to_string(),
                };
                let _ = self.route(id, delivery).await;
                self.query(redis::Cmd::hget(keys::connection(id), "node"))
                    .await
                    .ok()
                    .flatten()
            }
        };
        if let Some(owner) = owner {
            let mut pipe = redis::pipe();
            pipe.add_command(keys::membership(keys::LEAVE, group, id, &owner));
            self.record(pipe).await;
        }
    }

    async fn send_to_group(
        &self,
        group: &str,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        let frame = self.check_size(&message)?;
        self.local.send_to_group(group, message, exclude).await?;
        let nodes: HashMap<String, i64> = self
            .query(redis::Cmd::hgetall(keys::group_nodes(group)))
            .await?;
        let delivery = Delivery::Group {
            group: group.to_owned(),
            frame,
            exclude: exclude.map(ToString::to_string),
        }
        .encode();
        let mut pipe = redis::pipe();
        for (node, _) in nodes
            .iter()
            .filter(|(node, members)| *node != self.node() && **members > 0)
        {
            pipe.publish(keys::inbox(node), &delivery).ignore();
        }
        self.query(pipe).await
    }

    async fn broadcast(
        &self,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        let frame = self.check_size(&message)?;
        self.local.broadcast(message, exclude).await?;
        let delivery = Delivery::Broadcast {
            origin: self.node().to_owned(),
            frame,
            exclude: exclude.map(ToString::to_string),
        };
        self.query(redis::Cmd::publish(keys::BROADCAST, delivery.encode()))
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
}
