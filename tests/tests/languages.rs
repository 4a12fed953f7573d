//! Handlers written in Python, JavaScript, WebAssembly text and C answer
//! real clients, alone and side by side with Rust ones in one gateway.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::{Client, GatewayBuilder, workspace_root};

/// An example's `plugins/wsgate.toml`.
fn example_config(example: &str) -> String {
    let path = workspace_root()
        .join("examples")
        .join(example)
        .join("plugins/wsgate.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}", path.display()))
}

async fn calc(client: &mut Client, op: &str, args: Value) -> Value {
    client
        .send_json(json!({"action": "calc", "op": op, "args": args}))
        .await;
    client.recv_json().await
}

#[tokio::test]
async fn the_python_calculator_answers_and_its_output_reaches_the_log() {
    let gateway = GatewayBuilder::new()
        .component("calc.wasm", "python-calc")
        .config(&example_config("python-calc"))
        .start();
    let mut client = gateway.connect("/").await;
    assert_eq!(
        calc(&mut client, "add", json!([1, 2, 3.5])).await,
        json!({"result": 6.5})
    );
    assert_eq!(
        calc(&mut client, "mul", json!([2, 3, 7])).await,
        json!({"result": 42})
    );
    assert_eq!(
        calc(&mut client, "sub", json!([10, 4])).await,
        json!({"result": 6})
    );
    // Mistakes are the handler's `bad-request`: an error frame with its text,
    // and the connection stays open for the next request.
    for (op, args, error) in [
        ("div", json!([1, 0]), "division by zero"),
        ("pow", json!([2, 8]), "unknown op 'pow'"),
        ("add", json!("1, 2"), "list of numbers"),
        ("add", json!([]), "list of numbers"),
    ] {
        let answer = calc(&mut client, op, args).await;
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(error), "{op}: {answer}");
        assert!(answer["requestId"].is_string(), "{op}: {answer}");
    }
    gateway
        .wait_for_line(&["calc mul [2, 3, 7] = 42", "route=calc", "plugin=calc.wasm"])
        .await;
}

#[tokio::test]
async fn python_javascript_wat_and_rust_handlers_serve_one_gateway_side_by_side() {
    let gateway = GatewayBuilder::new()
        .component("echo.wasm", "wsgate-echo")
        .component("calc.wasm", "python-calc")
        .component("chat.wasm", "js-chat")
        .component("wat.wasm", "wat-echo")
        .config(
            r#"
            [routes]
            "$default" = "echo.wasm"
            "calc" = "calc.wasm"
            "$connect" = "chat.wasm"
            "sendmessage" = "chat.wasm"
            "$disconnect" = "chat.wasm"
            "wat" = "wat.wasm"
            "#,
        )
        .start();
    let mut ann = gateway.connect("/?name=ann").await;
    assert_eq!(ann.recv_text().await, "welcome to lobby, ann");
    let mut bob = gateway.connect("/?name=bob").await;
    assert_eq!(bob.recv_text().await, "welcome to lobby, bob");

    // Every language in turn, several times over, on the same connections.
    for n in 0..5 {
        assert_eq!(
            calc(&mut ann, "add", json!([n, 1])).await,
            json!({"result": n + 1})
        );
        ann.send_text(&format!("plain {n}")).await;
        assert_eq!(ann.recv_text().await, format!("plain {n}"));
        let wat = json!({"action": "wat", "n": n}).to_string();
        bob.send_text(&wat).await;
        assert_eq!(bob.recv_text().await, wat);
        bob.send_json(json!({"action": "sendmessage", "data": format!("hi {n}")}))
            .await;
        assert_eq!(ann.recv_text().await, format!("hi {n}"));
        assert_eq!(bob.recv_text().await, format!("hi {n}"));
    }

    bob.close(1000, "bye").await;
    assert_eq!(ann.recv_text().await, "bob left lobby");
}

#[tokio::test]
async fn the_c_echo_answers_and_shouts_to_the_room_its_config_names() {
    // The default room comes from the configuration, not from the code.
    let config = example_config("c-echo").replace(r#""lobby""#, r#""hall""#);
    let gateway = GatewayBuilder::new()
        .component("echo.wasm", "c-echo")
        .config(&config)
        .start();
    let mut ann = gateway.connect("/?room=kitchen").await;
    let mut bob = gateway.connect("/?room=kitchen").await;
    let mut cid = gateway.connect("/").await;
    gateway
        .wait_for_line(&["joined hall", "route=$connect", "plugin=echo.wasm"])
        .await;

    // The route response: the message itself, text or binary.
    ann.send_text("hello").await;
    assert_eq!(ann.recv_text().await, "hello");
    ann.send_binary(&[0, 159, 255]).await;
    assert_eq!(ann.recv().await, Message::binary(vec![0, 159, 255]));

    // A shout reaches every member of the sender's room, numbered by the
    // key-value store, and nobody else.
    bob.send_text("/shout dinner is ready").await;
    assert_eq!(ann.recv_text().await, "kitchen #1: dinner is ready");
    assert_eq!(bob.recv_text().await, "kitchen #1: dinner is ready");
    ann.send_text("/shout coming").await;
    assert_eq!(ann.recv_text().await, "kitchen #2: coming");
    assert_eq!(bob.recv_text().await, "kitchen #2: coming");
    cid.send_text("/shout anyone?").await;
    assert_eq!(cid.recv_text().await, "hall #1: anyone?");
    bob.send_text("still here").await;
    assert_eq!(bob.recv_text().await, "still here");

    // An empty shout is the handler's `bad-request`; the connection stays.
    cid.send_text("/shout ").await;
    assert_eq!(cid.recv_json().await["message"], "nothing to shout");
    cid.send_text("bye").await;
    assert_eq!(cid.recv_text().await, "bye");
}
