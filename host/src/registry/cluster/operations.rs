//! The [`Registry`] operations of a cluster node: a connection held here is
//! served by the local registry; any other is asked of the node that holds
//! it, through its inbox, within the cluster timeout; group sends and
//! broadcasts reach the local members, then the other nodes' inboxes; and
//! listings page through what Redis holds, falling back to this node's own
//! connections while Redis cannot be reached.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_tungstenite::tungstenite::Message;

use super::delivery::{Delivery, Envelope, Frame};
use super::handoff::{Turn, claim, park, parked, scripts};
use super::lease::FENCED;
use super::writer::Change;
use super::{ClusterRegistry, heartbeat, keys};
use crate::connection::{CloseInitiator, Connection, ConnectionId, SendError, Session};
use crate::registry::{
    ConnectionInfo, EndedSession, GroupPage, LocalRegistry, MAX_PAGE, Page, ParkedSession, Registry,
};

/// How many ids a listing scans past those of dead nodes, per id it returns.
const SCAN_PER_ID: u32 = 10;
impl ClusterRegistry {
    /// Runs a group send's or broadcast's script; one that reaches this
    /// node's connections through its inbox is done once the inbox is past it.
    async fn fan_out(&self, script: redis::Cmd, turn: &Turn<'_>) -> Result<(), SendError> {
        self.link.query::<()>(script).await?;
        if turn.through_inbox {
            self.barrier().await;
        }
        Ok(())
    }

    /// The frame that carries `message` across Redis, if it is not too large.
    fn check_size(&self, message: &Message) -> Result<Frame, SendError> {
        if message.len() > self.max_message_size {
            return Err(SendError::PayloadTooLarge);
        }
        Frame::of(message).ok_or(SendError::Gone)
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

    /// Every group with members on any node: the union of the nodes' group
    /// sets (a dead node's until it is swept), in ascending order.
    async fn group_names(&self) -> Result<Vec<String>, SendError> {
        let nodes: Vec<String> = self.link.query(redis::Cmd::smembers(keys::NODES)).await?;
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let sets: Vec<String> = nodes.iter().map(|node| keys::node_groups(node)).collect();
        let mut names: Vec<String> = self.link.query(redis::Cmd::sunion(sets)).await?;
        names.sort_unstable();
        Ok(names)
    }
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
            let session = connection.session();
            if session.is_none() {
                return self.local.send_to(&connection, message);
            }
            match self.local.send_to(&connection, message.clone()) {
                // Sealed for another node: its parked state takes it.
                Err(SendError::Gone) if session.is_some_and(Session::is_parked) => {}
                sent => return sent,
            }
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
        let turn = self.handoffs.turn().await;
        if !turn.through_inbox {
            self.local.send_to_group(group, message, exclude).await?;
        }
        let nodes = self.group_nodes(group).await?;
        if nodes.is_empty() && !turn.through_inbox {
            return Ok(());
        }
        let entry = parked::entry(&frame);
        let delivery = Envelope::told(Delivery::Group {
            group: group.to_owned(),
            frame,
            exclude: exclude.map(ToString::to_string),
        });
        let (nodes, parked) = (keys::group_nodes(group), keys::group_parked(group));
        let mut send = keys::eval(&scripts::GROUP, &[&nodes, &parked, keys::MOVED]);
        send.arg(self.node())
            .arg(if turn.through_inbox { "1" } else { "0" })
            .arg(delivery.encode())
            .arg(entry)
            .arg(exclude.map_or("", ConnectionId::as_str));
        self.fan_out(send, &turn).await
    }

    async fn broadcast(
        &self,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        let frame = self.check_size(&message)?;
        let turn = self.handoffs.turn().await;
        // Through the inbox, this node's connections are no origin's.
        let origin = match turn.through_inbox {
            true => String::new(),
            false => {
                self.local.broadcast(message, exclude).await?;
                self.node().to_owned()
            }
        };
        let entry = parked::entry(&frame);
        let delivery = Envelope::told(Delivery::Broadcast {
            origin,
            frame,
            exclude: exclude.map(ToString::to_string),
        });
        let mut send = keys::eval(&scripts::BROADCAST, &[keys::PARKED, keys::MOVED]);
        send.arg(delivery.encode())
            .arg(entry)
            .arg(exclude.map_or("", ConnectionId::as_str));
        self.fan_out(send, &turn).await
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

    async fn groups(&self, cursor: Option<&str>, limit: u32) -> GroupPage {
        match self.group_names().await {
            Ok(names) => GroupPage::of(names.iter().map(String::as_str), cursor, limit),
            Err(_) => {
                tracing::warn!("cluster unreachable: listing this node's groups only");
                self.local.groups(cursor, limit).await
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

    async fn park_sessions(&self) -> usize {
        park::park_sessions(self).await
    }

    async fn claim(&self, token: &str, last_seq: u64) -> Result<Option<ParkedSession>, SendError> {
        claim::claim(self, token, last_seq).await
    }

    async fn adopt(&self, claim: u64, connection: Arc<Connection>) {
        claim::adopt(self, claim, connection).await;
    }

    async fn ended_sessions(&self) -> Vec<EndedSession> {
        parked::ended(self).await
    }
}
