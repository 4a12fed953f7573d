//! Who may use the management API: bearer tokens (from flags or the
//! environment), SigV4 signatures that really verify, and the refusal to serve
//! an open API beyond loopback, all decided before a body is read. Probes need
//! no credentials.

use wsgate_tests::GatewayBuilder;
use wsgate_tests::http::{Connection, request};

#[tokio::test]
async fn a_configured_token_is_required_and_checked() {
    let gateway = GatewayBuilder::new().api_token("s3cret").start();
    let missing = request(gateway.api_addr, "GET", "/@connections", &[], b"").await;
    missing.assert_error(401, "UnauthorizedException");
    assert!(missing.header("www-authenticate").is_some());

    let bad_token = [("Authorization", "Bearer s3cre")];
    request(gateway.api_addr, "GET", "/@connections", &bad_token, b"")
        .await
        .assert_error(403, "ForbiddenException");
    let forged = [
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        ),
        ("X-Amz-Date", "20250101T000000Z"),
    ];
    request(gateway.api_addr, "POST", "/@connections/x", &forged, b"x")
        .await
        .assert_error(403, "ForbiddenException");

    assert_eq!(gateway.api("GET", "/@connections", b"").await.status, 200);
    for probe in ["/health", "/ready", "/metrics"] {
        let response = request(gateway.api_addr, "GET", probe, &[], b"").await;
        assert_eq!(response.status, 200, "{probe}");
    }
}

#[tokio::test]
async fn tokens_and_keys_come_from_the_environment_too() {
    let gateway = GatewayBuilder::new()
        .env("WSGATE_API_TOKEN", "first,second")
        .env("WSGATE_API_KEY", "AKIDENV:envsecret")
        .start();
    for token in ["Bearer first", "Bearer second"] {
        let response = request(
            gateway.api_addr,
            "GET",
            "/@connections",
            &[("Authorization", token)],
            b"",
        )
        .await;
        assert_eq!(response.status, 200, "{token}");
    }
    request(gateway.api_addr, "GET", "/@connections", &[], b"")
        .await
        .assert_error(401, "UnauthorizedException");
}

#[tokio::test]
async fn an_open_api_is_refused_beyond_loopback() {
    let stderr = GatewayBuilder::new()
        .api_listen("0.0.0.0:0")
        .start_and_fail();
    assert!(stderr.contains("without credentials"), "{stderr}");
    assert!(stderr.contains("--api-token"), "{stderr}");
}

#[tokio::test]
async fn credentials_are_decided_before_the_body_is_read() {
    let gateway = GatewayBuilder::new().api_token("s3cret").start();
    let unknown_key = "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: 20250101T000000Z\r\n";
    let cases = [
        ("", 401),
        ("Authorization: Bearer wrong\r\n", 403),
        (unknown_key, 403),
        // Authorized, but announcing more than the limit: refused unread too.
        ("Authorization: Bearer s3cret\r\n", 413),
    ];
    for (authorization, status) in cases {
        // The head announces 10 MB and no byte of the body follows.
        let head = format!(
            "POST /@connections/x HTTP/1.1\r\nHost: wsgate\r\nContent-Length: 10000000\r\n{authorization}\r\n"
        );
        let mut connection = Connection::open(gateway.api_addr).await;
        assert!(connection.send(head.as_bytes()).await);
        let response = connection.response().await;
        assert_eq!(response.status, status, "{}", response.text());
        // The gateway closes the connection instead of reading the body.
        assert_eq!(connection.closed().await, None);
    }
}
