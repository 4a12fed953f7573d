//! `GET /health` on both listeners, and plain HTTP on the client port.

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

#[tokio::test]
async fn a_plain_request_on_the_client_port_is_told_to_upgrade() {
    let gateway = GatewayBuilder::new().start();
    let response = http_get(gateway.addr, "/").await;
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
}
