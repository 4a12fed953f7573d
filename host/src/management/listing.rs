//! `GET /@connections[?cursor=…&limit=…&details=true&search=…]`: a page of
//! every connection's id, with what is known of each (`details`), or only
//! those a text matches (`search`), for people (the console) as much as for
//! programs.
//!
//! A search reads what the registry knows of each connection, page after
//! page, until it has `limit` matches or has looked at [`SEARCH_SCAN`]
//! connections; its `nextCursor` then says where to go on, so one request
//! stays bounded however many connections there are, and a page of a search
//! may hold fewer than `limit` (even none) before its end.

use futures_util::future::join_all;
use http::StatusCode;
use serde_json::{Value, json};

use super::endpoint::Query;
use super::response::{ApiError, ApiResponse, json};
use crate::clock::iso8601;
use crate::connection::ConnectionId;
use crate::registry::{ConnectionInfo, MAX_PAGE, Registry};

/// The most connections one search request looks at.
pub const SEARCH_SCAN: usize = 5000;

/// What a listing found: ids, and what is known of each when asked for.
struct Found {
    ids: Vec<ConnectionId>,
    details: Vec<ConnectionInfo>,
    next_cursor: Option<String>,
}

/// `GET /@connections`: a page of ids, with details or a search if asked.
pub async fn list(registry: &dyn Registry, query: &Query) -> Result<ApiResponse, ApiError> {
    let (cursor, limit) = query.page()?;
    let details = query.parse::<bool>("details")?.unwrap_or(false);
    let found = match query.get("search").filter(|text| !text.is_empty()) {
        Some(text) => search(registry, &text.to_lowercase(), cursor, limit).await,
        None => {
            let page = registry.connections(cursor, limit).await;
            let (ids, details) = match details {
                true => described(registry, page.ids).await,
                false => (page.ids, Vec::new()),
            };
            Found {
                ids,
                details,
                next_cursor: page.next_cursor,
            }
        }
    };
    let ids: Vec<&str> = found.ids.iter().map(ConnectionId::as_str).collect();
    let mut body = json!({ "connectionIds": ids, "nextCursor": found.next_cursor });
    if details {
        body["connections"] = found.details.iter().map(describe).collect();
    }
    Ok(json(StatusCode::OK, &body))
}

/// What is known of one connection, as `GET /@connections/{id}` answers it:
/// AWS's fields, then wsgate's (`connectionId`, `context`, `groups`).
pub fn describe(info: &ConnectionInfo) -> Value {
    let context: serde_json::Map<String, Value> = info
        .context
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect();
    json!({
        "connectedAt": iso8601(info.connected_at),
        "identity": { "sourceIp": info.source_ip, "userAgent": info.user_agent },
        "lastActiveAt": iso8601(info.last_active_at),
        "connectionId": info.id.as_str(),
        "context": context,
        "groups": info.groups,
    })
}

/// `ids` with what is known of each, asked all at once; those gone
/// meanwhile are left out.
async fn described(
    registry: &dyn Registry,
    ids: Vec<ConnectionId>,
) -> (Vec<ConnectionId>, Vec<ConnectionInfo>) {
    let infos = join_all(ids.iter().map(|id| registry.info(id))).await;
    infos
        .into_iter()
        .flatten()
        .map(|info| (info.id.clone(), info))
        .unzip()
}

/// The connections after `cursor` whose id, source IP, user agent, context
/// or groups contain `text` (lower case), at most `limit` of them, looking
/// at no more than [`SEARCH_SCAN`].
async fn search(registry: &dyn Registry, text: &str, cursor: Option<&str>, limit: u32) -> Found {
    let mut found = Found {
        ids: Vec::new(),
        details: Vec::new(),
        next_cursor: cursor.map(str::to_owned),
    };
    let mut scanned = 0;
    while scanned < SEARCH_SCAN && found.ids.len() < limit as usize {
        let page = registry
            .connections(found.next_cursor.as_deref(), MAX_PAGE)
            .await;
        scanned += page.ids.len().max(1);
        let (_, infos) = described(registry, page.ids.clone()).await;
        let mut infos = infos.into_iter().peekable();
        for id in &page.ids {
            let Some(info) = infos.next_if(|info| info.id == *id) else {
                continue;
            };
            if found.ids.len() == limit as usize {
                break;
            }
            found.next_cursor = Some(id.to_string());
            if matches(&info, text) {
                found.ids.push(info.id.clone());
                found.details.push(info);
            }
        }
        if found.ids.len() < limit as usize {
            found.next_cursor = page.next_cursor;
            if found.next_cursor.is_none() {
                break;
            }
        }
    }
    found
}

/// Whether `text` (lower case) is in the connection's id, source IP, user
/// agent, a context key or value, or a group's name.
fn matches(info: &ConnectionInfo, text: &str) -> bool {
    let contains = |field: &str| field.to_lowercase().contains(text);
    contains(info.id.as_str())
        || contains(&info.source_ip)
        || contains(&info.user_agent)
        || info
            .context
            .iter()
            .any(|(key, value)| contains(key) || contains(value))
        || info.groups.iter().any(|group| contains(group))
}
