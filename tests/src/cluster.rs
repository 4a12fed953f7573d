//! Cluster nodes for the cluster tests: gateways serving the probe on every
//! route the tests use, joined through one Redis, with short heartbeats so
//! that a dead node expires within a second.

use std::time::Duration;

use crate::{Client, Gateway, GatewayBuilder, WAIT, eventually};

/// How often a test node renews its lease.
pub const HEARTBEAT: &str = "200ms";

/// How long a test node's lease lasts, unless a test says otherwise.
pub const EXPIRY: &str = "1s";

/// How long a cross-node request may wait for its answer (the default of
/// `--cluster-timeout`, set through `WSGATE_CLUSTER_TIMEOUT`).
pub const CLUSTER_TIMEOUT: Duration = Duration::from_millis(500);

/// The probe's routes a cluster test uses.
const ROUTES: [&str; 10] = [
    "$connect",
    "$disconnect",
    "$default",
    "whoami",
    "sendto",
    "roomsend",
    "broadcast",
    "members",
    "kick",
    "info",
];

/// A node named `name` joining the cluster at `redis_url` with a lease of
/// `expiry`, ready to start.
pub fn node(redis_url: &str, name: &str, expiry: &str) -> GatewayBuilder {
    GatewayBuilder::new()
        .probe(&ROUTES)
        .args(&["--cluster", redis_url, "--node-id", name])
        .args(&["--heartbeat-interval", HEARTBEAT, "--node-expiry", expiry])
        .env(
            "WSGATE_CLUSTER_TIMEOUT",
            &format!("{}ms", CLUSTER_TIMEOUT.as_millis()),
        )
}

/// Waits until every one of `nodes` has registered with Redis.
pub async fn registered(nodes: &[&Gateway]) {
    for node in nodes {
        node.wait_for_log("node registered").await;
    }
}

/// A client on `gateway` and its connection id.
pub async fn client(gateway: &Gateway, path: &str) -> (Client, String) {
    let mut client = gateway.connect(path).await;
    let id = client.whoami_id().await;
    (client, id)
}

/// Asks `gateway`'s API for `id` until it answers `status`, at most `deadline`.
pub async fn until_status(gateway: &Gateway, id: &str, status: u16, deadline: Duration) {
    let what = format!("GET {id} answers {status}");
    eventually(&what, deadline, async || {
        let response = gateway
            .api("GET", &format!("/@connections/{id}"), b"")
            .await;
        if response.status == status {
            Ok(())
        } else {
            Err(response.status)
        }
    })
    .await
}

/// Asks `gateway`'s API for `path` (a listing) until `id` is not in it.
pub async fn until_unlisted(gateway: &Gateway, path: &str, id: &str) {
    let what = format!("{path} no longer lists {id}");
    eventually(&what, WAIT, async || {
        let listing = gateway.api("GET", path, b"").await.text();
        if listing.contains(id) {
            Err(listing)
        } else {
            Ok(())
        }
    })
    .await
}

/// Posts `body` to `id` through `gateway`'s API until it answers 200, at
/// most `deadline`.
pub async fn until_posted(gateway: &Gateway, id: &str, body: &str, deadline: Duration) {
    let what = format!("POST to {id} answers 200");
    eventually(&what, deadline, async || {
        let posted = gateway
            .api("POST", &format!("/@connections/{id}"), body.as_bytes())
            .await;
        if posted.status == 200 {
            Ok(())
        } else {
            Err(format!("{} {}", posted.status, posted.text()))
        }
    })
    .await
}
