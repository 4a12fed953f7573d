//! `$disconnect` runs exactly once per accepted connection, with the close code,
//! reason and initiator, however the connection ends.
//!
//! The probe's `$disconnect` reports to the `observers` group, so an observer
//! client sees every disconnect event the gateway ran.

use serde_json::json;
use wsgate_tests::{Gateway, GatewayBuilder, WAIT, eventually};

fn probe_gateway() -> Gateway {
    GatewayBuilder::new()
        .probe(&[
            "$connect",
            "$disconnect",
            "$default",
            "whoami",
            "closeme",
            "kick",
            "info",
        ])
        .args(&["--max-message-size", "1024"])
        .start()
}

#[tokio::test]
async fn a_client_close_reports_its_code_and_reason_once() {
    let gateway = probe_gateway();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/?user=bob").await;
    let id = client.whoami_id().await;
    client.close(4100, "done here").await;
    let report = observer.disconnect_report(&id).await;
    assert_eq!(report["code"], 4100);
    assert_eq!(report["reason"], "done here");
    assert_eq!(report["initiator"], "client");
    assert_eq!(report["context"]["user"], "bob");
}

#[tokio::test]
async fn a_dropped_tcp_connection_reports_1006_once() {
    let gateway = probe_gateway();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client.drop_connection();
    let report = observer.disconnect_report(&id).await;
    assert_eq!(report["code"], 1006);
    assert_eq!(report["initiator"], "client");
}

#[tokio::test]
async fn a_handler_closing_its_own_connection_reports_once() {
    let gateway = probe_gateway();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client
        .send_json(json!({"action": "closeme", "code": 4001, "reason": "bye"}))
        .await;
    let frame = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4001);
    assert_eq!(frame.reason.as_str(), "bye");
    let report = observer.disconnect_report(&id).await;
    assert_eq!(
        (report["code"].as_u64(), report["initiator"].as_str()),
        (Some(4001), Some("handler"))
    );
}

#[tokio::test]
async fn a_handler_closing_another_connection_reports_once() {
    let gateway = probe_gateway();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut target = gateway.connect("/").await;
    let target_id = target.whoami_id().await;
    let mut admin = gateway.connect("/").await;
    admin
        .send_json(json!({"action": "kick", "target": target_id}))
        .await;
    let frame = target.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4002);
    let report = observer.disconnect_report(&target_id).await;
    assert_eq!(
        (report["reason"].as_str(), report["initiator"].as_str()),
        (Some("kicked"), Some("handler"))
    );
}

#[tokio::test]
async fn the_server_closing_an_oversized_message_reports_once() {
    let gateway = probe_gateway();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client.send_text(&"x".repeat(4096)).await;
    let frame = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1009);
    let report = observer.disconnect_report(&id).await;
    assert_eq!(
        (report["code"].as_u64(), report["initiator"].as_str()),
        (Some(1009), Some("server"))
    );
}

#[tokio::test]
async fn sends_to_a_closed_connection_answer_gone() {
    let gateway = probe_gateway();
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client.close(1000, "").await;
    let mut other = gateway.connect("/").await;
    // The gateway may take a moment to notice; `gone` must come within the wait.
    eventually("the closed connection is gone", WAIT, async || {
        other
            .send_json(json!({"action": "info", "target": id}))
            .await;
        let answer = other.recv_text().await;
        if answer.contains("gone") {
            Ok(())
        } else {
            Err(answer)
        }
    })
    .await;
}
