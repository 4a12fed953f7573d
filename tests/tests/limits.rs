//! Hostile clients: oversized and malformed frames, floods, slow readers,
//! slowloris handshakes, too many connections, foreign origins. Each is stopped
//! with the documented status or close code while well-behaved clients carry on.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use wsgate_tests::scrape::sample;
use wsgate_tests::{
    Client, Gateway, GatewayBuilder, RawClient, WAIT, eventually, http_get, upgrade_head,
};

fn echo_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(args)
        .start()
}

/// FIN + opcode for a text frame.
const TEXT: u8 = 0x81;

#[tokio::test]
async fn an_oversized_frame_is_closed_with_1009() {
    let gateway = echo_gateway(&["--max-frame-size", "64", "--max-message-size", "4096"]);
    let mut raw = RawClient::connect(gateway.addr).await;
    raw.send_frame(TEXT, &[b'x'; 100], true).await;
    assert_eq!(raw.recv_close_code().await, 1009);
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_is_closed_with_1007() {
    let gateway = echo_gateway(&[]);
    let mut raw = RawClient::connect(gateway.addr).await;
    raw.send_frame(TEXT, &[0xff, 0xfe, 0xfd], true).await;
    assert_eq!(raw.recv_close_code().await, 1007);
}

#[tokio::test]
async fn a_protocol_violation_is_closed_with_1002() {
    let gateway = echo_gateway(&[]);
    let mut raw = RawClient::connect(gateway.addr).await;
    // Clients must mask their frames.
    raw.send_frame(TEXT, b"unmasked", false).await;
    assert_eq!(raw.recv_close_code().await, 1002);
}

#[tokio::test]
async fn a_flood_gets_error_frames_then_1008_while_a_neighbour_is_unaffected() {
    let gateway = echo_gateway(&[
        "--connection-rate",
        "5",
        "--connection-burst",
        "5",
        "--rate-limit-close-after",
        "10",
    ]);
    let mut flooder = gateway.connect("/").await;
    let mut neighbour = gateway.connect("/").await;
    for n in 0..40 {
        flooder.send_text(&format!("flood {n}")).await;
    }
    let (mut echoes, mut refusals) = (0, 0);
    let close = loop {
        match flooder.recv().await {
            Message::Text(text) if text.starts_with("flood") => echoes += 1,
            Message::Text(text) => {
                let error: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(error["message"], "Too many requests");
                refusals += 1;
            }
            Message::Close(frame) => break frame.expect("a close frame"),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1008);
    assert!(echoes >= 5, "the burst went through: {echoes}");
    assert!(refusals >= 1, "refusals came before the close");

    // The neighbour's own bucket is untouched.
    for n in 0..5 {
        neighbour.send_text(&format!("calm {n}")).await;
        assert_eq!(neighbour.recv_text().await, format!("calm {n}"));
    }
}

#[tokio::test]
async fn a_route_rate_limit_holds_for_all_connections_and_only_that_route() {
    let gateway = GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .config(
            r#"
            [routes]
            "$default" = "probe.wasm"
            "whoami" = { component = "probe.wasm", rate = 1, burst = 2 }
            "#,
        )
        .start();
    let mut ann = gateway.connect("/").await;
    let mut bob = gateway.connect("/").await;
    ann.whoami_id().await;
    bob.whoami_id().await;
    // The route's two tokens are spent, whoever asks next.
    ann.send_json(json!({"action": "whoami"})).await;
    assert_eq!(ann.recv_json().await["message"], "Too many requests");
    // Other routes are not limited.
    bob.send_text("hello").await;
    assert_eq!(bob.recv_json().await["route"], "$default");
    // Counted before the error frame left.
    let metrics = gateway.api("GET", "/metrics", b"").await.text();
    for (route, throttled) in [("whoami", 1.0), ("$default", 0.0)] {
        let series = format!("wsgate_messages_throttled_total{{route=\"{route}\"}}");
        assert_eq!(sample(&metrics, &series), Some(throttled), "{metrics}");
    }
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_and_memory_stays_bounded() {
    let gateway = GatewayBuilder::new()
        .probe(&["$disconnect", "whoami", "flood"])
        .args(&["--outbound-queue", "64"])
        .start();
    let mut slow = gateway.connect("/").await;
    let slow_id = slow.whoami_id().await;
    let rss_before = gateway.rss_kib();
    let mut sender = gateway.connect("/").await;
    // 16 MiB in 16 KiB messages: far more than socket buffers plus the queue hold.
    sender
        .send_json(json!({"action": "flood", "to": slow_id, "size": 16384, "count": 1024}))
        .await;
    let outcome = sender.recv_json().await;
    assert_eq!(outcome["error"], "throttled", "{outcome}");
    assert!(outcome["sent"].as_u64().unwrap() < 1024, "{outcome}");
    gateway
        .wait_for_log(&format!("probe $disconnect {slow_id} 1013 server"))
        .await;
    let grown = gateway.rss_kib().saturating_sub(rss_before);
    assert!(
        grown < 32 * 1024,
        "the gateway grew by {grown} KiB for one slow client"
    );
    drop(slow);
}

#[tokio::test]
async fn a_slowloris_handshake_is_cut_at_the_handshake_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(500);
    let gateway = echo_gateway(&["--handshake-timeout", "500ms"]);
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    let first_byte = Instant::now();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr")
        .await
        .unwrap();
    // The gateway answers 408 or just closes; either way the connection ends.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut rest)).await;
    let cut_after = first_byte.elapsed();
    assert!(read.is_ok(), "the stalled handshake was not cut");
    assert!(
        cut_after <= 2 * TIMEOUT,
        "cut after {cut_after:?}, more than twice the {TIMEOUT:?} timeout"
    );
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
}

/// An upgrade request head of exactly `size` bytes, padded with one header.
fn head_of_size(addr: std::net::SocketAddr, size: usize) -> String {
    let unpadded = upgrade_head(addr, "x-padding: \r\n").len();
    let padding = "p".repeat(size - unpadded);
    let head = upgrade_head(addr, &format!("x-padding: {padding}\r\n"));
    assert_eq!(head.len(), size);
    head
}

#[tokio::test]
async fn a_request_head_over_the_limit_gets_431_and_one_just_under_is_served() {
    const MAX_HEAD: usize = 8192;
    let gateway = echo_gateway(&["--max-header-size", &MAX_HEAD.to_string()]);
    let under = head_of_size(gateway.addr, MAX_HEAD - 1);
    let (served, _client) = RawClient::send_head(gateway.addr, under.as_bytes()).await;
    assert!(served.starts_with("HTTP/1.1 101"), "{served}");
    let over = head_of_size(gateway.addr, MAX_HEAD + 1);
    let (refused, _) = RawClient::send_head(gateway.addr, over.as_bytes()).await;
    assert!(refused.starts_with("HTTP/1.1 431"), "{refused}");
}

#[tokio::test]
async fn beyond_max_connections_the_upgrade_gets_503() {
    let gateway = echo_gateway(&["--max-connections", "2"]);
    let first = gateway.connect("/").await;
    let _second = gateway.connect("/").await;
    let third = Client::try_connect(gateway.url("/").into_client_request().unwrap()).await;
    match third {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("expected 503, got {:?}", other.map(|_| ())),
    }
    // A place frees up when a connection ends.
    first.close(1000, "").await;
    eventually("the freed place is reused", WAIT, async || {
        Client::try_connect(gateway.url("/").into_client_request().unwrap()).await
    })
    .await;
}

#[tokio::test]
async fn new_connections_over_the_rate_get_429() {
    let gateway = echo_gateway(&["--connections-per-second", "2"]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        match Client::try_connect(gateway.url("/").into_client_request().unwrap()).await {
            Ok(_) => statuses.push(101),
            Err(tungstenite::Error::Http(response)) => statuses.push(response.status().as_u16()),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 101).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn only_allowed_origins_may_connect() {
    let gateway = echo_gateway(&["--allowed-origin", "https://good.example"]);
    let with_origin = |origin: &str| {
        let mut request = gateway.url("/").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
    };
    assert!(
        Client::try_connect(with_origin("https://good.example"))
            .await
            .is_ok()
    );
    match Client::try_connect(with_origin("https://evil.example")).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // Non-browser clients send no Origin and are not affected.
    gateway.connect("/").await;
    let health = http_get(gateway.addr, "/health").await;
    assert!(health.starts_with("HTTP/1.1 200"));
}
