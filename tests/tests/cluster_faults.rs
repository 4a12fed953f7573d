//! Cluster mode under faults: real gateway processes on one real
//! `redis-server`, with a node cut off from Redis by a proxy that holds its
//! bytes, Redis frozen (SIGSTOP) or restarted empty, and nodes killed or
//! stopped. What every client and API caller is told must stay true:
//!
//! - a node that cannot renew its lease fences itself (1012) before the
//!   others may call its connections gone;
//! - 410 means gone, 503 means not done (and never done later), 200 means
//!   accepted by the owner;
//! - local work never waits for Redis; cross-node work fails fast;
//! - listings and single lookups agree;
//! - churn over three nodes leaves nothing behind on any of them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::json;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use wsgate_tests::cluster::{
    CLUSTER_TIMEOUT, EXPIRY, HEARTBEAT, client, node, registered, until_posted, until_status,
};
use wsgate_tests::invariants::assert_settled;
use wsgate_tests::proxy::Proxy;
use wsgate_tests::redis::Redis;
use wsgate_tests::{Client, Gateway, WAIT, churn, eventually};

/// How soon after a fault heals cross-node traffic must work again.
const RECOVERY: Duration = Duration::from_secs(3);

/// How long a fault may take to make a node fence itself: it does after
/// three quarters of its 1 s lease without a renewal.
const FENCE: Duration = Duration::from_secs(3);

/// A lease long enough that a test's fault ends before the node fences.
const LONG_EXPIRY: &str = "5s";

/// How long a local operation may take while Redis hangs: less than one
/// cross-node request may wait.
const LOCAL: Duration = CLUSTER_TIMEOUT;

/// The close code of a fenced node's connections.
const FENCED: u16 = 1012;

/// Node A straight on `redis`, node B through `proxy`, both registered.
async fn a_and_b_through(redis: &Redis, proxy: &Proxy, expiry: &str) -> (Gateway, Gateway) {
    let a = node(&redis.url(), "a", expiry).start();
    let b = node(&proxy.redis_url(), "b", expiry).start();
    registered(&[&a, &b]).await;
    (a, b)
}

/// Nodes A and B straight on `redis`, both registered.
async fn a_and_b(redis: &Redis, expiry: &str) -> (Gateway, Gateway) {
    let a = node(&redis.url(), "a", expiry).start();
    let b = node(&redis.url(), "b", expiry).start();
    registered(&[&a, &b]).await;
    (a, b)
}

/// The status a new WebSocket upgrade on `gateway` is answered (101 when
/// it is accepted), and how long the answer took.
async fn upgrade(gateway: &Gateway) -> (u16, Duration) {
    let asked = Instant::now();
    let request = gateway.url("/").into_client_request().unwrap();
    let status = match Client::try_connect(request).await {
        Ok(_) => 101,
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("upgrading on {}: {other}", gateway.addr),
    };
    (status, asked.elapsed())
}

/// Waits until `gateway` accepts upgrades and `/ready` answers 200 again.
async fn until_serving(gateway: &Gateway, deadline: Duration) {
    eventually("the node serves again", deadline, async || {
        let ready = gateway.api("GET", "/ready", b"").await.status;
        match upgrade(gateway).await.0 {
            101 if ready == 200 => Ok(()),
            status => Err(format!("upgrade {status}, /ready {ready}")),
        }
    })
    .await
}

/// Asserts that `gateway` is fenced: upgrades answered 503 at once, `/ready` 503.
async fn assert_fenced(gateway: &Gateway) {
    let (status, took) = upgrade(gateway).await;
    assert_eq!(status, 503, "a fenced node accepted an upgrade");
    assert!(
        took < LOCAL,
        "a fenced node took {took:?} to refuse an upgrade"
    );
    let ready = gateway.api("GET", "/ready", b"").await;
    assert_eq!(
        ready.status,
        503,
        "/ready of a fenced node: {}",
        ready.text()
    );
}

/// How many times `gateway` has logged that it registered with Redis.
fn registrations(gateway: &Gateway) -> usize {
    gateway.logs().matches("node registered").count()
}

/// Waits until `gateway` has registered with Redis more than `before` times.
async fn until_registered_again(gateway: &Gateway, before: usize) {
    eventually(
        "the node registers again",
        RECOVERY,
        async || match registrations(gateway) {
            now if now > before => Ok(()),
            now => Err(now),
        },
    )
    .await
}

/// Asserts that a client connecting to `to` now gets `text` posted through
/// `from`'s API within [`RECOVERY`]: cross-node traffic works.
async fn assert_reaches_a_new_client(from: &Gateway, to: &Gateway, text: &str) {
    let (mut client, id) = client(to, "/").await;
    until_posted(from, &id, text, RECOVERY).await;
    assert_eq!(client.recv_text().await, text);
}

/// One answer of the management API to a POST.
#[derive(Debug)]
struct Answer {
    body: String,
    status: u16,
    took: Duration,
    at: Instant,
}

/// POSTs `body` to `id` through `gateway`.
async fn post(gateway: &Gateway, id: &str, body: String) -> Answer {
    let asked = Instant::now();
    let status = gateway
        .api("POST", &format!("/@connections/{id}"), body.as_bytes())
        .await
        .status;
    Answer {
        body,
        status,
        took: asked.elapsed(),
        at: Instant::now(),
    }
}

/// What a handler on `sender`'s node answers when it sends `data` to `to`.
async fn handler_send(sender: &mut Client, to: &str, data: &str) -> String {
    sender
        .send_json(json!({"action": "sendto", "to": to, "data": data}))
        .await;
    sender.recv_text().await
}

/// Semantics 1: a node that cannot renew its lease closes its connections
/// with 1012 before the lease expires, refuses upgrades and is not ready,
/// until it can renew again.
#[tokio::test]
async fn a_node_cut_off_from_redis_fences_itself_until_it_can_renew_its_lease() {
    let redis = Redis::start();
    let proxy = Proxy::start(redis.addr());
    let (a, b) = a_and_b_through(&redis, &proxy, EXPIRY).await;
    let (bob, bob_id) = client(&b, "/").await;
    let before = registrations(&b);

    proxy.blackhole();
    let cut = Instant::now();
    let recording = bob.record(None, FENCE).await;
    let (_, closed_at) = recording
        .closed
        .as_ref()
        .expect("B's client was not closed: B did not fence itself");
    assert_eq!(recording.close_code(), Some(FENCED), "{recording:?}");
    let fenced_after = closed_at.duration_since(cut);
    assert!(
        fenced_after < Duration::from_secs(1),
        "B fenced {fenced_after:?} after it was cut off, not before its 1 s lease expired"
    );
    b.wait_for_line(&["probe $disconnect", &bob_id, "1012 server"])
        .await;
    assert_fenced(&b).await;

    proxy.restore();
    until_serving(&b, RECOVERY).await;
    until_registered_again(&b, before).await;
    assert_reaches_a_new_client(&a, &b, "after the partition").await;
}

/// Semantics 2 and 3: while B is cut off from Redis and its client still
/// connected, A answers 503 (and a handler gets `unavailable`), never 410;
/// 410 only after B fenced itself and its lease expired. Every send answered
/// 200 reached the client; none answered 503 ever did.
#[tokio::test]
async fn a_partitioned_node_is_never_called_gone_while_its_client_is_connected() {
    const MARKER: &str = "marker";
    /// How long A keeps sending after the cut if it never answers 410.
    const PARTITION: Duration = Duration::from_secs(5);
    let redis = Redis::start();
    let proxy = Proxy::start(redis.addr());
    let (a, b) = a_and_b_through(&redis, &proxy, EXPIRY).await;
    let (mut ann, _) = client(&a, "/").await;
    let (bob, bob_id) = client(&b, "/").await;
    let reader = tokio::spawn(bob.record(Some(MARKER), WAIT));

    let mut answers = vec![post(&a, &bob_id, "before the cut".to_owned()).await];
    assert_eq!(answers[0].status, 200, "{answers:?}");
    proxy.blackhole();
    let cut = Instant::now();
    let handler = handler_send(&mut ann, &bob_id, "from a handler");
    let sends = async {
        let mut answers = Vec::new();
        let mut pace = tokio::time::interval(Duration::from_millis(50));
        for n in 0.. {
            pace.tick().await;
            let answer = post(&a, &bob_id, format!("send {n}")).await;
            let gone = answer.status == 410;
            answers.push(answer);
            if gone || cut.elapsed() > PARTITION {
                break;
            }
        }
        answers
    };
    let (handler_answer, during) = tokio::join!(handler, sends);
    answers.extend(during);
    proxy.restore();
    let restored = Instant::now();
    answers.push(post(&a, &bob_id, MARKER.to_owned()).await);
    let recording = tokio::time::timeout(WAIT, reader)
        .await
        .expect("B's client neither closed nor got the marker")
        .expect("the reader");

    let closed_at = recording.closed.as_ref().map(|(_, at)| *at);
    for answer in answers.iter().filter(|answer| answer.status == 410) {
        assert!(
            closed_at.is_some_and(|closed| closed <= answer.at),
            "A answered 410 for `{}` {:?} after the cut while B's client was still connected",
            answer.body,
            answer.at.duration_since(cut)
        );
    }
    assert_eq!(recording.close_code(), Some(FENCED), "{recording:?}");
    assert_eq!(handler_answer, "unavailable");
    assert!(
        answers.iter().any(|answer| answer.status == 503),
        "no 503 while B was unreachable: {answers:?}"
    );
    for answer in &answers {
        assert!(
            matches!(answer.status, 200 | 503 | 410),
            "unexpected answer {answer:?}"
        );
        assert!(
            answer.took < 2 * CLUSTER_TIMEOUT,
            "the caller waited longer than the cluster timeout: {answer:?}"
        );
        let arrival = recording.arrival(&answer.body);
        match answer.status {
            200 => assert!(
                arrival.is_some_and(|at| at < restored),
                "`{}` was answered 200 but B's client did not get it while B was cut off \
                 ({arrival:?}): {recording:?}",
                answer.body
            ),
            _ => assert!(
                arrival.is_none(),
                "`{}` was answered {} and delivered anyway",
                answer.body,
                answer.status
            ),
        }
    }
    assert!(recording.arrival("from a handler").is_none());
    b.wait_for_line(&["probe $disconnect", &bob_id, "1012 server"])
        .await;
}

/// Semantics 4, a freeze shorter than the fencing threshold: handshakes,
/// local sends, local group sends and the API's local sends do not wait for
/// Redis; cross-node ones answer 503 within the cluster timeout, then at
/// once, and work again soon after Redis thaws. What was refused never
/// arrives.
#[tokio::test]
async fn a_frozen_redis_delays_no_local_work_and_cross_node_work_fails_fast() {
    let mut redis = Redis::start();
    let (a, b) = a_and_b(&redis, LONG_EXPIRY).await;
    let (mut ann, ann_id) = client(&a, "/?room=local").await;
    let (mut amy, amy_id) = client(&a, "/?room=local").await;
    let (mut bob, bob_id) = client(&b, "/").await;

    redis.freeze();
    let asked = Instant::now();
    let (mut late, _) = client(&a, "/?room=local").await;
    assert!(
        asked.elapsed() < LOCAL,
        "a handshake took {:?}",
        asked.elapsed()
    );

    let asked = Instant::now();
    assert_eq!(handler_send(&mut ann, &amy_id, "local").await, "sent");
    assert_eq!(amy.recv_text().await, "local");
    assert!(
        asked.elapsed() < LOCAL,
        "a local send took {:?}",
        asked.elapsed()
    );

    let asked = Instant::now();
    ann.send_json(json!({"action": "roomsend", "room": "local", "data": "to the room"}))
        .await;
    for member in [&mut ann, &mut amy, &mut late] {
        assert_eq!(member.recv_text().await, "to the room");
    }
    assert!(
        asked.elapsed() < LOCAL,
        "a local group send took {:?}",
        asked.elapsed()
    );

    let api = post(&a, &ann_id, "from the API".to_owned()).await;
    assert_eq!(api.status, 200, "{api:?}");
    assert_eq!(ann.recv_text().await, "from the API");
    assert!(api.took < LOCAL, "the API's local send took {:?}", api.took);

    let first = post(&a, &bob_id, "refused".to_owned()).await;
    assert_eq!(first.status, 503, "{first:?}");
    assert!(first.took < 2 * CLUSTER_TIMEOUT, "{first:?}");
    let second = post(&a, &bob_id, "refused at once".to_owned()).await;
    assert_eq!(second.status, 503, "{second:?}");
    assert!(
        second.took < CLUSTER_TIMEOUT / 2,
        "the circuit breaker did not answer at once: {second:?}"
    );
    assert_eq!(
        handler_send(&mut ann, &bob_id, "refused too").await,
        "unavailable"
    );

    redis.thaw();
    until_posted(&a, &bob_id, "thawed", RECOVERY).await;
    assert_eq!(bob.recv_text().await, "thawed");
    assert_eq!(handler_send(&mut bob, &ann_id, "and back").await, "sent");
    assert_eq!(ann.recv_text().await, "and back");
    bob.expect_silence(Duration::from_millis(300)).await;
}

/// Semantics 4, a freeze longer than the fencing threshold: every node
/// fences (its clients closed with 1012, upgrades refused at once) and
/// serves again soon after Redis thaws.
#[tokio::test]
async fn a_freeze_past_the_fencing_threshold_fences_every_node_until_redis_thaws() {
    let mut redis = Redis::start();
    let (a, b) = a_and_b(&redis, EXPIRY).await;
    let (ann, _) = client(&a, "/").await;
    let (bob, _) = client(&b, "/").await;

    redis.freeze();
    let (ann, bob) = tokio::join!(ann.record(None, FENCE), bob.record(None, FENCE));
    for (node, recording) in [("A", &ann), ("B", &bob)] {
        assert_eq!(
            recording.close_code(),
            Some(FENCED),
            "node {node} did not fence its client: {recording:?}"
        );
    }
    assert_fenced(&a).await;
    assert_fenced(&b).await;

    redis.thaw();
    until_serving(&a, RECOVERY).await;
    until_serving(&b, RECOVERY).await;
    assert_reaches_a_new_client(&a, &b, "after the thaw").await;
}

/// Semantics 5: after B is killed, A answers 503 for B's connection until
/// B's lease expires and 410 after, and from the first 410 on neither the
/// listing nor the group's members hold it.
#[tokio::test]
async fn a_killed_nodes_connections_leave_lookups_and_listings_at_the_same_time() {
    /// How many rounds after the first 410 the listings are checked.
    const GONE_ROUNDS: usize = 5;
    let redis = Redis::start();
    let (a, b) = a_and_b(&redis, EXPIRY).await;
    let (_ann, ann_id) = client(&a, "/?room=red").await;
    let (_bob, bob_id) = client(&b, "/?room=red").await;
    let lookup = format!("/@connections/{bob_id}");

    b.signal(libc::SIGKILL);
    let mut statuses = Vec::new();
    eventually("B's lease expires", WAIT, async || {
        let status = a.api("GET", &lookup, b"").await.status;
        let listing = a.api("GET", "/@connections?limit=1000", b"").await.text();
        let members = a.api("GET", "/@groups/red", b"").await.text();
        let round = statuses.len();
        statuses.push(status);
        assert!(
            listing.contains(&ann_id),
            "A's own client left the listing: {listing}"
        );
        match status {
            410 => {
                assert!(
                    !listing.contains(&bob_id),
                    "round {round}: GET answered 410 but the listing holds {bob_id}: {listing}"
                );
                assert!(
                    !members.contains(&bob_id),
                    "round {round}: GET answered 410 but the group holds {bob_id}: {members}"
                );
            }
            503 => assert!(
                !statuses.contains(&410),
                "503 after 410 for {bob_id}: {statuses:?}"
            ),
            other => panic!(
                "A answered {other} for a connection of a killed node \
                 (503 until its lease expires, then 410): {statuses:?}"
            ),
        }
        match statuses.iter().filter(|status| **status == 410).count() {
            gone if gone >= GONE_ROUNDS => Ok(()),
            _ => Err(format!("{statuses:?}")),
        }
    })
    .await;
    assert_eq!(statuses[0], 503, "{statuses:?}");
    for gateway in [&a, &b] {
        assert!(
            !gateway.logs().contains("empty command"),
            "{}",
            gateway.logs()
        );
    }
}

/// Semantics 6: a node stopped with SIGTERM gives its lease back after its
/// drain, so the others call its connections gone at once, not after the
/// 10 s expiry.
#[tokio::test]
async fn a_stopped_node_gives_its_lease_back_so_its_connections_are_gone_at_once() {
    let redis = Redis::start();
    let (a, mut b) = a_and_b(&redis, "10s").await;
    let (mut bob, bob_id) = client(&b, "/").await;

    b.signal(libc::SIGTERM);
    let frame = bob.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1001);
    assert!(b.wait_exit(WAIT).success());
    assert_eq!(
        redis.command("EXISTS wsgate:node:b").trim(),
        ":0",
        "B's heartbeat key outlived its exit"
    );
    until_status(&a, &bob_id, 410, Duration::from_secs(1)).await;
    let listing = a.api("GET", "/@connections", b"").await.text();
    assert!(!listing.contains(&bob_id), "{listing}");
}

/// Semantics 7: Redis restarted empty; the nodes register again by
/// themselves, and a connection that stayed up on B is answered 503, never
/// 410, until B has, then 200.
#[tokio::test]
async fn a_connection_that_stays_up_while_redis_restarts_empty_is_never_called_gone() {
    let mut redis = Redis::start();
    let (a, b) = a_and_b(&redis, LONG_EXPIRY).await;
    let (mut bob, bob_id) = client(&b, "/").await;
    let lookup = format!("/@connections/{bob_id}");
    let before = registrations(&b);

    redis.stop();
    let mut statuses = Vec::new();
    eventually("A answers 503 while Redis is down", WAIT, async || {
        let status = a.api("GET", &lookup, b"").await.status;
        statuses.push(status);
        if status == 503 { Ok(()) } else { Err(status) }
    })
    .await;
    redis.restart();
    eventually(
        "A answers 200 once B registered again",
        RECOVERY,
        async || {
            let status = a.api("GET", &lookup, b"").await.status;
            statuses.push(status);
            if status == 200 { Ok(()) } else { Err(status) }
        },
    )
    .await;
    assert!(
        statuses.iter().all(|status| matches!(status, 200 | 503)),
        "A called a connection that stayed up gone: {statuses:?}"
    );
    until_registered_again(&b, before).await;
    until_posted(&a, &bob_id, "still here", RECOVERY).await;
    assert_eq!(bob.recv_text().await, "still here");
}

/// The churn invariants with clients spread over three nodes: afterwards no
/// node lists a connection or a group member, no node counts an open
/// connection, and each node's access log has one CONNECT and one
/// DISCONNECT per connection it accepted.
#[tokio::test]
async fn churn_over_three_nodes_leaves_nothing_behind_on_any() {
    /// Clients in the round.
    const CLIENTS: usize = 150;
    let redis = Redis::start();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let names = ["a", "b", "c"];
    let logs: Vec<PathBuf> = names
        .iter()
        .map(|name| dir.path().join(format!("{name}.log")))
        .collect();
    let nodes: Vec<Gateway> = names
        .iter()
        .zip(&logs)
        .map(|(name, log)| {
            churn::builder(false, log)
                .args(&["--cluster", &redis.url(), "--node-id", name])
                .args(&[
                    "--heartbeat-interval",
                    HEARTBEAT,
                    "--node-expiry",
                    LONG_EXPIRY,
                ])
                .start()
        })
        .collect();
    registered(&nodes.iter().collect::<Vec<_>>()).await;

    let mut rng = SmallRng::seed_from_u64(churn::seed());
    let ran = churn::run(&nodes, &mut rng, CLIENTS, churn::PARALLEL).await;
    println!("churn over three nodes: {ran:?}");
    for (node, log) in nodes.iter().zip(&logs) {
        assert_settled(node, log, &churn::ROOMS, true, WAIT).await;
    }
}
