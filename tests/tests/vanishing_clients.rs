//! Clients that vanish in the middle of their handshake: whatever point a
//! client is gone at, a connection `$connect` accepted gets exactly one
//! `$disconnect` (1006, initiator `client`) and leaves the registry, its groups
//! and the listings; one `$connect` rejected leaves nothing behind.

use std::time::Duration;

use serde_json::json;
use wsgate_tests::invariants::{Ledger, assert_settled};
use wsgate_tests::{GatewayBuilder, WAIT, eventually, upgrade_and_vanish};

/// How many clients each test sends away.
const CLIENTS: u64 = 40;

/// Waits until the access log at `log` has a CONNECT line that `seen` picks
/// (a client gone before the gateway read its request never reaches
/// `$connect`; the others do, while already gone). Then every handshake is
/// past its registration, and what is left to check is how it ended.
async fn connects_logged(log: &std::path::Path, seen: fn(&Ledger) -> usize) -> Ledger {
    eventually("the access log has a CONNECT line", WAIT, || async {
        let ledger = Ledger::read(log);
        match seen(&ledger) {
            0 => Err(format!("{ledger:?}")),
            _ => Ok(ledger),
        }
    })
    .await
}

/// A probe gateway writing its access log into `dir`.
fn probe_gateway(dir: &tempfile::TempDir) -> wsgate_tests::Gateway {
    let log = dir.path().join("access.log");
    GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami", "members"])
        .args(&["--access-log", log.to_str().unwrap()])
        .start()
}

/// [`CLIENTS`] clients ask for an upgrade to `path` and vanish within 50 ms.
async fn vanish(gateway: &wsgate_tests::Gateway, path: &str) {
    let vanishing =
        (0..CLIENTS).map(|i| upgrade_and_vanish(gateway.addr, path, Duration::from_millis(i % 50)));
    futures_util::future::join_all(vanishing).await;
}

#[tokio::test]
async fn a_client_gone_while_connect_runs_gets_one_disconnect_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = probe_gateway(&dir);
    // `$connect` takes 300 ms; every client is gone long before it answers.
    vanish(&gateway, "/?sleep=300&room=lobby").await;

    let log = dir.path().join("access.log");
    connects_logged(&log, |ledger| ledger.accepted.len()).await;
    let ledger = assert_settled(&gateway, &log, &["lobby"], true, WAIT).await;
    for id in ledger.accepted.keys() {
        gateway
            .wait_for_log(&format!("probe $disconnect {id} 1006 client"))
            .await;
    }
    // The gateway still serves: a newcomer is the lobby's only member.
    let mut newcomer = gateway.connect("/?room=lobby").await;
    let id = newcomer.whoami_id().await;
    newcomer
        .send_json(json!({"action": "members", "room": "lobby", "cursor": null, "limit": 100}))
        .await;
    assert_eq!(newcomer.recv_json().await["ids"], json!([id]));
}

#[tokio::test]
async fn a_client_gone_while_connect_rejects_it_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = probe_gateway(&dir);
    vanish(&gateway, "/?sleep=200&room=lobby&reject=401").await;

    let log = dir.path().join("access.log");
    let ledger = connects_logged(&log, |ledger| ledger.rejected.len()).await;
    assert!(ledger.accepted.is_empty(), "{ledger:?}");
    assert_settled(&gateway, &log, &["lobby"], true, WAIT).await;
    assert!(!gateway.logs().contains("probe $disconnect"));
}

#[tokio::test]
async fn chat_clients_gone_at_any_point_of_the_handshake_leave_the_room_and_its_members() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .component("$connect.wasm", "chat")
        .component("$disconnect.wasm", "chat")
        .component("members.wasm", "chat")
        .args(&["--access-log", log.to_str().unwrap()])
        .start();
    // `$connect` writes to the key-value store; the clients leave before,
    // during and after it.
    let addr = gateway.addr;
    let vanishing = (0..CLIENTS).map(|i| async move {
        let path = format!("/?room=lobby&name=ghost{i}");
        upgrade_and_vanish(addr, &path, Duration::from_millis(i % 25)).await
    });
    futures_util::future::join_all(vanishing).await;

    connects_logged(&log, |ledger| ledger.accepted.len()).await;
    assert_settled(&gateway, &log, &["lobby"], false, WAIT).await;
    let mut ann = gateway.connect("/?room=lobby&name=ann").await;
    assert_eq!(ann.recv_text().await, "welcome to lobby, ann");
    ann.send_json(json!({"action": "members"})).await;
    assert_eq!(ann.recv_json().await, json!(["ann"]));
}
