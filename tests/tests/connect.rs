//! `$connect`: rejection with status and body, connection context, a welcome
//! message sent from inside `$connect`, subprotocol choice, and accept-all.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::{Client, GatewayBuilder};

fn probe_gateway() -> wsgate_tests::Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "whoami", "$default"])
        .start()
}

#[tokio::test]
async fn a_rejecting_connect_reaches_the_client_as_an_http_status_with_body() {
    let gateway = probe_gateway();
    let request = gateway.url("/?reject=401").into_client_request().unwrap();
    let (status, body) = Client::refused(request).await;
    assert_eq!(status, 401);
    assert_eq!(body, "rejected by probe");
    // A rejected client is never registered; others connect as usual.
    let mut client = gateway.connect("/").await;
    client.send_json(json!({"action": "whoami"})).await;
    assert_eq!(client.recv_json().await["routeKey"], "whoami");
}

#[tokio::test]
async fn connection_context_from_connect_is_in_every_later_event() {
    let gateway = probe_gateway();
    let mut client = gateway.connect("/?user=ann").await;
    for _ in 0..2 {
        client.send_json(json!({"action": "whoami"})).await;
        assert_eq!(client.recv_json().await["context"]["user"], "ann");
    }
}

#[tokio::test]
async fn a_message_sent_to_the_new_connection_inside_connect_arrives_first() {
    let gateway = probe_gateway();
    let mut client = gateway.connect("/?welcome=hello%20there").await;
    client.send_json(json!({"action": "whoami"})).await;
    assert_eq!(client.recv().await, Message::text("hello there"));
    assert_eq!(client.recv_json().await["routeKey"], "whoami");
}

#[tokio::test]
async fn connect_chooses_one_of_the_offered_subprotocols() {
    let gateway = probe_gateway();
    let mut request = gateway.url("/?proto=1").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chat.v2, chat.v1".parse().unwrap(),
    );
    let client = Client::try_connect(request).await.unwrap();
    assert_eq!(
        client.response.headers()["sec-websocket-protocol"],
        "chat.v2"
    );
}

#[tokio::test]
async fn without_a_connect_route_every_client_is_accepted() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .start();
    let mut client = gateway.connect("/any/path?x=1").await;
    client.send_text("in").await;
    assert_eq!(client.recv_text().await, "in");
}
