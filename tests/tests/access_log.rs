//! The access log in API Gateway's own terms: `--access-log-format` takes a
//! template of `$context` variables, as a stage's `access_log_settings.format`
//! does, verbatim, and a template AWS would refuse is refused at start-up.

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::access_log::{clf, is_request_id, open_parts, read_lines};
use wsgate_tests::{Client, GatewayBuilder};

/// The format string of a real deployment (an HTTP API's CLF preset, with the
/// integration's error added).
const AWS_CLF: &str = "$context.identity.sourceIp - - [$context.requestTime] \"$context.httpMethod $context.routeKey $context.protocol\" $context.status $context.responseLength $context.requestId $context.integrationErrorMessage";

/// Checks `line` against `expected`, whose open parts (`{}`) are the CLF
/// time, which falls between `from` and `to` (ms since the epoch), and the
/// request id.
fn time_and_id(expected: &str, line: &str, from: u64, to: u64) {
    let open = open_parts(expected, line)
        .unwrap_or_else(|| panic!("the line\n  {line}\nis not\n  {expected}"));
    let [time, id] = <[String; 2]>::try_from(open).expect("two open parts");
    assert!(is_clf_between(&time, from, to), "{time}: {line}");
    assert!(is_request_id(&id), "{id}: {line}");
}

/// Whether `time` is the CLF time of a second between `from` and `to` (ms
/// since the epoch).
fn is_clf_between(time: &str, from: u64, to: u64) -> bool {
    (from / 1000..=to / 1000).any(|second| clf(second * 1000) == time)
}

fn now_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.unwrap().as_millis() as u64
}

#[tokio::test]
async fn an_aws_clf_template_is_written_verbatim_for_connect_messages_and_disconnect() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami"])
        .args(&["--access-log", log.to_str().unwrap()])
        .args(&["--access-log-format", AWS_CLF])
        .start();
    let from = now_ms();
    let mut client = gateway.connect("/").await;
    client
        .send_json(serde_json::json!({"action": "whoami"}))
        .await;
    let whoami_text = client.recv_text().await;
    let whoami: Value = serde_json::from_str(&whoami_text).unwrap();
    client.send_text("no route takes this").await;
    let forbidden_text = client.recv_text().await;
    let forbidden: Value = serde_json::from_str(&forbidden_text).unwrap();
    assert_eq!(forbidden["message"], "Forbidden");
    client.close(1000, "").await;
    let lines = read_lines(&log, 4).await;
    let to = now_ms();

    let connect = "127.0.0.1 - - [{}] \"GET $connect HTTP/1.1\" 200 0 {} -";
    time_and_id(connect, &lines[0], from, to);
    let message = format!(
        "127.0.0.1 - - [{}] \"- whoami -\" 200 {} {} -",
        clf(whoami["requestTime"].as_u64().unwrap()),
        whoami_text.len(),
        whoami["requestId"].as_str().unwrap(),
    );
    assert_eq!(lines[1], message);
    let unrouted = format!(
        "127.0.0.1 - - [{{}}] \"- - -\" 403 {} {} -",
        forbidden_text.len(),
        forbidden["requestId"].as_str().unwrap(),
    );
    let open = open_parts(&unrouted, &lines[2]).unwrap_or_else(|| panic!("{}", lines[2]));
    assert!(is_clf_between(&open[0], from, to), "{}", lines[2]);
    let disconnect = "127.0.0.1 - - [{}] \"- $disconnect -\" 200 - {} -";
    time_and_id(disconnect, &lines[3], from, to);
}

#[tokio::test]
async fn a_template_shows_the_integrations_error_and_status_and_dashes_for_what_is_empty() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let template = "$context.requestId|$context.eventType|$context.status|$context.integration.status|$context.integrationStatus|$context.integration.error|$context.integrationErrorMessage|$context.error.responseType|$context.error.message|$context.identity.userAgent|$context.stage|$context.apiId|$context.identity.caller";
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "faulty")
        .args(&["--access-log", log.to_str().unwrap()])
        .args(&["--access-log-format", template])
        .start();
    let mut client = gateway.connect("/").await;
    client.send_text("error").await;
    let refused: Value = client.recv_json().await;
    assert_eq!(refused["message"], "Internal server error");
    client.send_text("panic").await;
    let trapped: Value = client.recv_json().await;
    client.close(1000, "").await;
    let lines = read_lines(&log, 4).await;

    // No `$connect` route: nothing ran, nothing answered but the 101. The
    // API is `wsgate` when not named.
    let open = open_parts("{}|CONNECT|200|-|-|-|-|-|-|-|-|wsgate|-", &lines[0]);
    assert!(open.is_some_and(|id| is_request_id(&id[0])), "{}", lines[0]);
    assert_eq!(
        lines[1],
        format!(
            "{}|MESSAGE|500|500|500|{refused}|{refused}|-|{refused}|-|-|wsgate|-",
            refused["requestId"].as_str().unwrap(),
            refused = "the handler returned an error: faulty handler refused",
        )
    );
    let trap = format!(
        "{}|MESSAGE|500|-|-|{{}}|{{}}|INTEGRATION_FAILURE|{{}}|-|-|wsgate|-",
        trapped["requestId"].as_str().unwrap()
    );
    let open = open_parts(&trap, &lines[2]).unwrap_or_else(|| panic!("{}", lines[2]));
    assert!(open[0].starts_with("the handler trapped: "), "{}", lines[2]);
    assert!(open.iter().all(|part| *part == open[0]), "{}", lines[2]);
    assert!(
        lines[3].contains("|DISCONNECT|200|-|-|-|-|-|-|-|-|wsgate|-"),
        "{}",
        lines[3]
    );
}

#[tokio::test]
async fn a_json_template_gets_its_variables_substituted_and_escaped_inside_strings() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("access.log");
    let template = r#"{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "ua":"$context.identity.userAgent", "requestTime":"$context.requestTime", "eventType":"$context.eventType", "routeKey":"$context.routeKey", "status":"$context.status", "connectionId":"$context.connectionId", "user":"$context.authorizer.user", "stage":"$context.stage", "apiId":"$context.apiId", "domainName":"$context.domainName", "connectedAt":"$context.connectedAt", "error":$context.error.messageString }"#;
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "whoami"])
        .args(&["--access-log", log.to_str().unwrap()])
        .args(&["--access-log-format", template])
        .args(&["--stage", "prod", "--api-id", "a1b2c3d4e5"])
        .start();
    let agent = "probe \"quoted\" \\ agent";
    let mut request = gateway.url("/?user=ann").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("User-Agent", agent.parse().unwrap());
    let mut client = Client::try_connect(request).await.unwrap();
    let whoami = {
        client
            .send_json(serde_json::json!({"action": "whoami"}))
            .await;
        client.recv_json().await
    };
    client.send_text("no route takes this").await;
    client.recv_json().await;
    client.close(1000, "").await;

    let lines: Vec<Value> = read_lines(&log, 4)
        .await
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let id = whoami["connectionId"].as_str().unwrap();
    let domain = gateway.addr.to_string();
    for (line, (event, route, status, user, error)) in lines.iter().zip([
        ("CONNECT", "$connect", "200", "-", "-"),
        ("MESSAGE", "whoami", "200", "ann", "-"),
        ("MESSAGE", "-", "403", "ann", "Forbidden"),
        ("DISCONNECT", "$disconnect", "200", "ann", "-"),
    ]) {
        let expect = serde_json::json!({
            "requestId": line["requestId"],
            "ip": "127.0.0.1",
            "ua": agent,
            "requestTime": line["requestTime"],
            "eventType": event,
            "routeKey": route,
            "status": status,
            "connectionId": id,
            "user": user,
            "stage": "prod",
            "apiId": "a1b2c3d4e5",
            "domainName": domain,
            "connectedAt": whoami["connectedAt"].to_string(),
            "error": error,
        });
        assert_eq!(*line, expect);
        assert!(is_request_id(line["requestId"].as_str().unwrap()), "{line}");
    }
    assert_eq!(lines[1]["requestId"], whoami["requestId"]);
    let time = clf(whoami["requestTime"].as_u64().unwrap());
    assert_eq!(lines[1]["requestTime"], time.as_str());
}

#[tokio::test]
async fn a_template_aws_would_refuse_stops_the_gateway_at_start_naming_the_problem() {
    for (format, problem) in [
        (
            "$context.requestId $context.requestIdx $context.identity.sourceIP",
            "The following context variables are not supported: [$context.requestIdx, $context.identity.sourceIP]",
        ),
        (
            "$context.identity.sourceIp [$context.requestTime]",
            "must include $context.requestId or $context.extendedRequestId",
        ),
        ("$context.requestId\n$context.status", "a single line"),
        ("jsn", "use json, text or a template of $context variables"),
    ] {
        let stderr = GatewayBuilder::new()
            .args(&["--access-log-format", format])
            .start_and_fail();
        assert!(stderr.contains(problem), "{format}: {stderr}");
    }
    // The same from the configuration file.
    let stderr = GatewayBuilder::new()
        .config("access_log_format = \"$context.requestId $context.nope\"\n")
        .start_and_fail();
    assert!(stderr.contains("[$context.nope]"), "{stderr}");
}
