//! A browser authenticating through the subprotocol: in headless Chromium, a
//! page offers `["chat.v1", "bearer.<token>"]` (a browser cannot set an
//! `Authorization` header on a WebSocket) to the gateway with the JWT
//! authorizer at `$connect`. The handshake answers `chat.v1`, never the
//! token; the claims are in the connection context; an expired token is
//! refused (the page sees the connection fail, the log says why). The page
//! is an application's, served from another origin on loopback.

use wsgate_tests::backend::{Backend, Reply};
use wsgate_tests::browser::BrowserScript;
use wsgate_tests::jwt::{SigningKey, claims, now};
use wsgate_tests::{Gateway, GatewayBuilder};

const ISSUER: &str = "https://idp.test/";

fn gateway(key: &SigningKey) -> Gateway {
    let config = format!(
        "[routes]\nwhoami = \"probe.wasm\"\n\
         [routes.\"$connect\"]\ncomponent = \"jwt-authorizer.wasm\"\n\
         [routes.\"$connect\".config]\nissuer = \"{ISSUER}\"\njwks = '{}'\n\
         claim.sub = \"userId\"\nclaim.roles = \"roles\"\n",
        serde_json::json!({ "keys": [key.jwk] })
    );
    GatewayBuilder::new()
        .component("jwt-authorizer.wasm", "wsgate-jwt-authorizer")
        .component("probe.wasm", "probe")
        .config(&config)
        .start()
}

#[tokio::test]
async fn a_browser_authenticates_through_the_subprotocol() {
    let key = SigningKey::es256("browser");
    let gateway = gateway(&key);
    let mut valid = claims(ISSUER, "ann");
    valid["roles"] = serde_json::json!(["admin", "ops"]);
    let mut expired = claims(ISSUER, "ann");
    expired["exp"] = (now() - 3600).into();
    let (token, expired) = (key.sign(&valid), key.sign(&expired));

    let app = Backend::start(|_| Reply::new(200, "<!doctype html><title>chat</title>")).await;

    let (page_url, ws_url) = (app.url("/"), gateway.url("/"));
    let args = [page_url.as_str(), &ws_url, &token, &expired];
    let mut page = BrowserScript::start("jwt-subprotocol.js", &args);

    page.reached("protocol chat.v1").await;
    page.reached(r#"context {"roles":"admin,ops","userId":"ann"}"#)
        .await;
    page.reached("refused 1006").await;
    page.reached("done").await;
    assert!(page.wait_exit().success());
    gateway
        .wait_for_line(&["jwt-authorizer: refused", "token expired"])
        .await;
}
