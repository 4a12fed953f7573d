//! The reliable subprotocol across nodes (docs/reliable.md): a node that
//! stops on SIGTERM parks its reliable sessions in Redis and closes them
//! with 1012, without `$disconnect`; their clients resume on another node
//! with the same connection id, context and groups, and receive what was
//! sent to them meanwhile, in order and once. A parked session nobody
//! resumes ends after its window with one `$disconnect`, run by a node
//! still up; one closed or listed meanwhile behaves as if its node held it.

use std::time::Duration;

use serde_json::{Value, json};
use wsgate_tests::cluster::{EXPIRY, client, registered};
use wsgate_tests::redis::Redis;
use wsgate_tests::reliable::ReliableClient;
use wsgate_tests::{Gateway, WAIT};

fn node(redis: &Redis, name: &str, window: &str) -> Gateway {
    wsgate_tests::cluster::node(&redis.url(), name, EXPIRY)
        .args(&["--resume-window", window])
        .start()
}

/// Two nodes of one cluster, registered.
async fn pair(redis: &Redis, window: &str) -> (Gateway, Gateway) {
    let (a, b) = (node(redis, "a", window), node(redis, "b", window));
    registered(&[&a, &b]).await;
    (a, b)
}

async fn post(gateway: &Gateway, path: &str, body: &str) -> u16 {
    let response = gateway.api("POST", path, body.as_bytes()).await;
    response.status
}

/// What the probe's `whoami` tells a reliable client.
async fn whoami(client: &mut ReliableClient) -> Value {
    client.client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await
}

/// SIGTERMs `gateway`; its reliable client gets 1012 "service restart".
async fn stop(gateway: &mut Gateway, client: &mut ReliableClient) {
    gateway.signal(libc::SIGTERM);
    let close = client.client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1012, "{close:?}");
    assert_eq!(close.reason.as_str(), "service restart");
}

#[tokio::test]
async fn a_session_parked_by_a_stopping_node_resumes_on_another_with_what_was_sent_meanwhile() {
    let redis = Redis::start();
    let (mut a, b) = pair(&redis, "2m").await;
    let (mut observer, _) = client(&b, "/?observe=1").await;
    let mut ann = ReliableClient::connect(&a.url("/?user=ann&room=lobby")).await;
    let id = ann.connection_id.clone();
    let to_ann = format!("/@connections/{id}");
    assert_eq!(post(&b, &to_ann, "before").await, 200);
    assert_eq!(ann.recv_text().await, "before");
    let unacknowledged = ann.last_seq();

    stop(&mut a, &mut ann).await;
    // Parked: listed and sent to as before, by id, group and broadcast.
    assert_eq!(b.api("GET", &to_ann, b"").await.status, 200);
    assert_eq!(post(&b, &to_ann, "meanwhile 1").await, 200);
    assert_eq!(post(&b, "/@groups/lobby", "meanwhile 2").await, 200);
    assert_eq!(post(&b, "/@broadcast", "meanwhile 3").await, 200);
    assert_eq!(observer.recv_text().await, "meanwhile 3");
    let exit = a.wait_exit(WAIT);
    assert!(exit.success(), "{exit:?}");

    let token = ann.token.clone();
    let mut ann = ReliableClient::resume(&b.url("/"), &token, unacknowledged - 1).await;
    assert!(ann.resumed);
    assert_eq!(ann.connection_id, id);
    // Its last frame before the stop was never acknowledged: replayed.
    assert_eq!(ann.recv_text().await, "before");
    for expected in ["meanwhile 1", "meanwhile 2", "meanwhile 3"] {
        assert_eq!(ann.recv_text().await, expected);
    }
    assert_eq!(post(&b, &to_ann, "after").await, 200);
    assert_eq!(post(&b, "/@groups/lobby", "to the room").await, 200);
    assert_eq!(ann.recv_text().await, "after");
    assert_eq!(ann.recv_text().await, "to the room");
    let me = whoami(&mut ann).await;
    assert_eq!(me["connectionId"], id.as_str());
    assert_eq!(me["context"]["user"], "ann", "{me}");

    // Its one `$disconnect` runs when it ends, here.
    ann.client.close(1000, "bye").await;
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str(), "{report}");
    assert_eq!(report["code"], 1000);
    observer.expect_silence(Duration::from_millis(500)).await;
    let plain_disconnects = b.logs().matches("probe $disconnect").count();
    assert_eq!(plain_disconnects, 1, "{}", b.logs());
}

#[tokio::test]
async fn a_parked_session_nobody_resumes_ends_after_its_window_with_one_disconnect() {
    let redis = Redis::start();
    let (mut a, b) = pair(&redis, "2s").await;
    let (mut observer, _) = client(&b, "/?observe=1").await;
    let mut ann = ReliableClient::connect(&a.url("/?room=lobby")).await;
    let id = ann.connection_id.clone();
    stop(&mut a, &mut ann).await;
    a.wait_exit(WAIT);
    assert!(
        !a.logs().contains("probe $disconnect"),
        "the stopping node ran no $disconnect: {}",
        a.logs()
    );

    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str(), "{report}");
    assert_eq!(report["code"], 1012);
    assert_eq!(report["initiator"], "shutdown", "{report}");
    observer.expect_silence(Duration::from_millis(1500)).await;
    b.wait_for_sample("wsgate_parked_sessions_ended_total", 1.0)
        .await;
    let to_ann = format!("/@connections/{id}");
    assert_eq!(b.api("GET", &to_ann, b"").await.status, 410);
    assert_eq!(post(&b, &to_ann, "late").await, 410);
    let members = b.api("GET", "/@groups/lobby", b"").await.text();
    assert!(!members.contains(&id), "{members}");

    // Its token no longer resumes anything: a new connection.
    let fresh = ReliableClient::resume(&b.url("/"), &ann.token, 0).await;
    assert!(!fresh.resumed);
    assert_ne!(fresh.connection_id, id);
}

#[tokio::test]
async fn a_parked_session_closed_through_the_api_gets_its_disconnect_and_is_not_resumed() {
    let redis = Redis::start();
    let (mut a, b) = pair(&redis, "2m").await;
    let (mut observer, _) = client(&b, "/?observe=1").await;
    let mut ann = ReliableClient::connect(&a.url("/")).await;
    let id = ann.connection_id.clone();
    stop(&mut a, &mut ann).await;
    a.wait_exit(WAIT);

    let closed = b.api("DELETE", &format!("/@connections/{id}"), b"").await;
    assert_eq!(closed.status, 204, "{}", closed.text());
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str(), "{report}");
    assert_eq!(report["initiator"], "api", "{report}");
    let fresh = ReliableClient::resume(&b.url("/"), &ann.token, 0).await;
    assert!(!fresh.resumed);
}

#[tokio::test]
async fn a_client_that_drops_and_comes_back_through_another_node_gets_its_connection_back() {
    let redis = Redis::start();
    let (a, b) = pair(&redis, "2m").await;
    let (mut observer, _) = client(&b, "/?observe=1").await;
    let mut ann = ReliableClient::connect(&a.url("/?user=ann&room=lobby")).await;
    let id = ann.connection_id.clone();
    let to_ann = format!("/@connections/{id}");
    assert_eq!(post(&b, &to_ann, "one").await, 200);
    assert_eq!(ann.recv_text().await, "one");

    // A network drop; the load balancer sends the client to the other node.
    let (token, last_seq) = ann.drop_connection();
    assert_eq!(post(&b, &to_ann, "while away").await, 200);
    let mut ann = ReliableClient::resume(&b.url("/"), &token, last_seq).await;
    assert!(ann.resumed, "node a handed the session over");
    assert_eq!(ann.connection_id, id);
    a.wait_for_sample("wsgate_sessions_parked_total", 1.0).await;
    b.wait_for_sample("wsgate_sessions_claimed_total", 1.0)
        .await;
    assert_eq!(ann.recv_text().await, "while away");
    assert_eq!(post(&a, &to_ann, "through a").await, 200);
    assert_eq!(post(&a, "/@groups/lobby", "to the room").await, 200);
    assert_eq!(ann.recv_text().await, "through a");
    assert_eq!(ann.recv_text().await, "to the room");
    assert_eq!(whoami(&mut ann).await["context"]["user"], "ann");

    ann.client.close(1000, "bye").await;
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str(), "{report}");
    assert_eq!(report["code"], 1000);
    observer.expect_silence(Duration::from_millis(500)).await;
    let ran = |node: &Gateway| {
        node.logs()
            .matches(&format!("probe $disconnect {id}"))
            .count()
    };
    assert_eq!((ran(&a), ran(&b)), (0, 1));
}

#[tokio::test]
async fn a_token_with_the_wrong_secret_takes_nothing_over() {
    let redis = Redis::start();
    let (a, b) = pair(&redis, "2m").await;
    let mut ann = ReliableClient::connect(&a.url("/")).await;
    let id = ann.connection_id.clone();
    let forged = format!("{id}.{}", "A".repeat(32));

    let mallory = ReliableClient::resume(&b.url("/"), &forged, 0).await;
    assert!(!mallory.resumed);
    assert_ne!(mallory.connection_id, id);
    assert_eq!(
        post(&b, &format!("/@connections/{id}"), "still yours").await,
        200
    );
    assert_eq!(ann.recv_text().await, "still yours");
}

/// Redis hangs as a node stops: the node gives up parking and ends the
/// session itself, with its one `$disconnect`. The park it sent reaches
/// Redis when Redis comes back, after its deadline, and parks nothing: no
/// other node runs a second `$disconnect` when the window passes, and sends
/// to the id are not kept for a client that will never resume.
#[tokio::test]
async fn a_park_that_reaches_redis_after_its_node_gave_up_parks_nothing() {
    let mut redis = Redis::start();
    // A lease that outlives the attempt, so the node gives up on the park
    // and not on its lease.
    let mut a = wsgate_tests::cluster::node(&redis.url(), "a", "30s")
        .args(&["--resume-window", "2s"])
        .start();
    registered(&[&a]).await;
    let mut ann = ReliableClient::connect(&a.url("/?room=lobby")).await;
    let id = ann.connection_id.clone();
    let mut monitor = redis.monitor();

    redis.freeze();
    a.signal(libc::SIGTERM);
    let close = ann.client.recv_close().await.expect("a close frame");
    assert_ne!(
        close.reason.as_str(),
        "service restart",
        "not parked: {close:?}"
    );
    let exit = a.wait_exit(WAIT);
    assert!(exit.success(), "{exit:?}");
    let disconnects = a.logs().matches("probe $disconnect").count();
    assert_eq!(disconnects, 1, "{}", a.logs());

    // What the node wrote before it exited is read now: its park runs,
    // past its deadline (only the park script reads Redis's clock).
    redis.thaw();
    monitor.wait_for(&["redis.call('TIME')", &id]);
    let moved = redis.command(&format!("HEXISTS wsgate:moved {id}"));
    assert_eq!(moved.trim(), ":0", "the id is not parked");
    let listed = redis.command(&format!("ZSCORE wsgate:parked {id}"));
    assert_eq!(listed.trim(), "$-1", "the id is not listed as parked");
    let park = redis.command(&format!("EXISTS wsgate:park:{id}"));
    assert_eq!(park.trim(), ":0");
}
