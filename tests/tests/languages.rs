//! Handlers written in Python, JavaScript, WebAssembly text and C answer
//! real clients, alone and side by side with Rust ones in one gateway; a
//! JavaScript handler reads its route's configuration, keeps values in the
//! key-value store and calls out over HTTP like a Rust one.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::{Backend, Reply};
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

async fn ask(client: &mut Client, action: &str, mut command: Value) -> Value {
    command["action"] = action.into();
    client.send_json(command).await;
    client.recv_json().await
}

#[tokio::test]
async fn a_javascript_handler_reads_config_keeps_kv_and_calls_out_over_http() {
    reads_config_keeps_kv_and_calls_out_over_http("js-probe").await;
}

#[tokio::test]
async fn a_python_handler_reads_config_keeps_kv_and_calls_out_over_http() {
    reads_config_keeps_kv_and_calls_out_over_http("py-probe").await;
}

/// The probe built as `probe` (tests/fixtures/js-probe or py-probe) uses
/// `wasi:config`, `wasi:keyvalue` and `wasi:http` as its route grants them.
async fn reads_config_keeps_kv_and_calls_out_over_http(probe: &str) {
    let allowed = Backend::start(|request| {
        Reply::new(
            200,
            format!(
                "{} {}",
                request.method,
                String::from_utf8_lossy(&request.body)
            ),
        )
    })
    .await;
    let other = Backend::start(|_| Reply::new(200, "should never be asked")).await;
    let gateway = GatewayBuilder::new()
        .component("probe.wasm", probe)
        .config(&format!(
            r#"
            [config]
            greeting = "hello"
            [routes]
            "$connect" = "probe.wasm"
            [routes.config]
            component = "probe.wasm"
            config = {{ room_size = 10 }}
            [routes.kv]
            component = "probe.wasm"
            buckets = ["probe"]
            [routes.fetch]
            component = "probe.wasm"
            http = {{ allowed_hosts = ["{}"] }}
            "#,
            allowed.addr()
        ))
        .start();
    let mut client = gateway.connect("/").await;

    // wasi:config: the route's own values over the shared ones.
    let config = ask(&mut client, "config", json!({"key": null})).await;
    assert_eq!(config, json!({"greeting": "hello", "room_size": "10"}));
    let one = ask(&mut client, "config", json!({"key": "greeting"})).await;
    assert_eq!(one, json!({"value": "hello"}));

    // wasi:keyvalue: a granted bucket keeps values, another one is refused.
    let mut kv = async |command: Value| ask(&mut client, "kv", command).await;
    let set = kv(json!({"op": "set", "bucket": "probe", "key": "k", "value": "v"})).await;
    assert_eq!(set, json!({"ok": null}));
    let got = kv(json!({"op": "get", "bucket": "probe", "key": "k"})).await;
    assert_eq!(got, json!({"ok": "v"}));
    kv(json!({"op": "incr", "bucket": "probe", "key": "n", "delta": 2})).await;
    let total = kv(json!({"op": "incr", "bucket": "probe", "key": "n", "delta": 3})).await;
    assert_eq!(total, json!({"ok": 5}));
    let keys = kv(json!({"op": "keys", "bucket": "probe"})).await;
    assert_eq!(keys, json!({"ok": ["k", "n"]}));
    let denied = kv(json!({"op": "get", "bucket": "other", "key": "k"})).await;
    assert_eq!(denied["error"], "access-denied", "{denied}");

    // wasi:http: fetch() reaches an allowed host and nothing else.
    let answer = ask(
        &mut client,
        "fetch",
        json!({"method": "POST", "url": allowed.url("/hook"), "body": "ping"}),
    )
    .await;
    assert_eq!(answer, json!({"status": 200, "body": "POST ping"}));
    assert_eq!(allowed.wait_for(1).await[0].path, "/hook");
    let refused = ask(
        &mut client,
        "fetch",
        json!({"method": "GET", "url": other.url("/")}),
    )
    .await;
    assert_eq!(refused["error"], "failed", "{refused}");
    gateway
        .wait_for_line(&["outbound HTTP request", "denied", "route=fetch"])
        .await;
    assert!(other.received().is_empty());
}
