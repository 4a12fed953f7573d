//! The embedded registry: this process's connections, in memory.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use dashmap::DashMap;
use tokio_tungstenite::tungstenite::Message;

use super::{ConnectionInfo, GroupPage, MAX_PAGE, Page, Registry};
use crate::connection::{CloseInitiator, Connection, ConnectionId, SendError};

/// Connections and groups of one gateway process.
#[derive(Debug)]
pub struct LocalRegistry {
    connections: DashMap<ConnectionId, Arc<Connection>>,
    /// Every registered id in order, for the paginated listing.
    ids: RwLock<BTreeSet<ConnectionId>>,
    /// Members in id order, so pages are stable and a cursor is just an id.
    groups: DashMap<String, BTreeSet<ConnectionId>>,
    max_message_size: usize,
}

impl LocalRegistry {
    /// An empty registry refusing messages over `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        LocalRegistry {
            connections: DashMap::new(),
            ids: RwLock::default(),
            groups: DashMap::new(),
            max_message_size,
        }
    }

    /// The connection with this id if this process holds it, even while it
    /// is closing.
    pub fn lookup(&self, id: &ConnectionId) -> Option<Arc<Connection>> {
        self.connections
            .get(id)
            .map(|entry| Arc::clone(entry.value()))
    }

    /// Every connection this process holds now.
    pub fn snapshot(&self) -> Vec<Arc<Connection>> {
        self.connections
            .iter()
            .map(|entry| Arc::clone(entry.value()))
            .collect()
    }

    /// Queues `message` for `connection`, one this process holds (found with
    /// [`Self::lookup`]), as [`Registry::send`] does.
    pub fn send_to(&self, connection: &Connection, message: Message) -> Result<(), SendError> {
        self.check_size(&message)?;
        open(connection)?.send(message)
    }

    /// Closes `connection`, one this process holds, as [`Registry::close`] does.
    pub fn close_held(
        connection: &Connection,
        code: u16,
        reason: &str,
        initiator: CloseInitiator,
    ) -> Result<(), SendError> {
        open(connection)?.close(code, reason, initiator);
        Ok(())
    }

    /// What is known about `connection`, one this process holds, as
    /// [`Registry::info`] says it.
    pub fn info_of(connection: &Connection) -> Result<ConnectionInfo, SendError> {
        let connection = open(connection)?;
        Ok(ConnectionInfo {
            id: connection.id().clone(),
            connected_at: connection.connected_at(),
            last_active_at: connection.last_active_at(),
            source_ip: connection.peer().source_ip.clone(),
            user_agent: connection.peer().user_agent.clone(),
            context: connection.context().to_vec(),
            groups: connection.groups(),
        })
    }

    /// Whether any connection this process holds is in `group`.
    pub fn has_members(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// The groups in which this process holds members.
    pub fn group_names(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|entry| entry.key().clone())
            .collect()
    }

    fn get(&self, id: &ConnectionId) -> Result<Arc<Connection>, SendError> {
        self.connections
            .get(id)
            .filter(|entry| !entry.close_state().is_requested())
            .map(|entry| Arc::clone(entry.value()))
            .ok_or(SendError::Gone)
    }

    fn check_size(&self, message: &Message) -> Result<(), SendError> {
        if message.len() > self.max_message_size {
            return Err(SendError::PayloadTooLarge);
        }
        Ok(())
    }

    /// Queues `message` for each of `targets`; a member that cannot take it
    /// (full queue, closing) misses this one message without holding back others.
    fn fan_out(&self, targets: impl Iterator<Item = Arc<Connection>>, message: &Message) {
        for connection in targets {
            if let Err(error) = connection.send(message.clone()) {
                tracing::debug!(connection = %connection.id(), %error, "fan-out skipped a connection");
            }
        }
    }
}

/// `connection`, unless it is closing (then gone for senders).
fn open(connection: &Connection) -> Result<&Connection, SendError> {
    match connection.close_state().is_requested() {
        true => Err(SendError::Gone),
        false => Ok(connection),
    }
}

#[async_trait]
impl Registry for LocalRegistry {
    async fn register(&self, connection: Arc<Connection>) {
        let id = connection.id().clone();
        self.connections.insert(id.clone(), connection);
        self.ids.write().expect("ids lock").insert(id);
    }

    async fn unregister(&self, id: &ConnectionId) {
        let Some((_, connection)) = self.connections.remove(id) else {
            return;
        };
        self.ids.write().expect("ids lock").remove(id);
        for group in connection.take_groups() {
            self.groups.remove_if_mut(&group, |_, members| {
                members.remove(id);
                members.is_empty()
            });
        }
    }

    async fn send(&self, id: &ConnectionId, message: Message) -> Result<(), SendError> {
        self.check_size(&message)?;
        self.get(id)?.send(message)
    }

    async fn close(
        &self,
        id: &ConnectionId,
        code: u16,
        reason: &str,
        initiator: CloseInitiator,
    ) -> Result<(), SendError> {
        self.get(id)?.close(code, reason, initiator);
        Ok(())
    }

    async fn close_local(&self, code: u16, reason: &str, initiator: CloseInitiator) {
        for entry in self.connections.iter() {
            entry.value().close(code, reason, initiator);
        }
    }

    async fn info(&self, id: &ConnectionId) -> Result<ConnectionInfo, SendError> {
        let connection = self.get(id)?;
        Self::info_of(&connection)
    }

    async fn join(&self, group: &str, id: &ConnectionId) -> Result<(), SendError> {
        let connection = self.get(id)?;
        if connection.remember_group(group) {
            self.groups
                .entry(group.to_owned())
                .or_default()
                .insert(id.clone());
            // It may have been unregistered meanwhile: leave no stale member.
            if !self.connections.contains_key(id) {
                self.leave(group, id).await;
                return Err(SendError::Gone);
            }
        }
        Ok(())
    }

    async fn leave(&self, group: &str, id: &ConnectionId) {
        if let Ok(connection) = self.get(id) {
            connection.forget_group(group);
        }
        self.groups.remove_if_mut(group, |_, members| {
            members.remove(id);
            members.is_empty()
        });
    }

    async fn send_to_group(
        &self,
        group: &str,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        self.check_size(&message)?;
        // Collect first: no map lock is held while queueing.
        let targets: Vec<Arc<Connection>> = match self.groups.get(group) {
            Some(members) => members
                .iter()
                .filter(|id| Some(*id) != exclude)
                .filter_map(|id| self.get(id).ok())
                .collect(),
            None => return Ok(()),
        };
        self.fan_out(targets.into_iter(), &message);
        Ok(())
    }

    async fn broadcast(
        &self,
        message: Message,
        exclude: Option<&ConnectionId>,
    ) -> Result<(), SendError> {
        self.check_size(&message)?;
        let targets: Vec<Arc<Connection>> = self
            .connections
            .iter()
            .filter(|entry| Some(entry.key()) != exclude)
            .map(|entry| Arc::clone(entry.value()))
            .collect();
        self.fan_out(targets.into_iter(), &message);
        Ok(())
    }

    async fn members(&self, group: &str, cursor: Option<&str>, limit: u32) -> Page {
        match self.groups.get(group) {
            Some(members) => page_after(&members, cursor, limit),
            None => Page::default(),
        }
    }

    async fn connections(&self, cursor: Option<&str>, limit: u32) -> Page {
        page_after(&self.ids.read().expect("ids lock"), cursor, limit)
    }

    async fn groups(&self, cursor: Option<&str>, limit: u32) -> GroupPage {
        let mut names = self.group_names();
        names.sort_unstable();
        GroupPage::of(names.iter().map(String::as_str), cursor, limit)
    }
}

/// The ids of `set` after `cursor`, at most `limit` (clamped to 1-1000) of
/// them; the cursor of the next page is the last id of this one.
fn page_after(set: &BTreeSet<ConnectionId>, cursor: Option<&str>, limit: u32) -> Page {
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    let start = cursor.map_or(Bound::Unbounded, Bound::Excluded);
    let mut rest = set.range::<str, _>((start, Bound::Unbounded));
    let ids: Vec<ConnectionId> = rest.by_ref().take(limit).cloned().collect();
    let next_cursor = match rest.next() {
        Some(_) => ids.last().map(ToString::to_string),
        None => None,
    };
    Page { ids, next_cursor }
}
