//! The authorizer against the SDK's fake gateway: every token source,
//! algorithm and refusal, and keys fetched from a JWKS URL. The end-to-end
//! tests (`tests/tests/jwt_authorizer.rs`) run it in the real gateway.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use wsgate_sdk::http::Response;
use wsgate_sdk::testing::{Connect, Context, Gateway};
use wsgate_sdk::{Accept, ErrorKind, Reject};

use super::{JwtAuthorizer, context_value};

const SECRET: &str = "a test secret";
const ISSUER: &str = "https://idp.test/";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap()
}

fn now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.as_secs() as i64
}

/// Claims of `sub` from the test issuer, valid for five minutes.
fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": ISSUER, "exp": now() + 300, "roles": ["admin", "ops"] })
}

fn sign(claims: &Value, algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    sign(claims, Algorithm::HS256, None, &key)
}

fn gateway(config: &[(&str, &str)]) -> Gateway {
    let gateway = Gateway::new();
    gateway.config("issuer", ISSUER);
    for (key, value) in config {
        gateway.config(key, *value);
    }
    gateway
}

fn connect(gateway: &Gateway, request: Connect) -> Result<Accept, Reject> {
    gateway.connect::<JwtAuthorizer>(&Context::connect(), &request)
}

fn bearer(token: &str) -> Connect {
    Connect::new().header("authorization", format!("Bearer {token}"))
}

/// The challenge and the reason of a 401.
fn unauthorized(reject: Reject) -> (String, String) {
    assert_eq!(reject.status(), 401, "{reject:?}");
    let header = |name: &str| {
        let found = reject.headers().iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.clone()).unwrap()
    };
    assert_eq!(header("content-type"), "application/json");
    let body: Value = serde_json::from_str(reject.body().unwrap()).unwrap();
    assert_eq!(body["message"], "Unauthorized");
    (
        header("www-authenticate"),
        body["reason"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_valid_token_is_accepted_with_the_configured_claims_as_context() {
    let gateway = gateway(&[
        ("secret", SECRET),
        ("claim.sub", "userId"),
        ("claim.roles", "roles"),
    ]);

    let accept = connect(&gateway, bearer(&hs256(&claims("ann")))).unwrap();

    assert_eq!(
        accept.connection_context(),
        [
            ("roles".into(), "admin,ops".into()),
            ("userId".into(), "ann".into())
        ]
    );
    assert_eq!(accept.chosen_subprotocol(), None);
}

#[test]
fn each_algorithm_is_verified_with_its_configured_key() {
    let cases = [
        (
            "rsa",
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(fixture("rsa_private.pem").as_bytes()),
        ),
        (
            "ec",
            Algorithm::ES256,
            EncodingKey::from_ec_pem(fixture("ec_private.pem").as_bytes()),
        ),
        (
            "ed25519",
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(fixture("ed25519_private.pem").as_bytes()),
        ),
    ];
    for (name, algorithm, key) in cases {
        let gateway = gateway(&[("public_key", &fixture(&format!("{name}_public.pem")))]);
        let token = sign(&claims("ann"), algorithm, Some("any"), &key.unwrap());
        let accept = connect(&gateway, bearer(&token)).unwrap();
        assert_eq!(
            accept.connection_context(),
            [("sub".into(), "ann".into())],
            "{name}"
        );
        // The key verifies its own algorithm only.
        let (_, reason) =
            unauthorized(connect(&gateway, bearer(&hs256(&claims("eve")))).unwrap_err());
        assert_eq!(reason, "unknown key: the issuer has no HS256 key", "{name}");
    }
}

#[test]
fn a_subprotocol_token_is_taken_and_the_application_subprotocol_answered() {
    let gateway = gateway(&[("secret", SECRET)]);
    let token = format!("bearer.{}", hs256(&claims("ann")));

    let request = Connect::new()
        .subprotocol(token.clone())
        .subprotocol("chat.v1");
    let accept = connect(&gateway, request).unwrap();
    assert_eq!(accept.chosen_subprotocol(), Some("chat.v1"));
    assert_eq!(accept.connection_context(), [("sub".into(), "ann".into())]);

    let only_the_token = connect(&gateway, Connect::new().subprotocol(token.clone())).unwrap();
    assert_eq!(only_the_token.chosen_subprotocol(), None);

    gateway.config("subprotocols", "chat.v2, chat.v3");
    let request = Connect::new()
        .subprotocol("chat.v1")
        .subprotocol("chat.v3")
        .subprotocol(token);
    let accept = connect(&gateway, request).unwrap();
    assert_eq!(accept.chosen_subprotocol(), Some("chat.v3"), "a listed one");
}

#[test]
fn a_query_token_is_taken_only_where_the_sources_allow() {
    let gateway = gateway(&[("secret", SECRET)]);
    let token = hs256(&claims("ann"));
    let request = || Connect::new().query("access_token", token.clone());
    assert!(connect(&gateway, request()).is_ok());

    gateway.config("token_sources", "header, subprotocol");
    let (challenge, reason) = unauthorized(connect(&gateway, request()).unwrap_err());
    assert_eq!(
        challenge, "Bearer",
        "no token came: no error code (RFC 6750)"
    );
    assert_eq!(
        reason,
        "no token: send `Authorization: Bearer <jwt>` or the subprotocol `bearer.<jwt>`"
    );

    gateway.config("token_sources", "query");
    gateway.config("query_parameter", "token");
    assert!(connect(&gateway, Connect::new().query("token", token.clone())).is_ok());
}

#[test]
fn a_bad_token_is_refused_with_an_invalid_token_challenge() {
    let gateway = gateway(&[("secret", SECRET), ("audience", "api"), ("leeway", "0")]);
    let forged = sign(
        &claims("eve"),
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"another secret"),
    );
    let with = |changes: Value| {
        let mut claims = claims("ann");
        claims["aud"] = "api".into();
        for (key, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(key),
                value => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(key.clone(), value.clone()),
            };
        }
        hs256(&claims)
    };
    for (token, reason) in [
        (forged, "invalid signature"),
        (with(json!({"exp": now() - 5})), "token expired"),
        (with(json!({"nbf": now() + 60})), "token not valid yet"),
        (with(json!({"aud": "other"})), "wrong audience"),
        (with(json!({"aud": null})), "the token has no `aud` claim"),
        (with(json!({"iss": "https://evil.test/"})), "unknown issuer"),
        (with(json!({"iss": null})), "the token has no `iss` claim"),
        (with(json!({"exp": null})), "the token has no `exp` claim"),
        ("not.a.jwt".to_owned(), "malformed token"),
    ] {
        let (challenge, got) = unauthorized(connect(&gateway, bearer(&token)).unwrap_err());
        assert_eq!(got, reason);
        assert_eq!(
            challenge,
            format!(r#"Bearer error="invalid_token", error_description="{reason}""#)
        );
    }
    assert!(connect(&gateway, bearer(&with(json!({})))).is_ok());
}

#[test]
fn the_clock_skew_allowance_lets_a_just_expired_token_pass() {
    let gateway = gateway(&[("secret", SECRET)]);
    let mut claims = claims("ann");
    claims["exp"] = (now() - 30).into();
    claims["nbf"] = (now() + 30).into();
    assert!(
        connect(&gateway, bearer(&hs256(&claims))).is_ok(),
        "60 s by default"
    );
}

#[test]
fn keys_are_fetched_from_the_jwks_url_and_again_for_an_unknown_kid() {
    let gateway = gateway(&[("jwks_url", "http://idp.test/jwks"), ("jwks_cooldown", "0")]);
    let jwks = |kids: &[&str]| {
        let keys: Vec<Value> = kids
            .iter()
            .map(|kid| json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": ed25519_x()}))
            .collect();
        json!({ "keys": keys }).to_string()
    };
    let served = std::rc::Rc::new(std::cell::RefCell::new(jwks(&["one"])));
    let serving = served.clone();
    gateway.respond_http(move |_| Ok(Response::new(200).with_body(serving.borrow().clone())));
    let key = EncodingKey::from_ed_pem(fixture("ed25519_private.pem").as_bytes()).unwrap();
    let token = |kid: &str| bearer(&sign(&claims("ann"), Algorithm::EdDSA, Some(kid), &key));

    assert!(connect(&gateway, token("one")).is_ok());
    assert!(connect(&gateway, token("one")).is_ok());
    assert_eq!(gateway.http_requests().len(), 1, "cached");

    *served.borrow_mut() = jwks(&["two"]);
    assert!(
        connect(&gateway, token("two")).is_ok(),
        "rotated: fetched again"
    );
    assert_eq!(gateway.http_requests().len(), 2);
    let (_, reason) = unauthorized(connect(&gateway, token("one")).unwrap_err());
    assert_eq!(
        reason,
        "unknown key: the issuer has no EdDSA key with the token's `kid`"
    );
}

/// The public key of `ed25519_private.pem` as a JWK's `x`: the last 32
/// bytes of its SubjectPublicKeyInfo.
fn ed25519_x() -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let pem = fixture("ed25519_public.pem");
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).unwrap();
    URL_SAFE_NO_PAD.encode(&der[der.len() - 32..])
}

#[test]
fn a_jwks_host_the_route_may_not_reach_is_an_internal_error() {
    // The fake gateway denies every request it was given no answer for.
    let gateway = gateway(&[("jwks_url", "http://idp.test/jwks")]);

    let reject = connect(&gateway, ed25519_token()).unwrap_err();

    let error = reject.error().unwrap();
    assert_eq!(error.kind(), ErrorKind::Internal);
    assert!(error.message().contains("allowed_hosts"), "{error}");
}

#[test]
fn a_jwks_endpoint_that_fails_is_a_503() {
    let gateway = gateway(&[("jwks_url", "http://idp.test/jwks")]);
    gateway.respond_http(|_| Ok(Response::new(500)));

    let reject = connect(&gateway, ed25519_token()).unwrap_err();

    assert_eq!(reject.status(), 503);
}

fn ed25519_token() -> Connect {
    let key = EncodingKey::from_ed_pem(fixture("ed25519_private.pem").as_bytes()).unwrap();
    bearer(&sign(&claims("ann"), Algorithm::EdDSA, Some("k"), &key))
}

#[test]
fn a_configuration_mistake_is_an_internal_error() {
    let gateway = Gateway::new();
    gateway.config("secret", SECRET);
    let reject = connect(&gateway, bearer(&hs256(&claims("ann")))).unwrap_err();
    let error = reject.error().unwrap();
    assert_eq!(error.kind(), ErrorKind::Internal);
    assert!(error.message().contains("`issuer` is missing"), "{error}");
}

#[test]
fn claims_become_context_text() {
    assert_eq!(context_value(&json!("ann")), "ann");
    assert_eq!(context_value(&json!(42)), "42");
    assert_eq!(context_value(&json!(["a", 1, true])), "a,1,true");
    assert_eq!(context_value(&json!({"a": 1})), r#"{"a":1}"#);
    assert_eq!(context_value(&json!([["a"]])), r#"[["a"]]"#);
}
