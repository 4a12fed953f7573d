//! The JWT authorization example (`examples/auth`): `$connect` accepts a valid
//! HS256 or RS256 token from the `Authorization` header or the `token` query
//! parameter and attaches its claims as connection context; an expired,
//! badly signed, malformed or missing token is rejected with 401, a
//! `WWW-Authenticate` challenge and a reason; later routes authorize by the
//! claims, with typed errors (`forbidden`, `bad-request`).

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use wsgate_tests::{Client, Gateway, GatewayBuilder, workspace_root};

const SECRET: &str = "test-secret-for-hs256";
const ISSUER: &str = "wsgate-tests";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join("tests/fixtures/jwt").join(name))
        .expect("the JWT test fixtures")
}

/// The auth example with both an HS256 secret and an RS256 public key.
fn auth_gateway() -> Gateway {
    let config = format!(
        "[config]\njwt_secret = \"{SECRET}\"\njwt_issuer = \"{ISSUER}\"\njwt_leeway = 0\n\
         jwt_public_key = '''\n{}'''\n\
         [routes]\n\"$connect\" = \"auth.wasm\"\nwhoami = \"auth.wasm\"\nannounce = \"auth.wasm\"\n",
        fixture("rsa_public.pem")
    );
    GatewayBuilder::new()
        .component("auth.wasm", "wsgate_example_auth")
        .config(&config)
        .start()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str, roles: &[&str], expires_in: i64) -> Value {
    json!({
        "sub": sub,
        "roles": roles,
        "iss": ISSUER,
        "exp": now() as i64 + expires_in,
    })
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn rs256(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(fixture("rsa_private.pem").as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

/// An upgrade request with `token` in the `Authorization` header.
fn with_bearer(gateway: &Gateway, token: &str) -> tungstenite::handshake::client::Request {
    let mut request = gateway.url("/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Connects with `token` in the `Authorization` header.
async fn connect_with_header(gateway: &Gateway, token: &str) -> Result<Client, tungstenite::Error> {
    Client::try_connect(with_bearer(gateway, token)).await
}

/// The status and JSON body of a refused upgrade; a 401 must carry the
/// bearer challenge.
async fn refusal(request: tungstenite::handshake::client::Request) -> (u16, Value) {
    let response = match Client::try_connect(request).await {
        Err(tungstenite::Error::Http(response)) => *response,
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the connection was accepted"),
    };
    let status = response.status().as_u16();
    if status == 401 {
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(response.headers()["content-type"], "application/json");
    }
    let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
    let body = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a JSON body: {body}"));
    (status, body)
}

async fn whoami(client: &mut Client) -> Value {
    client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await
}

#[tokio::test]
async fn valid_tokens_are_accepted_and_their_claims_become_the_connection_context() {
    let gateway = auth_gateway();

    let token = hs256(&claims("alice", &["admin", "dev"], 300), SECRET);
    let mut alice = connect_with_header(&gateway, &token).await.unwrap();
    assert_eq!(
        whoami(&mut alice).await,
        json!({"sub": "alice", "roles": ["admin", "dev"]})
    );

    // RS256, in the query string as a browser would send it.
    let token = rs256(&claims("bob", &["viewer"], 300));
    let mut bob = Client::connect(&gateway.url(&format!("/?token={token}"))).await;
    assert_eq!(
        whoami(&mut bob).await,
        json!({"sub": "bob", "roles": ["viewer"]})
    );
    gateway
        .wait_for_line(&["auth:", "connected as bob with roles [viewer]"])
        .await;
}

#[tokio::test]
async fn bad_or_missing_tokens_are_rejected_with_401_and_a_reason() {
    let gateway = auth_gateway();
    let expired = hs256(&claims("carol", &[], -60), SECRET);
    let forged = hs256(&claims("mallory", &["admin"], 300), "not-the-secret");
    let wrong_issuer = hs256(
        &json!({"sub": "eve", "iss": "someone-else", "exp": now() + 300}),
        SECRET,
    );
    let no_expiry = hs256(&json!({"sub": "dave", "iss": ISSUER}), SECRET);
    // Algorithm confusion: an HS256 token "signed" with the RSA public key as
    // its secret must not pass as if the key were a shared secret.
    let confused = hs256(
        &claims("mallory", &["admin"], 300),
        &fixture("rsa_public.pem"),
    );
    for (token, reason) in [
        (expired.as_str(), "token expired"),
        (forged.as_str(), "invalid signature"),
        (confused.as_str(), "invalid signature"),
        (wrong_issuer.as_str(), "wrong issuer"),
        (no_expiry.as_str(), "no `exp` claim"),
        ("not.a.jwt", "malformed token"),
    ] {
        let (status, body) = refusal(with_bearer(&gateway, token)).await;
        assert_eq!(status, 401, "{reason}: {body}");
        assert_eq!(body["message"], "Unauthorized");
        assert!(
            body["reason"].as_str().unwrap().contains(reason),
            "expected `{reason}`, got {body}"
        );
    }
    let (status, body) = refusal(gateway.url("/").into_client_request().unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        body["reason"].as_str().unwrap().starts_with("no token"),
        "{body}"
    );

    // Refused clients never connected; a good token still works.
    let token = hs256(&claims("alice", &[], 300), SECRET);
    let mut alice = connect_with_header(&gateway, &token).await.unwrap();
    assert_eq!(whoami(&mut alice).await["sub"], "alice");
}

#[tokio::test]
async fn later_routes_authorize_by_the_claims() {
    let gateway = auth_gateway();
    let admin = hs256(&claims("root", &["admin"], 300), SECRET);
    let viewer = hs256(&claims("guest", &["viewer"], 300), SECRET);
    let mut admin = connect_with_header(&gateway, &admin).await.unwrap();
    let mut viewer = connect_with_header(&gateway, &viewer).await.unwrap();

    viewer
        .send_json(json!({"action": "announce", "text": "I am root now"}))
        .await;
    let refused = viewer.recv_json().await;
    assert_eq!(
        refused["message"], "announce needs the role `admin`",
        "a forbidden error's text reaches the client: {refused}"
    );
    viewer.send_json(json!({"action": "whoami"})).await;
    assert_eq!(viewer.recv_json().await["sub"], "guest", "still connected");
    admin
        .send_json(json!({"action": "announce", "txt": "typo"}))
        .await;
    let refused = admin.recv_json().await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("missing field `text`"),
        "a bad request's text reaches the client: {refused}"
    );

    admin
        .send_json(json!({"action": "announce", "text": "maintenance at noon"}))
        .await;
    assert_eq!(viewer.recv().await, Message::text("maintenance at noon"));
    assert_eq!(admin.recv().await, Message::text("maintenance at noon"));
    assert_eq!(admin.recv_json().await, json!({"announced": true}));
}

#[tokio::test]
async fn a_missing_key_fails_connect_with_500_and_says_why_in_the_log() {
    let gateway = GatewayBuilder::new()
        .component("auth.wasm", "wsgate_example_auth")
        .config("[routes]\n\"$connect\" = \"auth.wasm\"\n")
        .start();
    let (status, body) = Client::refused(gateway.url("/").into_client_request().unwrap()).await;
    assert_eq!(status, 500);
    assert_eq!(
        body, "Internal server error",
        "an internal error's text is only logged"
    );
    gateway
        .wait_for_line(&[
            "handler failed",
            "configure jwt_secret (HS256) or jwt_public_key (RS256)",
        ])
        .await;
}

#[tokio::test]
async fn the_readme_tokens_work_with_the_examples_own_config() {
    let root = workspace_root().join("examples/auth");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let token = |name: &str| {
        readme
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name}= in the README"))
            .to_owned()
    };
    let config = std::fs::read_to_string(root.join("plugins/wsgate.toml")).unwrap();
    let gateway = GatewayBuilder::new()
        .component("auth.wasm", "wsgate_example_auth")
        .config(&config)
        .start();
    let mut alice = connect_with_header(&gateway, &token("ALICE"))
        .await
        .unwrap();
    assert_eq!(
        whoami(&mut alice).await,
        json!({"sub": "alice", "roles": ["admin"]})
    );
    let mut bob = Client::connect(&gateway.url(&format!("/?token={}", token("BOB")))).await;
    bob.send_json(json!({"action": "announce", "text": "I am root now"}))
        .await;
    assert!(
        bob.recv_json().await["message"]
            .as_str()
            .unwrap()
            .contains("needs the role `admin`")
    );
}
