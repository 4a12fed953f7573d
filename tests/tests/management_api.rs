//! The `@connections` API: AWS's post, get and delete with their errors,
//! encoded paths and the stage prefix, closing with a code, listing, batches,
//! and malformed requests.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::{Client, Gateway, GatewayBuilder};

fn probe_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "$default", "whoami"])
        .args(args)
        .start()
}

/// Every byte of `text` as a `%XX` escape.
fn encode_all(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

#[tokio::test]
async fn post_get_and_delete_work_like_aws() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let mut request = gateway.url("/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("User-Agent", "wsgate-tests/1".parse().unwrap());
    let mut client = Client::try_connect(request).await.unwrap();
    let id = client.whoami_id().await;
    let path = format!("/@connections/{id}");

    let posted = gateway.api("POST", &path, b"hello").await;
    assert_eq!(posted.status, 200, "{}", posted.text());
    assert!(posted.header("x-amzn-requestid").is_some());
    assert_eq!(client.recv_text().await, "hello");
    gateway.api("POST", &path, &[0xff, 0x00]).await;
    assert_eq!(client.recv().await, Message::binary(vec![0xff, 0x00]));
    gateway
        .api("POST", &format!("{path}?frame=binary"), b"text")
        .await;
    assert_eq!(client.recv().await, Message::binary(b"text".to_vec()));

    let info = gateway.api("GET", &path, b"").await;
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(info["identity"]["userAgent"], "wsgate-tests/1");
    for field in ["connectedAt", "lastActiveAt"] {
        let at = info[field].as_str().unwrap();
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
            "{at}"
        );
    }

    let deleted = gateway.api("DELETE", &path, b"").await;
    assert_eq!(deleted.status, 204);
    let frame = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1000);
    let report = observer.recv_json().await;
    assert_eq!(
        (
            report["connectionId"].as_str(),
            report["initiator"].as_str()
        ),
        (Some(id.as_str()), Some("api"))
    );

    for method in ["GET", "POST", "DELETE"] {
        gateway
            .api(method, &path, b"late")
            .await
            .assert_error(410, "GoneException");
    }
}

#[tokio::test]
async fn ids_and_the_at_sign_may_be_percent_encoded_and_the_stage_is_optional() {
    let gateway = probe_gateway(&["--stage", "prod"]);
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    for path in [
        format!("/prod/@connections/{id}"),
        format!("/@connections/{id}"),
        format!("/prod/%40connections/{}", encode_all(&id)),
        format!("/%40connections/{}", encode_all(&id)),
    ] {
        let posted = gateway.api("POST", &path, path.as_bytes()).await;
        assert_eq!(posted.status, 200, "{path}: {}", posted.text());
        assert_eq!(client.recv_text().await, path);
    }
    gateway
        .api("POST", &format!("/dev/@connections/{id}"), b"x")
        .await
        .assert_error(404, "NotFoundException");
    let unknown = gateway
        .api("GET", "/prod/@connections/no%3Dsuch", b"")
        .await;
    unknown.assert_error(410, "GoneException");
}

#[tokio::test]
async fn delete_can_close_with_an_application_code_and_reason() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    for bad in [
        "code=1001",
        "code=5000",
        "code=abc",
        &format!("reason={}", "x".repeat(124)),
    ] {
        let response = gateway
            .api("DELETE", &format!("/@connections/{id}?{bad}"), b"")
            .await;
        response.assert_error(400, "BadRequestException");
    }
    let path = format!("/@connections/{id}?code=4001&reason=bye%20now");
    assert_eq!(gateway.api("DELETE", &path, b"").await.status, 204);
    let frame = client.recv_close().await.expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (4001, "bye now")
    );
    let report = observer.recv_json().await;
    assert_eq!(report["code"], 4001);
    assert_eq!(report["reason"], "bye now");
    assert_eq!(report["initiator"], "api");
}

#[tokio::test]
async fn too_large_throttled_and_malformed_requests_get_clear_errors() {
    let gateway = probe_gateway(&["--max-message-size", "1024"]);
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    let path = format!("/@connections/{id}");
    assert_eq!(gateway.api("POST", &path, &[b'a'; 1024]).await.status, 200);
    assert_eq!(client.recv_text().await.len(), 1024);
    let too_large = gateway.api("POST", &path, &[b'a'; 1025]).await;
    too_large.assert_error(413, "PayloadTooLargeException");

    let cases = [
        ("GET", "/nothing/here", 404, "NotFoundException"),
        ("GET", "/@connections/a/b", 404, "NotFoundException"),
        ("PUT", &path, 405, "MethodNotAllowedException"),
        ("GET", "/@broadcast", 405, "MethodNotAllowedException"),
        ("POST", "/health", 405, "MethodNotAllowedException"),
        ("POST", "/@connections/abc%zz", 400, "BadRequestException"),
        ("POST", "/@connections/%C3%28", 400, "BadRequestException"),
        (
            "POST",
            &format!("{path}?frame=jpeg"),
            400,
            "BadRequestException",
        ),
        ("GET", "/@connections?limit=0", 400, "BadRequestException"),
        (
            "GET",
            "/@connections?limit=many",
            400,
            "BadRequestException",
        ),
    ];
    for (method, path, status, error_type) in cases {
        let response = gateway.api(method, path, b"x").await;
        response.assert_error(status, error_type);
    }
    let wrong_method = gateway.api("PUT", &path, b"").await;
    assert_eq!(wrong_method.header("allow"), Some("GET, POST, DELETE"));
    gateway
        .api("POST", &format!("{path}?frame=text"), &[0xff])
        .await
        .assert_error(400, "BadRequestException");
    // Nothing malformed reached the client; it is still connected.
    client.expect_silence(Duration::from_millis(200)).await;
    assert_eq!(client.whoami_id().await, id);
}

#[tokio::test]
async fn a_client_that_does_not_read_is_throttled_with_429() {
    let gateway = probe_gateway(&["--outbound-queue", "1"]);
    let mut client = gateway.connect("/").await;
    let path = format!("/@connections/{}", client.whoami_id().await);
    let chunk = vec![b'x'; 100 * 1024];
    // The client never reads: socket buffers fill, then the one-message queue.
    for _ in 0..2000 {
        let response = gateway.api("POST", &path, &chunk).await;
        if response.status != 200 {
            response.assert_error(429, "LimitExceededException");
            return;
        }
    }
    panic!("2000 posts of 100 KiB to a client that never reads were all accepted");
}

async fn list_all(gateway: &Gateway, limit: u32) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit={limit}&cursor={cursor}"),
            None => format!("?limit={limit}"),
        };
        let page = gateway
            .api("GET", &format!("/@connections{query}"), b"")
            .await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        let page_ids = page["connectionIds"].as_array().unwrap();
        assert!(page_ids.len() <= limit as usize);
        ids.extend(page_ids.iter().map(|id| id.as_str().unwrap().to_owned()));
        pages += 1;
        match &page["nextCursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => return (ids, pages),
        }
    }
}

#[tokio::test]
async fn every_connection_is_listed_page_by_page() {
    let gateway = probe_gateway(&[]);
    let mut clients = Vec::new();
    let mut expected = BTreeSet::new();
    for _ in 0..7 {
        let mut client = gateway.connect("/").await;
        expected.insert(client.whoami_id().await);
        clients.push(client);
    }
    let (ids, pages) = list_all(&gateway, 3).await;
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 7, "no id twice");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    let (ids, pages) = list_all(&gateway, 100).await;
    assert_eq!((ids.len(), pages), (7, 1));
}

#[tokio::test]
async fn a_batch_sends_one_payload_to_many_and_reports_failures() {
    let gateway = probe_gateway(&[]);
    let mut ann = gateway.connect("/").await;
    let mut bob = gateway.connect("/").await;
    let mut cat = gateway.connect("/").await;
    let (a, b) = (ann.whoami_id().await, bob.whoami_id().await);
    let batch = json!({"connectionIds": [a, b, "gone"], "data": "to some"});
    let response = gateway
        .api("POST", "/@connections", batch.to_string().as_bytes())
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let report = response.json();
    assert_eq!(report["sent"], 2);
    assert_eq!(report["failed"][0]["connectionId"], "gone");
    assert_eq!(report["failed"][0]["errorType"], "GoneException");
    assert_eq!(ann.recv_text().await, "to some");
    assert_eq!(bob.recv_text().await, "to some");
    cat.expect_silence(Duration::from_millis(200)).await;

    let binary = json!({"connectionIds": [a], "dataBase64": "AAEC"});
    gateway
        .api("POST", "/@connections", binary.to_string().as_bytes())
        .await;
    assert_eq!(ann.recv().await, Message::binary(vec![0, 1, 2]));

    for bad in [
        "{not json".to_owned(),
        json!({"connectionIds": [a]}).to_string(),
        json!({"connectionIds": [a], "data": "x", "dataBase64": "AA=="}).to_string(),
        json!({"connectionIds": [a], "dataBase64": "***"}).to_string(),
        json!({"connectionIds": [a], "data": "x", "extra": 1}).to_string(),
        json!({"connectionIds": [a], "data": "x", "dataBase64": null}).to_string(),
        json!({"connectionIds": vec!["x"; 1001], "data": "x"}).to_string(),
    ] {
        let response = gateway.api("POST", "/@connections", bad.as_bytes()).await;
        response.assert_error(400, "BadRequestException");
    }
    ann.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_messages_keep_their_order_while_the_client_is_sending() {
    const EACH: usize = 50;
    let gateway = probe_gateway(&[]);
    let mut client = gateway.connect("/").await;
    let path = format!("/@connections/{}", client.whoami_id().await);
    let api = gateway.api_addr;
    let pusher = tokio::spawn(async move {
        for n in 0..EACH {
            let pushed = wsgate_tests::http::request(
                api,
                "POST",
                &path,
                &[],
                format!("push {n}").as_bytes(),
            )
            .await;
            assert_eq!(pushed.status, 200);
        }
    });
    for n in 0..EACH {
        client.send_text(&format!("sent {n}")).await;
    }
    pusher.await.unwrap();
    let (mut pushed, mut answered) = (Vec::new(), Vec::new());
    for _ in 0..2 * EACH {
        let text = client.recv_text().await;
        match serde_json::from_str::<Value>(&text) {
            Ok(answer) => answered.push(answer["body"].as_str().unwrap().to_owned()),
            Err(_) => pushed.push(text),
        }
    }
    let expected = |prefix: &str| {
        (0..EACH)
            .map(|n| format!("{prefix} {n}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(pushed, expected("push"));
    assert_eq!(answered, expected("sent"));
}
