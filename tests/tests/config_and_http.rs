//! What a route grants its handler: configuration values through `wasi:config`
//! and outbound HTTP through `wasi:http`, only to the hosts the route allows,
//! within its timeout and response size; and the first-party `http-forward`
//! handler round-tripping events through a REST backend.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::backend::{Backend, Reply};
use wsgate_tests::{Client, GatewayBuilder, WAIT, eventually};

/// The probe bound to `$connect`, `$default`, `config` and `fetch`, with
/// `routes` (TOML for `[routes.config]`/`[routes.fetch]`) and `shared`
/// (TOML for `[config]`).
fn probe_with(shared: &str, routes: &str) -> GatewayBuilder {
    GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .config(&format!(
            "[config]\n{shared}\n[routes]\n\"$connect\" = \"probe.wasm\"\n\"$default\" = \"probe.wasm\"\n{routes}"
        ))
}

async fn ask(client: &mut Client, command: Value) -> Value {
    client.send_json(command).await;
    client.recv_json().await
}

async fn fetch(client: &mut Client, method: &str, url: &str) -> Value {
    ask(
        client,
        json!({"action": "fetch", "method": method, "url": url, "body": "ping"}),
    )
    .await
}

#[tokio::test]
async fn config_values_reach_the_handler_and_follow_the_file() {
    let builder = probe_with(
        "greeting = \"hello\"\nroom_size = 50",
        "[routes.config]\ncomponent = \"probe.wasm\"\nconfig = { room_size = 10, debug = true }\n",
    );
    let dir = builder.dir().to_path_buf();
    let gateway = builder.start();
    let mut client = gateway.connect("/").await;

    let all = ask(&mut client, json!({"action": "config", "key": null})).await;
    assert_eq!(
        all,
        json!({"greeting": "hello", "room_size": "10", "debug": "true"}),
        "the route's own values win over [config]; numbers and booleans arrive as text"
    );
    let missing = ask(&mut client, json!({"action": "config", "key": "nope"})).await;
    assert_eq!(missing, json!({"value": null}));

    // Editing the file reconfigures the route without a restart or a swap.
    std::fs::write(
        dir.join("wsgate.toml"),
        "[config]\ngreeting = \"bonjour\"\n[routes]\n\"$connect\" = \"probe.wasm\"\n\"$default\" = \"probe.wasm\"\n\
         [routes.config]\ncomponent = \"probe.wasm\"\nconfig = { room_size = 12 }\n",
    )
    .unwrap();
    gateway
        .wait_for_line(&["route reconfigured", "route=config"])
        .await;
    let all = ask(&mut client, json!({"action": "config", "key": null})).await;
    assert_eq!(all, json!({"greeting": "bonjour", "room_size": "12"}));
}

#[tokio::test]
async fn a_route_without_its_own_table_reads_the_shared_values_only() {
    let gateway = probe_with("greeting = \"hello\"", "config = \"probe.wasm\"\n").start();
    let mut client = gateway.connect("/").await;
    let all = ask(&mut client, json!({"action": "config", "key": null})).await;
    assert_eq!(all, json!({"greeting": "hello"}));
}

#[tokio::test]
async fn outbound_http_reaches_an_allowed_host_and_nothing_else() {
    let allowed = Backend::start(|request| Reply::new(200, format!("hi {}", request.method))).await;
    let other = Backend::start(|_| Reply::new(200, "should never be asked")).await;
    let gateway = probe_with(
        "",
        &format!(
            "[routes.fetch]\ncomponent = \"probe.wasm\"\nhttp = {{ allowed_hosts = [\"{}\"] }}\n",
            allowed.addr()
        ),
    )
    .start();
    let mut client = gateway.connect("/").await;

    let answer = fetch(&mut client, "POST", &allowed.url("/hook?x=1")).await;
    assert_eq!(answer, json!({"status": 200, "body": "hi POST"}));
    let received = allowed.wait_for(1).await;
    assert_eq!(received[0].path, "/hook?x=1");
    assert_eq!(received[0].body, b"ping");

    let denied = fetch(&mut client, "GET", &other.url("/")).await;
    assert_eq!(denied["error"], "denied", "{denied}");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains(&other.addr().to_string()),
        "{denied}"
    );
    gateway
        .wait_for_line(&["outbound HTTP request", "denied", "route=fetch"])
        .await;
    let outside = fetch(&mut client, "GET", "http://192.0.2.1/").await;
    assert_eq!(outside["error"], "denied", "{outside}");
    assert!(other.received().is_empty());
}

#[tokio::test]
async fn a_route_with_no_http_table_may_not_call_out() {
    let backend = Backend::start(|_| Reply::new(200, "no")).await;
    // `fetch` is bound by name only: no grants beyond the shared config.
    let gateway = probe_with("", "fetch = \"probe.wasm\"\n").start();
    let mut client = gateway.connect("/").await;
    let answer = fetch(&mut client, "GET", &backend.url("/")).await;
    assert_eq!(answer["error"], "denied", "{answer}");
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn a_slow_backend_times_out_and_a_large_answer_is_cut_off() {
    let backend = Backend::start(|request| match request.path.as_str() {
        "/slow" => Reply::new(200, "late").after(Duration::from_secs(5)),
        "/large" => Reply::new(200, vec![b'x'; 64 * 1024]),
        "/streamed" => Reply::new(200, vec![b'x'; 64 * 1024]).chunked(),
        _ => Reply::new(200, "quick"),
    })
    .await;
    let gateway = probe_with(
        "",
        &format!(
            "[routes.fetch]\ncomponent = \"probe.wasm\"\n\
             http = {{ allowed_hosts = [\"{}\"], timeout = \"300ms\", max_response_bytes = 1024 }}\n",
            backend.addr()
        ),
    )
    .start();
    let mut client = gateway.connect("/").await;

    let started = std::time::Instant::now();
    let slow = fetch(&mut client, "GET", &backend.url("/slow")).await;
    assert_eq!(slow["error"], "timeout", "{slow}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not apply"
    );

    // Refused on its declared length, and when it declares none, cut off
    // while it is read.
    let large = fetch(&mut client, "GET", &backend.url("/large")).await;
    assert_eq!(large["error"], "too-large", "{large}");
    let streamed = fetch(&mut client, "GET", &backend.url("/streamed")).await;
    assert_eq!(streamed["error"], "too-large", "{streamed}");

    // The handler and the connection are fine afterwards.
    let quick = fetch(&mut client, "GET", &backend.url("/quick")).await;
    assert_eq!(quick, json!({"status": 200, "body": "quick"}));
}

#[tokio::test]
async fn a_bad_http_table_stops_the_gateway_with_a_clear_error() {
    let error = probe_with(
        "",
        "[routes.fetch]\ncomponent = \"probe.wasm\"\nhttp = { allowed_hosts = [\"http://x.com/path\"] }\n",
    )
    .start_and_fail();
    assert!(error.contains("route `fetch`"), "{error}");
    assert!(error.contains("not a URL path"), "{error}");
}

/// A gateway whose every route is `http-forward`, posting to `backend`.
fn forwarding_gateway(backend: &Backend) -> wsgate_tests::Gateway {
    let route = |key: &str| {
        format!(
            "[routes.\"{key}\"]\ncomponent = \"http-forward.wasm\"\n\
             config = {{ backend_url = \"{}\", backend_authorization = \"Bearer backend-token\" }}\n\
             http = {{ allowed_hosts = [\"{}\"] }}\n",
            backend.url("/events"),
            backend.addr()
        )
    };
    GatewayBuilder::new()
        .component("http-forward.wasm", "wsgate_http_forward")
        .config(&[route("$connect"), route("$default"), route("$disconnect")].concat())
        .start()
}

#[tokio::test]
async fn http_forward_round_trips_every_event_through_the_backend() {
    let backend = Backend::start(|request| {
        let event = request.json();
        match event["requestContext"]["eventType"].as_str() {
            Some("CONNECT") if event["queryStringParameters"]["deny"] == "1" => {
                Reply::new(403, "go away")
            }
            Some("MESSAGE") if event["body"] == "fail" => Reply::new(502, "backend broke"),
            Some("MESSAGE") if event["body"] == "quiet" => Reply::new(200, ""),
            Some("MESSAGE") => Reply::new(200, format!("backend got {}", event["body"])),
            _ => Reply::new(200, ""),
        }
    })
    .await;
    let gateway = forwarding_gateway(&backend);

    let mut client = gateway.connect("/?room=1").await;
    let connect = backend.wait_for(1).await.remove(0);
    assert_eq!(connect.method, "POST");
    assert_eq!(connect.path, "/events");
    assert_eq!(
        connect.header("authorization"),
        Some("Bearer backend-token")
    );
    assert_eq!(connect.header("content-type"), Some("application/json"));
    let event = connect.json();
    assert_eq!(event["requestContext"]["routeKey"], "$connect");
    assert_eq!(event["queryStringParameters"]["room"], "1");
    assert_eq!(
        event["multiValueQueryStringParameters"]["room"],
        json!(["1"])
    );
    assert!(event["multiValueHeaders"]["host"].is_array(), "{event}");
    // The fields of a real API Gateway event's requestContext.
    let context = &event["requestContext"];
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["apiId"], "wsgate");
    assert_eq!(context["extendedRequestId"], context["requestId"]);
    let epoch = context["requestTimeEpoch"].as_u64().unwrap();
    assert_eq!(context["requestTime"], wsgate_tests::access_log::clf(epoch));
    let id = event["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();

    client.send_text("hello").await;
    assert_eq!(client.recv_text().await, "backend got \"hello\"");
    let message = backend.wait_for(2).await.remove(1).json();
    assert_eq!(message["requestContext"]["routeKey"], "$default");
    assert_eq!(message["requestContext"]["connectionId"], id.as_str());
    assert_eq!(message["isBase64Encoded"], false);

    client.send_binary(&[0, 159, 146, 150]).await;
    assert_eq!(client.recv_text().await, "backend got \"AJ+Slg==\"");
    assert_eq!(backend.wait_for(3).await[2].json()["isBase64Encoded"], true);

    // An empty answer sends nothing; a failing backend gets the usual error frame.
    client.send_text("quiet").await;
    client.expect_silence(Duration::from_millis(300)).await;
    client.send_text("fail").await;
    let frame = client.recv_json().await;
    assert_eq!(frame["message"], "Internal server error");
    gateway
        .wait_for_line(&["handler failed", "the backend answered 502: backend broke"])
        .await;

    client.close(1000, "done").await;
    let received = backend.wait_for(6).await;
    let disconnect = received[5].json();
    assert_eq!(disconnect["requestContext"]["eventType"], "DISCONNECT");
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1000);

    // A backend's refusal of `$connect` reaches the client as its status and body.
    let request = gateway.url("/?deny=1").into_client_request().unwrap();
    assert_eq!(Client::refused(request).await, (403, "go away".to_owned()));
}

#[tokio::test]
async fn http_forward_without_a_reachable_backend_fails_the_event_only() {
    // A backend that is allowed but not listening.
    let backend = Backend::start(|_| Reply::new(200, "")).await;
    let gateway = forwarding_gateway(&backend);
    let mut client = gateway.connect("/").await;
    let addr = backend.addr();
    drop(backend);
    eventually(
        "the backend stops listening",
        WAIT,
        async || match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => Err("it still accepts"),
            Err(_) => Ok(()),
        },
    )
    .await;
    client.send_text("anyone there?").await;
    for _ in 0..2 {
        // Each message fails alone; the connection stays open.
        let frame = tokio::time::timeout(WAIT, client.recv_json())
            .await
            .unwrap();
        assert_eq!(frame["message"], "Internal server error");
        client.send_text("still there?").await;
    }
    gateway
        .wait_for_line(&["handler failed", "HTTP request failed"])
        .await;
}
