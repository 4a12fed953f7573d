//! Groups and broadcast through the API, which AWS lacks: send to a group's
//! members or to everyone (optionally excluding one connection), list the
//! groups and a group's members, add and remove members.

use bytes::Bytes;
use http::StatusCode;

use super::endpoint::Query;
use super::payload;
use super::response::{ApiError, ApiResponse, empty, json, page};
use crate::connection::ConnectionId;
use crate::registry::Registry;

/// `POST /@groups/{group}[?exclude=id]`: sends the body to every member.
pub async fn post(
    registry: &dyn Registry,
    group: &str,
    query: &Query,
    body: Bytes,
) -> Result<ApiResponse, ApiError> {
    let message = payload::frame(body, query)?;
    let exclude = excluded(query);
    registry
        .send_to_group(group, message, exclude.as_ref())
        .await?;
    Ok(empty(StatusCode::OK))
}

/// `POST /@broadcast[?exclude=id]`: sends the body to every connection.
pub async fn broadcast(
    registry: &dyn Registry,
    query: &Query,
    body: Bytes,
) -> Result<ApiResponse, ApiError> {
    let message = payload::frame(body, query)?;
    registry
        .broadcast(message, excluded(query).as_ref())
        .await?;
    Ok(empty(StatusCode::OK))
}

/// `GET /@groups/{group}?cursor=…&limit=…`: a page of the group's members.
pub async fn members(
    registry: &dyn Registry,
    group: &str,
    query: &Query,
) -> Result<ApiResponse, ApiError> {
    let (cursor, limit) = query.page()?;
    Ok(page(registry.members(group, cursor, limit).await))
}

/// `GET /@groups?cursor=…&limit=…`: a page of the names of the groups that
/// have members, `{"groups": […], "nextCursor": "…" | null}`.
pub async fn list(registry: &dyn Registry, query: &Query) -> Result<ApiResponse, ApiError> {
    let (cursor, limit) = query.page()?;
    let page = registry.groups(cursor, limit).await;
    let body = serde_json::json!({ "groups": page.names, "nextCursor": page.next_cursor });
    Ok(json(StatusCode::OK, &body))
}

/// `PUT /@groups/{group}/{id}`: adds the connection to the group.
pub async fn add(
    registry: &dyn Registry,
    group: &str,
    id: &ConnectionId,
) -> Result<ApiResponse, ApiError> {
    registry.join(group, id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `DELETE /@groups/{group}/{id}`: removes the connection from the group (a
/// connection that was not a member is not an error).
pub async fn remove(
    registry: &dyn Registry,
    group: &str,
    id: &ConnectionId,
) -> Result<ApiResponse, ApiError> {
    registry.leave(group, id).await;
    Ok(empty(StatusCode::NO_CONTENT))
}

fn excluded(query: &Query) -> Option<ConnectionId> {
    query.get("exclude").map(ConnectionId::from)
}
