//! The chat example, end to end: three clients in two rooms. The Rust chat
//! (`examples/chat`), its 0.1.0 build and the JavaScript one
//! (`examples/js-chat`) pass the same tests.

use serde_json::json;
use wsgate_tests::{Client, Gateway, GatewayBuilder};

/// The chats every scenario runs against, each with its component and its
/// example directory: the Rust one, its build of `wsgate:gateway@0.1.0` kept
/// from before the SDK moved to 0.2.0, and the JavaScript one.
const CHATS: [(&str, &str); 3] = [
    ("chat", "examples/chat"),
    ("v0.1/chat", "examples/chat"),
    ("js-chat", "examples/js-chat"),
];

fn chat_gateway((component, example): (&str, &str)) -> Gateway {
    let config = std::fs::read_to_string(
        wsgate_tests::workspace_root()
            .join(example)
            .join("plugins/wsgate.toml"),
    )
    .expect("the chat example's wsgate.toml");
    GatewayBuilder::new()
        .component("chat.wasm", component)
        .config(&config)
        .start()
}

async fn join(gateway: &Gateway, query: &str) -> Client {
    let mut client = gateway.connect(query).await;
    let welcome = client.recv_text().await;
    assert!(welcome.to_lowercase().contains("welcome"), "{welcome}");
    client
}

#[tokio::test]
async fn messages_reach_everyone_in_the_room_and_no_one_else() {
    for chat in CHATS {
        messages_reach_the_room(chat_gateway(chat)).await;
    }
}

async fn messages_reach_the_room(gateway: Gateway) {
    let mut ann = join(&gateway, "/?room=blue&name=ann").await;
    let mut bob = join(&gateway, "/?room=blue&name=bob").await;
    let mut cat = join(&gateway, "/?room=green&name=cat").await;

    ann.send_json(json!({"action": "sendmessage", "data": "hi blue"}))
        .await;
    assert_eq!(ann.recv_text().await, "hi blue");
    assert_eq!(bob.recv_text().await, "hi blue");

    cat.send_json(json!({"action": "sendmessage", "data": "hi green"}))
        .await;
    assert_eq!(cat.recv_text().await, "hi green");

    // Ann and Bob saw nothing from green: their next message is blue's.
    bob.send_json(json!({"action": "sendmessage", "data": "still blue"}))
        .await;
    assert_eq!(ann.recv_text().await, "still blue");
    assert_eq!(bob.recv_text().await, "still blue");
    cat.expect_silence(std::time::Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn the_room_hears_who_left_and_the_default_room_is_the_lobby() {
    for chat in CHATS {
        the_room_hears_who_left(chat_gateway(chat)).await;
    }
}

async fn the_room_hears_who_left(gateway: Gateway) {
    let mut ann = join(&gateway, "/?name=ann").await;
    let bob = join(&gateway, "/?room=lobby&name=bob").await;
    bob.close(1000, "bye").await;
    let notice = ann.recv_text().await;
    assert!(
        notice.contains("bob") && notice.contains("left"),
        "{notice}"
    );
    ann.send_json(json!({"action": "sendmessage", "data": "alone"}))
        .await;
    assert_eq!(ann.recv_text().await, "alone");
}

#[tokio::test]
async fn a_message_without_data_fails_only_that_event() {
    for chat in CHATS {
        let gateway = chat_gateway(chat);
        let mut ann = join(&gateway, "/?name=ann").await;
        ann.send_json(json!({"action": "sendmessage", "data": 42}))
            .await;
        let error = ann.recv_json().await;
        if chat.0 == "chat" {
            // 0.2.0's typed errors: the chats call this the client's mistake
            // (`bad-request`), whose text the client gets.
            let text = error["message"].as_str().unwrap();
            assert!(text.contains("invalid type"), "{error}");
        } else if chat.0 == "js-chat" {
            let text = error["message"].as_str().unwrap();
            assert!(text.contains(r#""data":"…""#), "{error}");
        } else {
            // 0.1.0 had one kind of error: the text is only logged.
            assert_eq!(error["message"], "Internal server error");
            gateway.wait_for_log("handler failed").await;
        }
        ann.send_json(json!({"action": "sendmessage", "data": "still here"}))
            .await;
        assert_eq!(ann.recv_text().await, "still here");
    }
}

#[tokio::test]
async fn the_chats_keep_their_members_in_the_key_value_store() {
    for chat in CHATS {
        members_are_kept_in_the_key_value_store(chat_gateway(chat)).await;
    }
}

async fn members_are_kept_in_the_key_value_store(gateway: Gateway) {
    let mut ann = join(&gateway, "/?room=blue&name=ann").await;
    let bob = join(&gateway, "/?room=blue&name=bob").await;
    let _cat = join(&gateway, "/?room=green&name=cat").await;
    ann.send_json(json!({"action": "members"})).await;
    assert_eq!(ann.recv_json().await, json!(["ann", "bob"]));
    bob.close(1000, "bye").await;
    assert!(ann.recv_text().await.contains("bob left"));
    ann.send_json(json!({"action": "members"})).await;
    assert_eq!(ann.recv_json().await, json!(["ann"]));
}
