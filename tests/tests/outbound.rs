//! What the gateway writes to a client is bounded: a route response over the
//! maximum message size is refused (an error frame, never a wedged writer), and
//! a client that does not read is closed with a real 1013 close frame once its
//! outbound queue is full, in messages or in bytes, so memory stays bounded.

use serde_json::json;
use wsgate_tests::{Client, Gateway, GatewayBuilder};

/// A probe gateway with `args`.
fn probe_gateway(routes: &[&str], args: &[&str]) -> Gateway {
    GatewayBuilder::new().probe(routes).args(args).start()
}

#[tokio::test]
async fn a_route_response_over_the_limit_gets_an_error_frame_and_the_connection_goes_on() {
    let gateway = probe_gateway(&["reply", "whoami"], &[]);
    let mut client = gateway.connect("/").await;
    // Just over the limit, and far over what once wedged the writer.
    for size in [131_073, 300_000, 2_000_000] {
        client
            .send_json(json!({"action": "reply", "size": size}))
            .await;
        let frame = client.recv_json().await;
        let message = frame["message"].as_str().unwrap_or_default();
        assert!(message.contains("131072 bytes"), "{frame}");
        assert!(frame["requestId"].is_string(), "{frame}");
    }
    // The limit itself is fine, and the connection answers as before.
    client
        .send_json(json!({"action": "reply", "size": 131_072}))
        .await;
    assert_eq!(client.recv_text().await.len(), 131_072);
    client.send_json(json!({"action": "whoami"})).await;
    assert_eq!(client.recv_json().await["routeKey"], "whoami");

    gateway
        .wait_for_line(&[
            "the route response is larger than the maximum message size",
            "reply",
        ])
        .await;
    let metrics = gateway.api("GET", "/metrics", b"").await.text();
    assert!(
        metrics.contains(r#"wsgate_handler_errors_total{route="reply",kind="invalid-response"} 3"#),
        "{metrics}"
    );
}

/// Floods `target` from `sender` through the probe until its queue is full;
/// returns how many messages of `size` bytes went in.
async fn flood_until_throttled(sender: &mut Client, target: &str, size: usize) -> u64 {
    sender
        .send_json(json!({"action": "flood", "to": target, "size": size, "count": 100_000}))
        .await;
    let outcome = sender.recv_json().await;
    assert_eq!(outcome["error"], "throttled", "{outcome}");
    outcome["sent"].as_u64().unwrap()
}

#[tokio::test]
async fn a_client_that_does_not_read_gets_a_real_1013_close_frame() {
    let gateway = probe_gateway(&["$disconnect", "whoami", "flood"], &[]);
    let mut stuck = gateway.connect("/").await;
    let stuck_id = stuck.whoami_id().await;
    let mut sender = gateway.connect("/").await;
    flood_until_throttled(&mut sender, &stuck_id, 64 * 1024).await;
    // It reads again, within the close grace: what was queued, then the close frame.
    let frame = stuck.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1013, "{frame:?}");
    assert!(frame.reason.contains("reads too slowly"), "{frame:?}");
    gateway
        .wait_for_log(&format!("probe $disconnect {stuck_id} 1013 server"))
        .await;
}

#[tokio::test]
async fn stuck_clients_hold_at_most_their_queues_bytes() {
    const STUCK: usize = 20;
    let gateway = probe_gateway(&["$disconnect", "whoami", "flood"], &[]);
    let mut stuck = Vec::new();
    for _ in 0..STUCK {
        let mut client = gateway.connect("/").await;
        let id = client.whoami_id().await;
        stuck.push((client, id));
    }
    let mut sender = gateway.connect("/").await;
    let rss_before = gateway.rss_kib();
    // 128 KiB messages: the default queue of 256 messages would hold 32 MiB
    // each; its default byte bound holds 1 MiB.
    for (_, id) in &stuck {
        flood_until_throttled(&mut sender, id, 128 * 1024).await;
    }
    let grown = gateway.rss_kib().saturating_sub(rss_before);
    assert!(
        grown < 96 * 1024,
        "{STUCK} stuck clients grew the gateway by {grown} KiB"
    );
    for (_, id) in &stuck {
        gateway
            .wait_for_log(&format!("probe $disconnect {id} 1013 server"))
            .await;
    }
}
