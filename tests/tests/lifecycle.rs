//! Connection lifecycle: keepalive pings close dead peers, the idle timeout and
//! the maximum duration end connections, and each runs `$disconnect` once with
//! the right initiator.

use std::time::Duration;

use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::{Gateway, GatewayBuilder, RawClient, WAIT, eventually, quiet};

fn probe_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "$default", "whoami"])
        .args(args)
        .start()
}

/// Waits until `$disconnect` has run for `id` with `code` and `initiator` (the
/// probe logs each run), then checks it ran once. Timers close observer
/// connections too, so the log is the witness here.
async fn disconnected_once(gateway: &Gateway, id: &str, code: u16, initiator: &str) {
    let line = format!("probe $disconnect {id} {code} {initiator}");
    gateway.wait_for_log(&line).await;
    // Long enough for a second run to show.
    quiet(Duration::from_millis(300)).await;
    let runs = gateway
        .logs()
        .matches(&format!("probe $disconnect {id} "))
        .count();
    assert_eq!(runs, 1, "$disconnect ran {runs} times for {id}");
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_as_a_ping_timeout() {
    let gateway = probe_gateway(&["--ping-interval", "200ms", "--ping-timeout", "300ms"]);
    // A raw client completes the handshake and then never reads, so never pongs.
    let silent = RawClient::connect(gateway.addr).await;
    gateway.wait_for_log("1001 ping-timeout").await;
    let runs = gateway.logs().matches("probe $disconnect ").count();
    assert_eq!(runs, 1, "one connection, one $disconnect");
    drop(silent);
}

#[tokio::test]
async fn a_client_that_answers_pings_gets_them_every_interval_and_stays_connected() {
    const INTERVAL: Duration = Duration::from_millis(200);
    let gateway = probe_gateway(&["--ping-interval", "200ms", "--ping-timeout", "300ms"]);
    let mut client = gateway.connect("/").await;
    // Each ping within the interval (twice it, for a busy machine); reading on
    // lets the client library answer each with a pong. Five pings outlast the
    // ping timeout several times over.
    for _ in 0..5 {
        client.recv_ping(2 * INTERVAL).await;
    }
    let id = client.whoami_id().await;
    assert!(!id.is_empty());
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_reported() {
    let gateway = probe_gateway(&["--idle-timeout", "400ms"]);
    let mut idle = gateway.connect("/").await;
    let id = idle.whoami_id().await;
    let frame = idle.recv_close().await.expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1001, "idle timeout")
    );
    disconnected_once(&gateway, &id, 1001, "idle-timeout").await;
}

#[tokio::test]
async fn traffic_keeps_a_connection_from_idling_out() {
    let gateway = probe_gateway(&["--idle-timeout", "400ms"]);
    let mut client = gateway.connect("/").await;
    // A message every 150 ms for longer than the idle timeout, and no close.
    for _ in 0..6 {
        client.expect_silence(Duration::from_millis(150)).await;
        client.whoami_id().await;
    }
}

#[tokio::test]
async fn a_connection_reaching_its_maximum_duration_is_closed_however_busy() {
    let gateway = probe_gateway(&["--max-connection-duration", "500ms"]);
    let mut busy = gateway.connect("/").await;
    let id = busy.whoami_id().await;
    // Talking all the while, until the gateway closes.
    let frame = eventually("the busy connection is closed", WAIT, async || {
        busy.send_text("still talking").await;
        match busy.recv().await {
            Message::Close(frame) => Ok(frame),
            other => Err(other),
        }
    })
    .await
    .expect("a close frame");
    assert_eq!(u16::from(frame.code), 1001);
    disconnected_once(&gateway, &id, 1001, "max-duration").await;
}
