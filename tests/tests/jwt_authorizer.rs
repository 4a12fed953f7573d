//! The JWT authorizer (`plugins/jwt-authorizer`) at `$connect` of the real
//! gateway, with keys in its configuration: every algorithm, every token
//! source, the subprotocol the handshake answers with (the application's,
//! never the token), the claims it puts into the connection context (read
//! back with the probe's `whoami`), and every refusal with its 401 and
//! `WWW-Authenticate` challenge. `jwt_jwks.rs` fetches the keys instead.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, handshake::client::Request};
use wsgate_tests::jwt::{SigningKey, claims, now, offering, with_bearer};
use wsgate_tests::{Client, Gateway, GatewayBuilder, RawClient, upgrade_head};

const ISSUER: &str = "https://idp.test/";
const SECRET: &str = "test-secret-for-hs256";

/// The keys of the configuration: an HS256 secret and an RSA public key of
/// the main issuer, a P-256 public key and an Ed25519 key set of two more.
struct Keys {
    hs256: SigningKey,
    rs256: SigningKey,
    es256: SigningKey,
    ed25519: SigningKey,
}

impl Keys {
    fn new() -> Self {
        Keys {
            hs256: SigningKey::hs256("hs", SECRET),
            rs256: SigningKey::rs256("rsa"),
            es256: SigningKey::es256("ec"),
            ed25519: SigningKey::ed25519("ed"),
        }
    }
}

/// The authorizer at `$connect` (with `extra` configuration), the probe at
/// `whoami`.
fn gateway(keys: &Keys, extra: &str) -> Gateway {
    let config = format!(
        "[routes]\nwhoami = \"probe.wasm\"\n\
         [routes.\"$connect\"]\ncomponent = \"jwt-authorizer.wasm\"\n\
         [routes.\"$connect\".config]\n\
         issuer = \"{ISSUER}\"\nsecret = \"{SECRET}\"\npublic_key = '''\n{rsa}'''\n\
         audience = \"chat-api, other-api\"\nclaim.sub = \"userId\"\nclaim.roles = \"roles\"\n{extra}\n\
         [routes.\"$connect\".config.issuers.ec]\nissuer = \"https://ec.test/\"\npublic_key = '''\n{ec}'''\n\
         [routes.\"$connect\".config.issuers.ed]\nissuer = \"https://ed.test/\"\njwks = '{ed}'\n",
        rsa = keys.rs256.public,
        ec = keys.es256.public,
        ed = json!({"keys": [keys.ed25519.jwk]}),
    );
    GatewayBuilder::new()
        .component("jwt-authorizer.wasm", "wsgate-jwt-authorizer")
        .component("probe.wasm", "probe")
        .config(&config)
        .start()
}

/// Claims of `sub` from `issuer` for the audience `chat-api`.
fn claims_for(issuer: &str, sub: &str) -> Value {
    let mut claims = claims(issuer, sub);
    claims["aud"] = "chat-api".into();
    claims["roles"] = json!(["admin", "ops"]);
    claims
}

/// The connection context the probe's `whoami` reports.
async fn context(client: &mut Client) -> Value {
    client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await["context"].clone()
}

/// The status, `WWW-Authenticate` challenge and JSON body of a refusal.
async fn refusal(request: Request) -> (u16, Option<String>, Value) {
    let response = match Client::try_connect(request).await {
        Err(tungstenite::Error::Http(response)) => *response,
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the connection was accepted"),
    };
    let header = |name| {
        let value = response.headers().get(name)?;
        Some(value.to_str().unwrap().to_owned())
    };
    let challenge = header("www-authenticate");
    if response.status() == 401 {
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
    }
    let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
    let body = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a JSON body: {body}"));
    (response.status().as_u16(), challenge, body)
}

#[tokio::test]
async fn every_algorithm_is_accepted_with_its_key_and_the_claims_become_the_context() {
    let keys = Keys::new();
    let gateway = gateway(&keys, "");
    for (key, issuer) in [
        (&keys.hs256, ISSUER),
        (&keys.rs256, ISSUER),
        (&keys.es256, "https://ec.test/"),
        (&keys.ed25519, "https://ed.test/"),
    ] {
        let token = key.sign(&claims_for(issuer, &format!("{:?}", key.algorithm)));
        let mut client = Client::try_connect(with_bearer(&gateway.url("/"), &token))
            .await
            .unwrap_or_else(|error| panic!("{:?}: {error}", key.algorithm));
        assert_eq!(
            context(&mut client).await,
            json!({"userId": format!("{:?}", key.algorithm), "roles": "admin,ops"}),
        );
    }
}

#[tokio::test]
async fn the_token_comes_from_the_header_the_query_or_the_subprotocol() {
    let keys = Keys::new();
    let gateway = gateway(&keys, "");
    let token = |sub| keys.es256.sign(&claims_for("https://ec.test/", sub));

    let mut by_header = Client::try_connect(with_bearer(&gateway.url("/"), &token("header")))
        .await
        .unwrap();
    assert_eq!(context(&mut by_header).await["userId"], "header");

    let url = gateway.url(&format!("/?access_token={}", token("query")));
    let mut by_query = Client::connect(&url).await;
    assert_eq!(context(&mut by_query).await["userId"], "query");

    // A browser's offer: the application's subprotocol and the token entry.
    let token_entry = format!("bearer.{}", token("subprotocol"));
    let request = offering(&gateway.url("/"), &["chat.v1", &token_entry]);
    let mut by_subprotocol = Client::try_connect(request).await.unwrap();
    assert_eq!(
        by_subprotocol.response.headers()["sec-websocket-protocol"],
        "chat.v1",
        "the application's subprotocol, never the token"
    );
    assert_eq!(context(&mut by_subprotocol).await["userId"], "subprotocol");

    // The token entry first, the application's after it.
    let request = offering(&gateway.url("/"), &[&token_entry, "chat.v2"]);
    let answered = Client::try_connect(request).await.unwrap().response;
    assert_eq!(answered.headers()["sec-websocket-protocol"], "chat.v2");

    // The token alone: no subprotocol is answered (which RFC 6455 allows,
    // but Chrome and tungstenite refuse: the README tells clients to offer
    // one beside the token), so the handshake is read by hand.
    let offer = format!("Sec-WebSocket-Protocol: {token_entry}\r\n");
    let head = upgrade_head(gateway.addr, &offer);
    let (answer, _) = RawClient::send_head(gateway.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("sec-websocket-protocol"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_application_subprotocols_can_be_listed() {
    let keys = Keys::new();
    let gateway = gateway(&keys, "subprotocols = \"chat.v3, chat.v2\"");
    let token_entry = format!("bearer.{}", keys.hs256.sign(&claims_for(ISSUER, "ann")));

    let request = offering(&gateway.url("/"), &["chat.v1", &token_entry, "chat.v2"]);
    let answered = Client::try_connect(request).await.unwrap().response;

    assert_eq!(answered.headers()["sec-websocket-protocol"], "chat.v2");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401_and_an_invalid_token_challenge() {
    let keys = Keys::new();
    let gateway = gateway(&keys, "");
    let valid = || claims_for(ISSUER, "mallory");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = valid();
        change(&mut claims);
        keys.hs256.sign(&claims)
    };
    let forged = SigningKey::hs256("hs", "not-the-secret").sign(&valid());
    // Algorithm confusion: an HS256 token "signed" with the RSA public key
    // as its secret must not pass as if the key were a shared secret.
    let confused = SigningKey::hs256("hs", &keys.rs256.public).sign(&valid());
    // A P-256 key of another: its signature does not verify with ours.
    let impostor = SigningKey::es256("ec").sign(&claims_for("https://ec.test/", "mallory"));
    // Unsigned (`alg: none`), and signed with our secret by an algorithm
    // not on the list.
    let segment = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let unsigned = format!(
        "{}.{}.",
        segment(json!({"alg": "none", "typ": "JWT"})),
        segment(valid())
    );
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &valid(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let cases = [
        (with(&|c| c["exp"] = (now() - 120).into()), "token expired"),
        (
            with(&|c| c["nbf"] = (now() + 120).into()),
            "token not valid yet",
        ),
        (with(&|c| c["aud"] = "admin-api".into()), "wrong audience"),
        (
            with(&|c| c["iss"] = "https://evil.test/".into()),
            "unknown issuer",
        ),
        (
            with(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
            "the token has no `exp` claim",
        ),
        (forged, "invalid signature"),
        (confused, "invalid signature"),
        (impostor, "invalid signature"),
        ("not.a.jwt".to_owned(), "malformed token"),
        (unsigned, "malformed token"),
        (hs512, "algorithm HS512 is not accepted"),
    ];
    for (token, reason) in cases {
        let (status, challenge, body) = refusal(with_bearer(&gateway.url("/"), &token)).await;
        assert_eq!(status, 401, "{reason}: {body}");
        assert_eq!(body, json!({"message": "Unauthorized", "reason": reason}));
        assert_eq!(
            challenge.unwrap(),
            format!(r#"Bearer error="invalid_token", error_description="{reason}""#)
        );
    }

    // Within the clock skew allowance (60 s by default), a token passes.
    let late = with(&|c| {
        c["exp"] = (now() - 20).into();
        c["nbf"] = (now() + 20).into();
    });
    Client::try_connect(with_bearer(&gateway.url("/"), &late))
        .await
        .expect("a token within the clock skew allowance");
}

#[tokio::test]
async fn a_missing_token_is_refused_with_a_bare_challenge_saying_how_to_send_one() {
    let keys = Keys::new();
    let gateway = gateway(&keys, "");
    let request = offering(&gateway.url("/"), &["chat.v1"]);

    let (status, challenge, body) = refusal(request).await;

    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer"),
        "RFC 6750: no error code"
    );
    assert_eq!(
        body["reason"],
        "no token: send `Authorization: Bearer <jwt>` or the subprotocol `bearer.<jwt>` or `?access_token=<jwt>`"
    );
    let plain = gateway.url("/").into_client_request().unwrap();
    assert_eq!(refusal(plain).await.0, 401);
    gateway
        .wait_for_line(&["jwt-authorizer: refused", "no token: send"])
        .await;
}
