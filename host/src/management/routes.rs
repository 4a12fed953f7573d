//! `GET /@routes`: which component serves each route, at which version.

use http::StatusCode;
use serde_json::json;

use super::response::{ApiResponse, json};
use crate::clock::iso8601;
use crate::routing::RouteTable;

/// Every bound route with its component's file, content hash (the version),
/// the version of the world it is built against, generation, load time and
/// origin (compiled or from the compile cache).
pub fn list(table: &RouteTable) -> ApiResponse {
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
    json(StatusCode::OK, &json!({ "routes": routes }))
}
