//! The JavaScript client of the reliable subprotocol (`clients/js`) against
//! the real gateway, through a proxy that cuts its connections mid-stream:
//! it sees every message once, in order, on one connection id; its
//! acknowledgements keep the gateway's replay buffer from overflowing; what
//! it sends reaches the handler; its clean close ends it.

use serde_json::{Value, json};
use wsgate_tests::js_client::JsClient;
use wsgate_tests::proxy::Proxy;
use wsgate_tests::{Gateway, GatewayBuilder};

/// The gateway's replay buffer: room for what the test sends while the
/// client is away (under 90 frames unacknowledged at a time), not for all it
/// sends before the second cut (150, of which 130 after the first resume):
/// a client that did not acknowledge would overflow it, and the second
/// resume would be refused.
const RESUME_BUFFER: &str = "100";

/// The `i`-th message the test sends, as the client reports it: text, or
/// every fifth one binary.
fn expected(i: u8) -> Value {
    match i % 5 {
        0 => json!({"bytes": [i, 0, 255]}),
        _ => json!({"text": format!("m{i}")}),
    }
}

/// Sends the connection messages `from..=to` through the management API,
/// one after the other (so in this order).
async fn send(gateway: &Gateway, id: &str, from: u8, to: u8) {
    for i in from..=to {
        let (query, body) = match i % 5 {
            0 => ("?frame=binary", vec![i, 0, 255]),
            _ => ("", format!("m{i}").into_bytes()),
        };
        let path = format!("/@connections/{id}{query}");
        let response = gateway.api("POST", &path, &body).await;
        assert_eq!(response.status, 200, "message {i}: {}", response.text());
    }
}

/// Where `event` is in the client's events.
fn position(events: &[Value], event: &Value) -> usize {
    events
        .iter()
        .position(|candidate| candidate == event)
        .unwrap_or_else(|| panic!("no {event} in {events:?}"))
}

#[tokio::test]
async fn the_js_client_gets_every_message_once_in_order_through_cut_connections() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--resume-buffer", RESUME_BUFFER])
        .start();
    let proxy = Proxy::start(gateway.addr);
    let mut client = JsClient::start(&format!("ws://{}/?from=js", proxy.addr()));
    client.wait_for("session", 1).await;
    let id = client.events_of("session")[0]["connectionId"]
        .as_str()
        .expect("a connection id")
        .to_owned();

    send(&gateway, &id, 1, 20).await;
    client.wait_for("message", 20).await;
    // Frames 21 to 60 are held in the proxy, then lost with the connection
    // (the gateway wrote them: only its replay can bring them).
    proxy.blackhole();
    send(&gateway, &id, 21, 60).await;
    proxy.cut();
    proxy.restore();
    // Sent while the client is away or resuming.
    send(&gateway, &id, 61, 100).await;
    client.wait_for("session", 2).await;

    // A cut with whatever is on the wire, and more sent while it resumes.
    send(&gateway, &id, 101, 150).await;
    proxy.cut();
    send(&gateway, &id, 151, 200).await;
    client.wait_for("session", 3).await;
    send(&gateway, &id, 201, 250).await;
    client.wait_for("message", 250).await;

    // What the client sends reaches the echo, whose answer is numbered like
    // every other frame.
    client.command("send echo me");
    client.wait_for("message", 251).await;
    client.command("close");
    client.wait_for("close", 1).await;
    assert!(client.wait_exit().success(), "the client's script failed");

    let events = client.events();
    let messages = client.events_of("message");
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=251).collect::<Vec<u64>>());
    let received: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut data = m.clone();
            let data = data.as_object_mut().unwrap();
            data.remove("event");
            data.remove("seq");
            Value::Object(data.clone())
        })
        .collect();
    let mut sent: Vec<Value> = (1..=250).map(expected).collect();
    sent.push(json!({"text": "echo me"}));
    assert_eq!(received, sent, "every message once, in order");

    let session = |resumed| json!({"event": "session", "connectionId": id, "resumed": resumed});
    assert_eq!(
        client.events_of("session"),
        [session(false), session(true), session(true)],
        "one connection id throughout"
    );
    let first_resume = position(&events, &client.events_of("session")[1]);
    let lost = position(&events, &messages[20]);
    assert!(
        lost > first_resume,
        "message 21, lost with the first connection, came with the resume"
    );
    assert_eq!(
        client.events_of("sent"),
        [json!({"event": "sent", "ok": true})]
    );
    assert_eq!(client.events_of("reset"), [] as [Value; 0]);
    assert_eq!(client.events_of("error"), [] as [Value; 0]);
    assert_eq!(
        client.events_of("close"),
        [json!({"event": "close", "code": 1000, "reason": ""})]
    );
    let states: Vec<Value> = client
        .events_of("state")
        .into_iter()
        .map(|state| state["state"].clone())
        .collect();
    assert_eq!(
        states,
        [
            "connected",
            "offline",
            "resuming",
            "connected",
            "offline",
            "resuming",
            "connected",
            "closed"
        ]
    );
}
