//! `GET /@routes`: which component serves each route, at which version, and
//! the route table's recent changes.

use http::StatusCode;
use serde_json::json;

use super::response::{ApiResponse, json};
use crate::clock::iso8601;
use crate::observability::swap_history::SwapHistory;
use crate::routing::RouteTable;

/// Every bound route with its component's file, content hash (the version),
/// the version of the world it is built against, generation, load time and
/// origin (compiled or from the compile cache); and the last bindings, swaps
/// and unbindings, oldest first.
pub fn list(table: &RouteTable, swaps: &SwapHistory) -> ApiResponse {
    let routes: Vec<_> = table
        .iter()
        .map(|(route, entry)| {
            let info = entry.plugin.info();
            json!({
                "routeKey": route,
                "component": info.name,
                "file": info.file.display().to_string(),
                "version": info.hash,
                "world": entry.plugin.world().as_str(),
                "generation": entry.generation,
                "loadedAt": iso8601(info.loaded_at),
                "origin": format!("{:?}", info.origin).to_lowercase(),
            })
        })
        .collect();
    let body = json!({ "routes": routes, "swaps": swaps.recent() });
    json(StatusCode::OK, &body)
}
