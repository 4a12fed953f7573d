//! Route selection, `$default`, the Forbidden error frame, route responses,
//! binary frames and per-connection ordering.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::GatewayBuilder;

fn probe_gateway() -> GatewayBuilder {
    GatewayBuilder::new().probe(&["$default", "whoami", "sendmessage"])
}

#[tokio::test]
async fn the_action_field_picks_the_route_and_everything_else_falls_to_default() {
    let gateway = probe_gateway().start();
    let mut client = gateway.connect("/").await;

    client
        .send_json(json!({"action": "sendmessage", "data": "hi"}))
        .await;
    assert_eq!(client.recv_json().await["route"], "sendmessage");

    for unrouted in [
        r#"{"action":"nosuchroute"}"#,
        r#"{"data":"no action"}"#,
        r#"{"action":42}"#,
        "plain text, not JSON",
        r#"["an","array"]"#,
    ] {
        client.send_text(unrouted).await;
        let reply = client.recv_json().await;
        assert_eq!(reply["route"], "$default", "{unrouted}");
        assert_eq!(reply["body"], unrouted);
    }
}

#[tokio::test]
async fn the_route_selection_expression_is_configurable() {
    let gateway = probe_gateway()
        .args(&["--route-selection-expression", "$request.body.meta.route"])
        .start();
    let mut client = gateway.connect("/").await;
    client
        .send_json(json!({"meta": {"route": "sendmessage"}, "action": "whoami"}))
        .await;
    assert_eq!(client.recv_json().await["route"], "sendmessage");
    client.send_json(json!({"action": "sendmessage"})).await;
    assert_eq!(client.recv_json().await["route"], "$default");
}

#[tokio::test]
async fn without_a_matching_route_or_default_the_client_gets_forbidden_and_stays() {
    let gateway = GatewayBuilder::new().probe(&["whoami"]).start();
    let mut client = gateway.connect("/").await;
    client.send_json(json!({"action": "unknown"})).await;
    let error = client.recv_json().await;
    assert_eq!(error["message"], "Forbidden");
    let connection_id = error["connectionId"].as_str().unwrap().to_owned();
    assert!(!connection_id.is_empty());
    assert!(!error["requestId"].as_str().unwrap().is_empty());

    // Still connected: a routed message works afterwards.
    client.send_json(json!({"action": "whoami"})).await;
    assert_eq!(
        client.recv_json().await["connectionId"],
        connection_id.as_str()
    );
}

#[tokio::test]
async fn a_route_response_carries_the_whole_request_context() {
    let gateway = probe_gateway().args(&["--stage", "prod"]).start();
    let request = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = gateway.url("/?user=ann").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("user-agent", "routing-test/1.0".parse().unwrap());
        request
    };
    let mut client = wsgate_tests::Client::try_connect(request).await.unwrap();
    client.send_json(json!({"action": "whoami"})).await;
    let context = client.recv_json().await;
    assert_eq!(context["routeKey"], "whoami");
    assert_eq!(
        context["eventType"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("message")
    );
    assert_eq!(context["sourceIp"], "127.0.0.1");
    assert_eq!(context["userAgent"], "routing-test/1.0");
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["domainName"], gateway.addr.to_string());
    for field in ["connectionId", "messageId", "requestId"] {
        assert!(
            context[field].as_str().is_some_and(|id| id.len() >= 16),
            "{field}: {context}"
        );
    }
    assert!(context["connectedAt"].as_u64().unwrap() <= context["requestTime"].as_u64().unwrap());

    // Every message gets its own message and request ids; the connection id stays.
    client.send_json(json!({"action": "whoami"})).await;
    let second = client.recv_json().await;
    assert_eq!(second["connectionId"], context["connectionId"]);
    assert_ne!(second["messageId"], context["messageId"]);
    assert_ne!(second["requestId"], context["requestId"]);
}

#[tokio::test]
async fn binary_frames_are_echoed_end_to_end() {
    // The Rust echo (0.2.0, and its build of 0.1.0 kept as a fixture) and
    // the hand-written WebAssembly echoes of both versions of the world.
    for echo in [
        "wsgate-echo",
        "v0.1/echo",
        "wat-echo",
        "wat-echo-v01",
        "contract-v02",
    ] {
        let gateway = GatewayBuilder::new()
            .component("$default.wasm", echo)
            .args(&["--max-frame-size", "131072"])
            .start();
        let mut client = gateway.connect("/").await;
        let bytes: Vec<u8> = (0..=255).collect();
        client.send_binary(&bytes).await;
        assert_eq!(client.recv().await, Message::binary(bytes), "{echo}");
        client.send_text("héllo").await;
        assert_eq!(client.recv_text().await, "héllo", "{echo}");
        // Larger than the WAT echo's first memory page: its allocator grows it.
        let big = "x".repeat(100_000);
        client.send_text(&big).await;
        assert_eq!(client.recv_text().await, big, "{echo}");
    }
}

#[tokio::test]
async fn replies_to_one_connection_keep_the_order_of_its_messages() {
    // Far more messages than the outbound queue holds: a client that pipelines
    // is slowed to its reading pace, never closed or reordered.
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--outbound-queue", "8"])
        .start();
    let mut client = gateway.connect("/").await;
    for n in 0..300 {
        client.send_text(&n.to_string()).await;
    }
    for n in 0..300 {
        assert_eq!(client.recv_text().await, n.to_string());
    }
}

#[tokio::test]
async fn a_route_response_follows_what_its_handler_sent_to_the_same_connection() {
    let gateway = GatewayBuilder::new().probe(&["whoami", "sendto"]).start();
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    for n in 0..20 {
        client
            .send_json(json!({"action": "sendto", "to": id, "data": format!("pushed {n}")}))
            .await;
    }
    for n in 0..20 {
        assert_eq!(client.recv_text().await, format!("pushed {n}"));
        assert_eq!(client.recv_text().await, "sent");
    }
}
