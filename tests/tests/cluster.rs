//! Cluster mode: three gateway processes and a real Redis on loopback. Sends,
//! closes, group sends and broadcasts reach connections on any node, through
//! handlers and through any node's management API, which lists every node's
//! groups; a killed node takes only
//! its own connections; losing Redis stops only cross-node traffic.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use wsgate_tests::cluster::{
    CLUSTER_TIMEOUT, EXPIRY, client, registered, until_posted, until_status, until_unlisted,
};
use wsgate_tests::redis::Redis;
use wsgate_tests::{Gateway, WAIT};

fn node(redis: &Redis, name: &str) -> Gateway {
    wsgate_tests::cluster::node(&redis.url(), name, EXPIRY).start()
}

/// Three nodes, each registered with Redis.
async fn cluster(redis: &Redis) -> [Gateway; 3] {
    let nodes = [node(redis, "a"), node(redis, "b"), node(redis, "c")];
    registered(&nodes.each_ref()).await;
    nodes
}

#[tokio::test]
async fn a_client_on_node_a_receives_what_node_c_posts_in_order() {
    let redis = Redis::start();
    let [a, b, c] = cluster(&redis).await;
    let (mut ann, ann_id) = client(&a, "/").await;

    let posted = c
        .api("POST", &format!("/@connections/{ann_id}"), b"from c")
        .await;
    assert_eq!(posted.status, 200, "{}", posted.text());
    assert_eq!(ann.recv_text().await, "from c");
    for n in 0..20 {
        let path = format!("/@connections/{ann_id}");
        let body = format!("message {n}");
        assert_eq!(c.api("POST", &path, body.as_bytes()).await.status, 200);
    }
    for n in 0..20 {
        assert_eq!(ann.recv_text().await, format!("message {n}"));
    }

    // A handler on node B reaches it too.
    let (mut bob, _) = client(&b, "/").await;
    bob.send_json(json!({"action": "sendto", "to": ann_id, "data": "from b"}))
        .await;
    assert_eq!(bob.recv_text().await, "sent");
    assert_eq!(ann.recv_text().await, "from b");

    // Every node's API sees it.
    let info = b.api("GET", &format!("/@connections/{ann_id}"), b"").await;
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(info.json()["identity"]["sourceIp"], "127.0.0.1");
    let listed = c.api("GET", "/@connections?limit=1000", b"").await.json();
    let ids: Vec<&str> = listed["connectionIds"]
        .as_array()
        .expect("a page of ids")
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    assert!(ids.contains(&ann_id.as_str()), "{listed}");
    c.api("GET", "/@connections/nobody", b"")
        .await
        .assert_error(410, "GoneException");
}

#[tokio::test]
async fn a_group_with_members_on_three_nodes_gets_one_broadcast_each() {
    let redis = Redis::start();
    let [a, b, c] = cluster(&redis).await;
    let (mut on_a, id_a) = client(&a, "/?room=red").await;
    let (mut on_b, id_b) = client(&b, "/?room=red").await;
    let (mut on_c, id_c) = client(&c, "/?room=red").await;
    let (mut outsider, _) = client(&a, "/").await;

    on_b.send_json(json!({"action": "roomsend", "room": "red", "data": "to red"}))
        .await;
    for member in [&mut on_a, &mut on_b, &mut on_c] {
        assert_eq!(member.recv_text().await, "to red");
    }

    let members = c.api("GET", "/@groups/red", b"").await.json();
    let listed: BTreeSet<String> =
        serde_json::from_value(members["connectionIds"].clone()).expect("a page of ids");
    assert_eq!(listed, BTreeSet::from([id_a, id_b, id_c.clone()]));
    // The groups, and what a member on another node is in, from any node.
    let groups = a.api("GET", "/@groups", b"").await.json();
    assert_eq!(groups["groups"], json!(["red"]), "{groups}");
    let detail = a
        .api("GET", &format!("/@connections/{id_c}"), b"")
        .await
        .json();
    assert_eq!(detail["groups"], json!(["red"]), "{detail}");

    let sent = a.api("POST", "/@broadcast", b"to all").await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    for client in [&mut on_a, &mut on_b, &mut on_c, &mut outsider] {
        assert_eq!(client.recv_text().await, "to all");
    }
    for client in [&mut on_a, &mut on_b, &mut on_c, &mut outsider] {
        client.expect_silence(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn closing_through_node_b_closes_a_connection_on_node_a_and_disconnect_runs_once() {
    let redis = Redis::start();
    let [a, b, c] = cluster(&redis).await;
    let (mut observer, _) = client(&c, "/?observe=1").await;
    let (mut ann, ann_id) = client(&a, "/").await;

    let path = format!("/@connections/{ann_id}?code=4100&reason=moved");
    let closed = b.api("DELETE", &path, b"").await;
    assert_eq!(closed.status, 204, "{}", closed.text());
    let frame = ann.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4100);

    // $disconnect ran on node A and told the observer on node C, once.
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], ann_id.as_str(), "{report}");
    assert_eq!(report["initiator"], "api");
    observer.expect_silence(Duration::from_millis(500)).await;
    a.wait_for_line(&["probe $disconnect", &ann_id]).await;
    let runs = a
        .logs()
        .matches(&format!("probe $disconnect {ann_id}"))
        .count();
    assert_eq!(runs, 1);
    until_status(&b, &ann_id, 410, WAIT).await;
}

#[tokio::test]
async fn a_killed_node_takes_only_its_own_connections() {
    let redis = Redis::start();
    let [a, b, c] = cluster(&redis).await;
    let (mut on_a, id_a) = client(&a, "/?room=red").await;
    let (_on_b, id_b) = client(&b, "/?room=red").await;
    let (mut on_c, id_c) = client(&c, "/?room=red").await;

    b.signal(libc::SIGKILL);
    until_status(&a, &id_b, 410, WAIT).await;
    until_status(&c, &id_b, 410, WAIT).await;
    a.api("POST", &format!("/@connections/{id_b}"), b"x")
        .await
        .assert_error(410, "GoneException");

    // A's and C's clients never noticed.
    assert_eq!(
        a.api("POST", &format!("/@connections/{id_c}"), b"still here")
            .await
            .status,
        200
    );
    assert_eq!(on_c.recv_text().await, "still here");
    on_c.send_json(json!({"action": "roomsend", "room": "red", "data": "red after"}))
        .await;
    assert_eq!(on_a.recv_text().await, "red after");
    assert_eq!(on_c.recv_text().await, "red after");
    until_status(&c, &id_a, 200, WAIT).await;

    // B's connections leave the listing and the group once a node has swept
    // B (an expired heartbeat answers 410 before the sweep runs).
    until_unlisted(&a, "/@groups/red", &id_b).await;
    until_unlisted(&a, "/@connections", &id_b).await;
}

/// Redis lost for less than the fencing threshold (three quarters of a 5 s
/// lease): local traffic goes on without waiting for it, cross-node traffic
/// fails fast with 503 / `unavailable` (and is not done later), and it
/// resumes by itself once Redis is back, empty.
#[tokio::test]
async fn losing_redis_stops_only_cross_node_traffic_which_resumes_when_it_returns() {
    let mut redis = Redis::start();
    let a = wsgate_tests::cluster::node(&redis.url(), "a", "5s").start();
    let b = wsgate_tests::cluster::node(&redis.url(), "b", "5s").start();
    registered(&[&a, &b]).await;
    let (mut ann, ann_id) = client(&a, "/").await;
    let (mut amy, amy_id) = client(&a, "/").await;
    let (mut bob, bob_id) = client(&b, "/").await;

    redis.stop();
    a.wait_for_log("Redis unreachable").await;
    let metrics = a.api("GET", "/metrics", b"").await.text();
    assert!(metrics.contains("wsgate_cluster_reachable 0"), "{metrics}");

    // Local traffic goes on: a handler's send, the API's, a new connection.
    ann.send_json(json!({"action": "sendto", "to": amy_id, "data": "local"}))
        .await;
    assert_eq!(ann.recv_text().await, "sent");
    assert_eq!(amy.recv_text().await, "local");
    let local = a
        .api("POST", &format!("/@connections/{ann_id}"), b"api")
        .await;
    assert_eq!(local.status, 200);
    assert_eq!(ann.recv_text().await, "api");
    let (_late, _) = client(&a, "/").await;

    // Cross-node operations fail fast with a clear, retryable error.
    let asked = Instant::now();
    a.api("POST", &format!("/@connections/{bob_id}"), b"not sent")
        .await
        .assert_error(503, "ServiceUnavailableException");
    assert!(
        asked.elapsed() < 2 * CLUSTER_TIMEOUT,
        "{:?}",
        asked.elapsed()
    );
    ann.send_json(json!({"action": "sendto", "to": bob_id, "data": "not sent either"}))
        .await;
    assert_eq!(ann.recv_text().await, "unavailable");

    // Redis returns (empty): the nodes register again by themselves, and
    // what was refused meanwhile never arrives.
    redis.restart();
    until_posted(&a, &bob_id, "back", WAIT).await;
    assert_eq!(bob.recv_text().await, "back");
    let metrics = a.api("GET", "/metrics", b"").await.text();
    assert!(metrics.contains("wsgate_cluster_reachable 1"), "{metrics}");
    bob.send_json(json!({"action": "sendto", "to": ann_id, "data": "and forth"}))
        .await;
    assert_eq!(bob.recv_text().await, "sent");
    assert_eq!(ann.recv_text().await, "and forth");
    bob.expect_silence(Duration::from_millis(300)).await;
}
