//! `wsgate:gateway@0.2.0` served beside 0.1.0: the event lent as resources
//! and read with getters, the typed handler errors, `$connect` response
//! headers, and one gateway running components of both versions, swapping a
//! route between them with clients connected.
//!
//! The 0.2.0 guests are `contract-v02` (Rust on raw wit-bindgen, see its
//! docs for its commands), `wat-echo` (hand-written WebAssembly) and
//! every SDK guest; the 0.1.0 ones are `wat-echo-v01` and the builds kept in
//! `tests/fixtures/v0.1/` (`v0.1/probe`, `v0.1/echo`, `v0.1/chat`).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use wsgate_tests::{
    Client, Gateway, GatewayBuilder, WAIT, check, component, deploy, eventually, fixtures_v0_1,
};

/// `contract-v02` on `$connect`, `$disconnect` and `$default`, the 0.1.0
/// build of `probe` on `whoami`.
fn mixed_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .component("$connect.wasm", "contract-v02")
        .component("$disconnect.wasm", "contract-v02")
        .component("$default.wasm", "contract-v02")
        .component("probe.wasm", "v0.1/probe")
        .config("[routes]\nwhoami = \"probe.wasm\"\n")
        .args(args)
        .start()
}

#[test]
fn the_kept_0_1_builds_are_the_ones_their_readme_names() {
    let dir = fixtures_v0_1();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for name in ["echo", "chat", "probe"] {
        let file = format!("{name}.wasm");
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{file}`")))
            .unwrap_or_else(|| panic!("{file} in the README"));
        assert!(
            row.contains(&hash),
            "{file} is not the build the README names (SHA-256 {hash}): \
             the 0.1.0 fixtures are kept, not rebuilt"
        );
        let (ok, said) = check(&dir.join(&file));
        assert!(
            ok && said.contains("(wsgate:gateway@0.1.0)"),
            "{file}: {said}"
        );
    }
}

/// What the contract's getters answer for the next message.
async fn context(client: &mut Client) -> Value {
    client.send_text("context").await;
    client.recv_json().await
}

/// The upgrade's refusal: status, headers and body.
async fn refusal(gateway: &Gateway, path: &str) -> tungstenite::http::Response<Option<Vec<u8>>> {
    let request = gateway.url(path).into_client_request().unwrap();
    match Client::try_connect(request).await {
        Err(tungstenite::Error::Http(response)) => *response,
        Err(other) => panic!("{path}: expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("{path}: the connection was accepted"),
    }
}

fn body(response: &tungstenite::http::Response<Option<Vec<u8>>>) -> String {
    String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn the_getters_answer_what_the_0_1_record_carries_for_the_same_connection() {
    let gateway = mixed_gateway(&["--stage", "prod"]);
    let mut request = gateway
        .url("/room/7?user=ann&x=a%20b&proto=1")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("user-agent", "contract-test/1".parse().unwrap());
    headers.insert("sec-websocket-protocol", "v2, v1".parse().unwrap());
    let mut client = Client::try_connect(request).await.unwrap();
    assert_eq!(client.response.headers()["sec-websocket-protocol"], "v2");

    let seen = context(&mut client).await;
    client.send_json(json!({"action": "whoami"})).await;
    let record = client.recv_json().await;

    // The same facts, read on demand (0.2.0) and lowered whole (0.1.0).
    for (getter, field) in [
        ("connectionId", "connectionId"),
        ("connectedAt", "connectedAt"),
        ("sourceIp", "sourceIp"),
        ("userAgent", "userAgent"),
        ("domainName", "domainName"),
        ("stage", "stage"),
    ] {
        assert_eq!(
            seen[getter], record[field],
            "{getter} vs {field}: {seen} {record}"
        );
    }
    assert_eq!(seen["routeKey"], "$default");
    assert_eq!(seen["sourceIp"], "127.0.0.1");
    assert_eq!(seen["userAgent"], "contract-test/1");
    assert_eq!(seen["domainName"], gateway.addr.to_string());
    assert_eq!(seen["stage"], "prod");
    assert!(seen["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(seen["messageId"].as_str().is_some_and(|id| !id.is_empty()));
    assert_ne!(seen["requestId"], record["requestId"]);
    assert!(seen["connectedAt"].as_u64() <= seen["requestTimeEpoch"].as_u64());
    // The connection context `$connect` (0.2.0) set, by key and whole.
    assert_eq!(seen["user"], "ann");
    assert_eq!(seen["missing"], Value::Null);
    let pairs = seen["connectionContext"].as_array().unwrap();
    assert_eq!(pairs[1], json!(["user", "ann"]));
    assert_eq!(
        json!(record["context"]["user"]),
        json!("ann"),
        "0.1.0 sees the context a 0.2.0 $connect set: {record}"
    );

    // What `$connect` read of the upgrade request.
    let request: Value = serde_json::from_str(pairs[0][1].as_str().unwrap()).unwrap();
    assert_eq!(pairs[0][0], "request");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["path"], "/room/7");
    assert_eq!(
        request["host"],
        gateway.addr.to_string(),
        "header names are case-insensitive"
    );
    assert_eq!(request["missingHeader"], Value::Null);
    assert!(request["headerCount"].as_u64().unwrap() >= 5);
    assert_eq!(
        request["queryParams"],
        json!([["user", "ann"], ["x", "a b"], ["proto", "1"]])
    );
    assert_eq!(request["missingParam"], Value::Null);
    assert_eq!(request["offered"], json!(["v2", "v1"]));

    // A second message: a new message id and request id, the same connection.
    let again = context(&mut client).await;
    assert_eq!(again["connectionId"], seen["connectionId"]);
    assert_ne!(again["messageId"], seen["messageId"]);
    assert_ne!(again["requestId"], seen["requestId"]);
}

#[tokio::test]
async fn each_kind_of_handler_error_gives_its_status_and_only_internal_hides_its_text() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let gateway = mixed_gateway(&[
        "--access-log",
        log.to_str().unwrap(),
        "--max-message-size",
        "1024",
    ]);
    let kinds = [
        ("bad-request", 400),
        ("forbidden", 403),
        ("too-many-requests", 429),
        ("unavailable", 503),
        ("internal", 500),
    ];
    for (kind, status) in kinds {
        let refused = refusal(&gateway, &format!("/?fail={kind}")).await;
        assert_eq!(refused.status().as_u16(), status, "{kind}");
        let expected = match kind {
            "internal" => "Internal server error".to_owned(),
            _ => format!("connect refused: {kind}"),
        };
        assert_eq!(body(&refused), expected, "{kind}");
    }

    let mut client = gateway.connect("/").await;
    for (kind, _) in kinds {
        client.send_text(&format!("fail:{kind}")).await;
        let frame = client.recv_json().await;
        let expected = match kind {
            "internal" => "Internal server error".to_owned(),
            _ => format!("message refused: {kind}"),
        };
        assert_eq!(frame["message"], expected, "{kind}: {frame}");
        assert!(frame["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    }
    // The connection stays open after each.
    assert_eq!(context(&mut client).await["routeKey"], "$default");
    // A refusal's text is bounded like a route response: over the maximum
    // message size, the sender is told the handler's answer was too large.
    client.send_text("fail:forbidden 2000").await;
    let frame = client.recv_json().await;
    assert!(
        frame["message"]
            .as_str()
            .unwrap()
            .starts_with("Response too large"),
        "{frame}"
    );
    gateway
        .wait_for_line(&["the handler's error text is larger than the maximum message size"])
        .await;
    // Only the internal errors are logged as failures; the text of an
    // internal one is in the gateway's log, never sent.
    gateway
        .wait_for_line(&["handler failed", "message refused: internal"])
        .await;

    // The access log records each refusal's status.
    let statuses: Vec<u64> = kinds.iter().map(|(_, status)| u64::from(*status)).collect();
    eventually(
        "the access log has every refused message",
        WAIT,
        async || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let logged: Vec<u64> = text
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|line| line["eventType"] == "MESSAGE")
                .filter_map(|line| line["status"].as_u64())
                .collect();
            match logged.get(..statuses.len()) {
                Some(first) if first == statuses => Ok(()),
                _ => Err(text),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_rejection_carries_the_handlers_headers_and_an_accept_adds_them_to_the_101() {
    let gateway = mixed_gateway(&[]);
    let refused = refusal(&gateway, "/?reject=401").await;
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"contract\""
    );
    assert_eq!(refused.headers()["retry-after"], "7");
    assert_eq!(body(&refused), "rejected by contract");

    let request = gateway
        .url("/?header=set-cookie")
        .into_client_request()
        .unwrap();
    let client = Client::try_connect(request).await.unwrap();
    assert_eq!(client.response.headers()["set-cookie"], "from-handler");

    // Headers of the handshake itself are the gateway's: 500, and logged.
    for name in ["sec-websocket-accept", "connection", "content-length"] {
        let refused = refusal(&gateway, &format!("/?header={name}")).await;
        assert_eq!(refused.status().as_u16(), 500, "{name}");
        assert_eq!(body(&refused), "Internal server error", "{name}");
    }
    gateway
        .wait_for_line(&[
            "$connect set a response header it may not",
            "sec-websocket-accept",
        ])
        .await;
    // A rejection whose status is not 300-599 (which would read as an
    // accept, or as nothing HTTP knows) is refused too.
    for status in ["204", "101", "600"] {
        let refused = refusal(&gateway, &format!("/?reject={status}")).await;
        assert_eq!(refused.status().as_u16(), 500, "{status}");
    }
    gateway
        .wait_for_line(&["$connect rejected with status 204, which is not 300-599"])
        .await;
}

#[tokio::test]
async fn disconnect_reads_the_context_and_how_the_connection_ended() {
    let gateway = mixed_gateway(&[]);
    let mut watcher = gateway.connect("/").await;
    let watcher_id = context(&mut watcher).await["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut leaving = gateway.connect(&format!("/?watch={watcher_id}")).await;
    let leaving_id = context(&mut leaving).await["connectionId"].clone();
    leaving.close(4001, "bye").await;

    let report = watcher.recv_json().await;
    assert_eq!(report["connectionId"], leaving_id);
    assert_eq!(report["routeKey"], "$disconnect");
    assert_eq!(report["code"], 4001);
    assert_eq!(report["reason"], "bye");
    assert_eq!(report["initiator"], "client");
}

#[tokio::test]
async fn wsgate_check_names_the_version_each_component_targets() {
    for (name, world) in [
        ("contract-v02", "wsgate:gateway@0.2.0"),
        ("wat-echo", "wsgate:gateway@0.2.0"),
        ("wsgate-echo", "wsgate:gateway@0.2.0"),
        ("probe", "wsgate:gateway@0.2.0"),
        ("v0.1/echo", "wsgate:gateway@0.1.0"),
        ("wat-echo-v01", "wsgate:gateway@0.1.0"),
    ] {
        let (ok, said) = check(&component(name));
        assert!(ok, "{name}: {said}");
        assert!(
            said.contains(&format!("route handler component ({world})")),
            "{name}: {said}"
        );
    }
    let (ok, said) = check(&component("not-a-handler"));
    assert!(!ok);
    assert!(
        said.contains("`wsgate:gateway/handler@0.2.0` or `wsgate:gateway/handler@0.1.0`"),
        "{said}"
    );
}

/// The world `GET /@routes` reports for `route`.
async fn world_of(gateway: &Gateway, route: &str) -> String {
    let routes = gateway.api("GET", "/@routes", b"").await.json();
    let entry = routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["routeKey"] == route)
        .unwrap_or_else(|| panic!("{route} in {routes}"));
    entry["world"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_route_swaps_from_0_1_to_0_2_and_back_with_its_clients_connected() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "v0.1/echo")
        .start();
    let mut client = gateway.connect("/").await;
    client.send_text("context").await;
    assert_eq!(client.recv_text().await, "context", "the 0.1.0 echo");
    assert_eq!(world_of(&gateway, "$default").await, "wsgate:gateway@0.1.0");

    let contract = std::fs::read(component("contract-v02")).unwrap();
    deploy(gateway.plugins_dir(), "$default.wasm", &contract);
    gateway
        .wait_for_line(&[
            "route swapped",
            "world=wsgate:gateway@0.2.0",
            "generation=2",
        ])
        .await;
    let seen = context(&mut client).await;
    assert_eq!(
        seen["routeKey"], "$default",
        "the 0.2.0 contract answers: {seen}"
    );
    assert_eq!(world_of(&gateway, "$default").await, "wsgate:gateway@0.2.0");

    let echo = std::fs::read(component("wat-echo-v01")).unwrap();
    deploy(gateway.plugins_dir(), "$default.wasm", &echo);
    gateway
        .wait_for_line(&[
            "route swapped",
            "world=wsgate:gateway@0.1.0",
            "generation=3",
        ])
        .await;
    client.send_text("context").await;
    // The same connection throughout: it never noticed.
    assert_eq!(client.recv_text().await, "context", "the 0.1.0 WAT echo");
}
