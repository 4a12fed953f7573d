//! Cluster mode: a handler's operation on a connection whose node cannot be
//! reached now fails with the WIT's `unavailable` (not done, may be retried),
//! told apart from `throttled` (a full queue) and `gone`.

use serde_json::json;
use wsgate_tests::redis::Redis;
use wsgate_tests::{Gateway, GatewayBuilder};

fn node(redis: &Redis, name: &str) -> Gateway {
    GatewayBuilder::new()
        .probe(&["whoami", "sendto", "info"])
        .args(&["--cluster", &redis.url(), "--node-id", name])
        .args(&["--heartbeat-interval", "100ms", "--node-expiry", "1s"])
        .start()
}

#[tokio::test]
async fn a_handler_sees_unavailable_for_a_connection_on_a_node_it_cannot_reach() {
    let mut redis = Redis::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    for gateway in [&a, &b] {
        gateway.wait_for_log("node registered").await;
    }
    let mut ann = a.connect("/").await;
    let mut bob = b.connect("/").await;
    let bob_id = bob.whoami_id().await;
    let send_to_bob = json!({"action": "sendto", "to": bob_id, "data": "hi"});
    ann.send_json(send_to_bob.clone()).await;
    assert_eq!(ann.recv_text().await, "sent");
    assert_eq!(bob.recv_text().await, "hi");

    redis.stop();
    a.wait_for_log("Redis unreachable").await;
    ann.send_json(send_to_bob).await;
    assert_eq!(ann.recv_text().await, "unavailable");
    ann.send_json(json!({"action": "info", "target": bob_id}))
        .await;
    assert_eq!(ann.recv_text().await, "unavailable");
}
