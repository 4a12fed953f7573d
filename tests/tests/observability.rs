//! `/ready` on both listeners, Prometheus metrics after real traffic, and the
//! access log's lines for connect, message and disconnect.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::access_log::{clf, read_lines};
use wsgate_tests::scrape::sample;
use wsgate_tests::{Client, GatewayBuilder, http_get};

#[tokio::test]
async fn ready_answers_on_both_listeners() {
    let gateway = GatewayBuilder::new().probe(&["$connect", "whoami"]).start();
    for addr in [gateway.addr, gateway.api_addr] {
        let response = http_get(addr, "/ready").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

#[tokio::test]
async fn metrics_count_connections_messages_latency_errors_and_api_requests() {
    let gateway = GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .component("boom.wasm", "faulty")
        .config("[routes]\n\"$connect\" = \"probe.wasm\"\nwhoami = \"probe.wasm\"\n\"$default\" = \"boom.wasm\"\n")
        .args(&["--allowed-origin", "https://good.example"])
        .start();
    let mut ann = gateway.connect("/").await;
    let bob = gateway.connect("/").await;
    for (path, origin) in [
        ("/?reject=401", "https://good.example"),
        ("/", "https://evil.example"),
    ] {
        let mut request = gateway.url(path).into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        assert!(
            Client::try_connect(request).await.is_err(),
            "{path} {origin}"
        );
    }
    let id = ann.whoami_id().await;
    ann.send_text("panic").await;
    assert_eq!(ann.recv_json().await["message"], "Internal server error");
    gateway
        .api("POST", &format!("/@connections/{id}"), b"pushed")
        .await;
    assert_eq!(ann.recv_text().await, "pushed");
    gateway.api("GET", "/@connections/gone", b"").await;
    bob.close(1000, "").await;

    let metrics = gateway
        .wait_for_sample("wsgate_connections_open", 1.0)
        .await;
    let expect = |name: &str, value: f64| {
        assert_eq!(sample(&metrics, name), Some(value), "{name} in\n{metrics}");
    };
    expect("wsgate_connections_accepted_total", 2.0);
    expect("wsgate_connections_rejected_total{status=\"401\"}", 1.0);
    expect("wsgate_connections_rejected_total{status=\"403\"}", 1.0);
    expect("wsgate_messages_in_total{route=\"whoami\"}", 1.0);
    expect("wsgate_messages_out_total{route=\"whoami\"}", 1.0);
    expect("wsgate_messages_in_total{route=\"$default\"}", 1.0);
    expect(
        "wsgate_handler_errors_total{route=\"$default\",kind=\"trap\"}",
        1.0,
    );
    expect(
        "wsgate_handler_duration_seconds_count{route=\"whoami\"}",
        1.0,
    );
    expect(
        "wsgate_handler_duration_seconds_count{route=\"$connect\"}",
        3.0,
    );
    expect("wsgate_api_requests_total{status=\"200\"}", 1.0);
    expect("wsgate_api_requests_total{status=\"410\"}", 1.0);
    assert!(sample(&metrics, "wsgate_bytes_in_total").unwrap() > 0.0);
    assert!(sample(&metrics, "wsgate_bytes_out_total").unwrap() >= 6.0);
}

#[tokio::test]
async fn a_bound_routes_series_are_scraped_at_zero_before_its_first_event() {
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "whoami", "$default"])
        .start();
    let metrics = gateway.api("GET", "/metrics", b"").await.text();
    for route in ["$connect", "whoami", "$default", "-"] {
        for name in [
            format!("wsgate_messages_in_total{{route=\"{route}\"}}"),
            format!("wsgate_messages_out_total{{route=\"{route}\"}}"),
            format!("wsgate_handler_duration_seconds_count{{route=\"{route}\"}}"),
        ] {
            assert_eq!(sample(&metrics, &name), Some(0.0), "{name} in\n{metrics}");
        }
    }
    // A message counts in its route's series, which are the same ones.
    let mut client = gateway.connect("/").await;
    client.whoami_id().await;
    gateway
        .wait_for_sample("wsgate_messages_in_total{route=\"whoami\"}", 1.0)
        .await;
}

#[tokio::test]
async fn the_access_log_has_a_json_line_per_connect_message_and_disconnect() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami"])
        .args(&["--access-log", log.to_str().unwrap()])
        .args(&["--stage", "prod", "--api-id", "a1b2c3d4e5"])
        .start();
    let mut client = gateway.connect("/").await;
    client
        .send_json(serde_json::json!({"action": "whoami"}))
        .await;
    let whoami_text = client.recv_text().await;
    let whoami: Value = serde_json::from_str(&whoami_text).unwrap();
    let id = whoami["connectionId"].as_str().unwrap();
    client.send_text("no route takes this").await;
    let forbidden = client.recv_text().await;
    assert!(forbidden.contains("Forbidden"), "{forbidden}");
    client.close(4000, "done").await;

    let lines: Vec<Value> = read_lines(&log, 4)
        .await
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let field = |line: &Value, name: &str| line[name].clone();
    let column = |name: &str| {
        lines
            .iter()
            .map(|line| field(line, name))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        column("eventType"),
        ["CONNECT", "MESSAGE", "MESSAGE", "DISCONNECT"]
    );
    assert_eq!(
        column("routeKey"),
        ["$connect", "whoami", "-", "$disconnect"]
    );
    assert_eq!(column("status"), [200, 200, 403, 200]);
    assert_eq!(
        column("httpMethod"),
        [json!("GET"), json!(null), json!(null), json!(null)]
    );
    assert_eq!(
        column("protocol"),
        [json!("HTTP/1.1"), json!(null), json!(null), json!(null)]
    );
    let lengths = [
        json!(0),
        json!(whoami_text.len()),
        json!(forbidden.len()),
        json!(null),
    ];
    assert_eq!(column("responseLength"), lengths);
    assert_eq!(
        column("integrationStatus"),
        [json!(200), json!(200), json!(null), json!(200)]
    );
    let response_types = [json!(null), json!(null), json!("DEFAULT_4XX"), json!(null)];
    assert_eq!(column("errorResponseType"), response_types);
    for line in &lines {
        assert_eq!(line["connectionId"], id);
        assert_eq!(line["sourceIp"], "127.0.0.1");
        assert!(line["requestId"].as_str().is_some_and(|id| !id.is_empty()));
        assert_eq!(line["extendedRequestId"], line["requestId"]);
        let epoch = line["requestTimeEpoch"].as_u64().unwrap();
        assert_eq!(line["requestTime"], clf(epoch).as_str(), "{line}");
        assert_eq!(line["userAgent"], "");
        assert_eq!(line["connectedAt"], whoami["connectedAt"]);
        assert_eq!(line["domainName"], gateway.addr.to_string());
        assert_eq!(line["stage"], "prod");
        assert_eq!(line["apiId"], "a1b2c3d4e5");
        assert!(line["integrationErrorMessage"].is_null(), "{line}");
    }
    assert_eq!(lines[1]["requestId"], whoami["requestId"]);
    assert_eq!(lines[1]["requestTimeEpoch"], whoami["requestTime"]);
    assert!(lines[1]["integrationLatency"].is_number());
    assert!(lines[1]["messageId"].is_string());
    assert!(lines[1]["errorMessage"].is_null());
    assert_eq!(lines[2]["errorMessage"], "Forbidden");
    assert!(lines[2]["integrationLatency"].is_null());
    assert_eq!(lines[3]["disconnectStatusCode"], 4000);
    assert_eq!(lines[3]["disconnectReason"], "done");
}

#[tokio::test]
async fn the_access_log_can_be_key_value_text() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .args(&[
            "--access-log",
            log.to_str().unwrap(),
            "--access-log-format",
            "text",
        ])
        .start();
    let client = gateway.connect("/").await;
    client.close(1000, "").await;
    let lines = read_lines(&log, 2).await;
    assert!(lines[0].starts_with("requestId="), "{}", lines[0]);
    assert!(
        lines[0].contains(" eventType=CONNECT ") && lines[0].contains(" userAgent=\"\" "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" eventType=DISCONNECT ")
            && lines[1].contains(" disconnectStatusCode=1000 "),
        "{}",
        lines[1]
    );
}

/// A message the connection's own rate limit refuses is an event like one its
/// route's limit refuses: an access log line (status 429, the error frame's
/// request id) and a count in its route's series.
#[tokio::test]
async fn messages_over_the_connections_rate_are_logged_and_counted() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--access-log", log.to_str().unwrap()])
        .args(&["--connection-rate", "1", "--connection-burst", "1"])
        .args(&["--rate-limit-close-after", "100"])
        .start();
    let mut client = gateway.connect("/").await;
    const SENT: usize = 5;
    for n in 0..SENT {
        client.send_text(&format!("m{n}")).await;
    }
    // The burst's one token lets the first through; a token a second comes back.
    let mut refused = Vec::new();
    for _ in 0..SENT {
        match client.recv_text().await {
            echo if echo.starts_with('m') => {}
            error => {
                let error: Value = serde_json::from_str(&error).unwrap();
                assert_eq!(error["message"], "Too many requests", "{error}");
                refused.push(error["requestId"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        !refused.is_empty(),
        "five messages at once exceed a burst of one"
    );

    let lines: Vec<Value> = read_lines(&log, 1 + SENT)
        .await
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let throttled: Vec<&Value> = lines.iter().filter(|line| line["status"] == 429).collect();
    assert_eq!(throttled.len(), refused.len(), "{lines:?}");
    for (line, request_id) in throttled.iter().zip(&refused) {
        assert_eq!(line["eventType"], "MESSAGE", "{line}");
        assert_eq!(line["routeKey"], "$default", "{line}");
        assert_eq!(line["errorMessage"], "Too many requests", "{line}");
        assert_eq!(line["requestId"], request_id.as_str(), "{line}");
    }

    let metrics = gateway
        .wait_for_sample("wsgate_messages_in_total{route=\"$default\"}", SENT as f64)
        .await;
    let throttled = "wsgate_messages_throttled_total{route=\"$default\"}";
    assert_eq!(
        sample(&metrics, throttled),
        Some(refused.len() as f64),
        "{metrics}"
    );
}
