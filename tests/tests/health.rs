//! `GET /health` on both listeners, and plain HTTP on the client port.

use wsgate_tests::http::request;
use wsgate_tests::{GatewayBuilder, http_get};

#[tokio::test]
async fn health_answers_200_without_websocket_headers_on_both_listeners() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .start();
    for addr in [gateway.addr, gateway.api_addr] {
        let response = http_get(addr, "/health").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let lower = response.to_lowercase();
        assert!(
            !lower.contains("sec-websocket") && !lower.contains("upgrade:"),
            "{response}"
        );
    }
}

/// RFC 9110 §15.5.22: a 426 names the protocol to upgrade to in `Upgrade`
/// (which §7.8 has listed in `Connection`); the body points people and probes
/// at `/health`.
#[tokio::test]
async fn a_plain_request_on_the_client_port_is_told_to_upgrade_and_where_health_is() {
    let gateway = GatewayBuilder::new().start();
    let response = request(gateway.addr, "GET", "/", &[], b"").await;
    assert_eq!(response.status, 426, "{response:?}");
    assert_eq!(
        response.header("upgrade"),
        Some("websocket"),
        "{response:?}"
    );
    let connection = response.header("connection").unwrap_or("").to_lowercase();
    assert!(connection.contains("upgrade"), "{response:?}");
    let body = response.text();
    assert!(
        body.contains(&format!("http://{}/health", gateway.addr)),
        "{body}"
    );
}

#[tokio::test]
async fn an_unsupported_websocket_version_is_told_to_upgrade_to_13() {
    let gateway = GatewayBuilder::new().start();
    let headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "8"),
    ];
    let response = request(gateway.addr, "GET", "/", &headers, b"").await;
    assert_eq!(response.status, 426, "{response:?}");
    assert_eq!(
        response.header("upgrade"),
        Some("websocket"),
        "{response:?}"
    );
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
}
