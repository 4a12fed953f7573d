//! Graceful shutdown: on SIGTERM the gateway stops being ready, closes every
//! connection with 1001, runs every `$disconnect`, and exits 0.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use wsgate_tests::{Client, GatewayBuilder, WAIT, eventually, http_get};

const CONNECTIONS: usize = 500;

#[tokio::test]
async fn sigterm_closes_every_connection_with_1001_and_runs_every_disconnect() {
    let mut gateway = GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami"])
        .start();
    let url = gateway.url("/");
    let mut clients: Vec<Client> = join_all((0..CONNECTIONS).map(|_| Client::connect(&url))).await;
    let mut ids = BTreeSet::new();
    for client in clients.iter_mut().take(3) {
        ids.insert(client.whoami_id().await);
    }
    assert!(
        http_get(gateway.api_addr, "/ready")
            .await
            .starts_with("HTTP/1.1 200")
    );

    gateway.signal(libc::SIGTERM);
    let closes = join_all(clients.iter_mut().map(|client| client.recv_close())).await;
    for frame in &closes {
        let frame = frame.as_ref().expect("every client gets a close frame");
        assert_eq!(
            (u16::from(frame.code), frame.reason.as_str()),
            (1001, "going away")
        );
    }

    let status = gateway.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "wsgate exited with {status}");
    let logs = gateway.logs();
    let runs = logs.matches("probe $disconnect ").count();
    assert_eq!(
        runs, CONNECTIONS,
        "every accepted connection's $disconnect ran once"
    );
    assert_eq!(logs.matches(" 1001 shutdown").count(), CONNECTIONS);
    for id in ids {
        assert_eq!(
            logs.matches(&format!("probe $disconnect {id} 1001 shutdown"))
                .count(),
            1
        );
    }
}

#[tokio::test]
async fn while_draining_ready_answers_503_and_new_upgrades_are_refused() {
    // A long `$disconnect` is not needed: a client that never answers the close
    // frame keeps the drain going for the close grace period.
    let mut gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--drain-timeout", "5s"])
        .start();
    let _lingering = wsgate_tests::RawClient::connect(gateway.addr).await;
    gateway.signal(libc::SIGTERM);
    eventually("/ready answers 503", WAIT, async || {
        let ready = http_get(gateway.api_addr, "/ready").await;
        if ready.starts_with("HTTP/1.1 503") {
            Ok(())
        } else {
            Err(ready)
        }
    })
    .await;
    // `/ready` turns 503 a moment before the listener is closed: poll.
    eventually(
        "the client listener refuses connections while draining",
        WAIT,
        async || match tokio::net::TcpStream::connect(gateway.addr).await {
            Err(_) => Ok(()),
            Ok(_) => Err("the client listener still accepts while draining"),
        },
    )
    .await;
    assert!(gateway.wait_exit(Duration::from_secs(30)).success());
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let mut gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--drain-timeout", "60s"])
        .start();
    // A client that never answers the close frame holds the drain open.
    let _lingering = wsgate_tests::RawClient::connect(gateway.addr).await;
    gateway.signal(libc::SIGTERM);
    gateway.wait_for_log("a second signal exits at once").await;
    gateway.signal(libc::SIGTERM);
    let status = gateway.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(gateway.logs().contains("second signal"));
}

#[tokio::test]
async fn every_disconnect_is_in_the_access_log_when_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--access-log", log.to_str().unwrap()])
        .start();
    let url = gateway.url("/");
    let mut clients: Vec<Client> = join_all((0..50).map(|_| Client::connect(&url))).await;
    gateway.signal(libc::SIGTERM);
    join_all(clients.iter_mut().map(|client| client.recv_close())).await;
    assert!(gateway.wait_exit(Duration::from_secs(30)).success());
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.matches("\"DISCONNECT\"").count(), 50, "{lines}");
}
