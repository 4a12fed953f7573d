//! Named sets of connections, for rooms, topics and broadcast.
//!
//! A group exists while it has members; a connection leaves every group when
//! it disconnects.

use crate::host::groups as host;
use crate::{Payload, SendError};

/// Adds a connection to a group. Fails with [`SendError::Gone`] for an
/// unknown connection.
pub fn join(group: &str, id: &str) -> Result<(), SendError> {
    host::join(group, id)
}

/// Removes a connection from a group; removing a non-member does nothing.
pub fn leave(group: &str, id: &str) {
    host::leave(group, id);
}

/// Sends to every member of a group, except `exclude` when given. Members whose
/// queue is full miss this one message; the others are not held back.
pub fn send(
    group: &str,
    payload: impl Into<Payload>,
    exclude: Option<&str>,
) -> Result<(), SendError> {
    host::send(group, payload.into(), exclude)
}

/// Sends to every connection of the gateway, except `exclude` when given.
pub fn broadcast(payload: impl Into<Payload>, exclude: Option<&str>) -> Result<(), SendError> {
    host::broadcast(payload.into(), exclude)
}

/// A page of a group's members, in a stable order: at most `limit` ids, starting
/// after `cursor` (`None` for the first page).
pub fn members(group: &str, cursor: Option<&str>, limit: u32) -> Page {
    host::members(group, cursor, limit)
}

/// One page of a group's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Connection ids.
    pub ids: Vec<String>,
    /// Pass this to [`members`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
