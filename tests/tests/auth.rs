//! The JWT authorization example (`examples/auth`): the JWT authorizer
//! (`plugins/jwt-authorizer`) accepts a valid HS256 or RS256 token at
//! `$connect` and attaches its claims as connection context; the example's
//! own routes authorize by the claims, with typed errors (`forbidden`,
//! `bad-request`). The authorizer's refusals are `jwt_authorizer.rs`'s.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::jwt::{SigningKey, claims, with_bearer};
use wsgate_tests::{Client, Gateway, GatewayBuilder, workspace_root};

const SECRET: &str = "test-secret-for-hs256";
const ISSUER: &str = "wsgate-tests";

/// The example's routes, its `$connect` accepting HS256 tokens signed with
/// the secret and RS256 ones signed with the RSA fixture.
fn auth_gateway() -> Gateway {
    let config = format!(
        "[routes]\nwhoami = \"auth.wasm\"\nannounce = \"auth.wasm\"\n\
         [routes.\"$connect\"]\ncomponent = \"jwt-authorizer.wasm\"\n\
         [routes.\"$connect\".config]\nissuer = \"{ISSUER}\"\nsecret = \"{SECRET}\"\n\
         claim.sub = \"sub\"\nclaim.roles = \"roles\"\npublic_key = '''\n{}'''\n",
        SigningKey::rs256("rsa").public
    );
    gateway(&config)
}

fn gateway(config: &str) -> Gateway {
    GatewayBuilder::new()
        .component("auth.wasm", "wsgate_example_auth")
        .component("jwt-authorizer.wasm", "wsgate-jwt-authorizer")
        .config(config)
        .start()
}

/// A token of `sub` with `roles`, valid for five minutes.
fn token(key: &SigningKey, sub: &str, roles: &[&str]) -> String {
    let mut claims = claims(ISSUER, sub);
    claims["roles"] = roles.into();
    key.sign(&claims)
}

fn hs256() -> SigningKey {
    SigningKey::hs256("hs", SECRET)
}

async fn connect_with_header(gateway: &Gateway, token: &str) -> Client {
    Client::try_connect(with_bearer(&gateway.url("/"), token))
        .await
        .unwrap()
}

async fn whoami(client: &mut Client) -> Value {
    client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await
}

#[tokio::test]
async fn valid_tokens_are_accepted_and_their_claims_become_the_connection_context() {
    let gateway = auth_gateway();

    let token = token(&hs256(), "alice", &["admin", "dev"]);
    let mut alice = connect_with_header(&gateway, &token).await;
    assert_eq!(
        whoami(&mut alice).await,
        json!({"sub": "alice", "roles": ["admin", "dev"]})
    );

    // RS256, in the query string.
    let token = self::token(&SigningKey::rs256("rsa"), "bob", &["viewer"]);
    let mut bob = Client::connect(&gateway.url(&format!("/?access_token={token}"))).await;
    assert_eq!(
        whoami(&mut bob).await,
        json!({"sub": "bob", "roles": ["viewer"]})
    );
    gateway
        .wait_for_line(&["jwt-authorizer: accepted", "from wsgate-tests"])
        .await;
}

#[tokio::test]
async fn later_routes_authorize_by_the_claims() {
    let gateway = auth_gateway();
    let admin = token(&hs256(), "root", &["admin"]);
    let viewer = token(&hs256(), "guest", &["viewer"]);
    let mut admin = connect_with_header(&gateway, &admin).await;
    let mut viewer = connect_with_header(&gateway, &viewer).await;

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
    let gateway = gateway(&format!(
        "[routes]\n\"$connect\" = {{ component = \"jwt-authorizer.wasm\", config = {{ issuer = \"{ISSUER}\" }} }}\n"
    ));
    let (status, body) = Client::refused(gateway.url("/").into_client_request().unwrap()).await;
    assert_eq!(status, 500);
    assert_eq!(
        body, "Internal server error",
        "an internal error's text is only logged"
    );
    gateway
        .wait_for_line(&[
            "handler failed",
            "jwt-authorizer: issuer `wsgate-tests` has no key",
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
    let gateway = gateway(&config);
    let mut alice = connect_with_header(&gateway, &token("ALICE")).await;
    assert_eq!(
        whoami(&mut alice).await,
        json!({"sub": "alice", "roles": ["admin"]})
    );
    let url = gateway.url(&format!("/?access_token={}", token("BOB")));
    let mut bob = Client::connect(&url).await;
    bob.send_json(json!({"action": "announce", "text": "I am root now"}))
        .await;
    assert!(
        bob.recv_json().await["message"]
            .as_str()
            .unwrap()
            .contains("needs the role `admin`")
    );
}
