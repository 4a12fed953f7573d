//! The JWT authorizer fetching its keys from identity providers' JWKS
//! endpoints, real HTTP servers on loopback: keys rotated while the gateway
//! runs are fetched again for the unknown `kid`; keys are kept per issuer,
//! so a `kid` one issuer uses never verifies another issuer's token; an
//! endpoint is not fetched again within the cooldown whatever `kid`s tokens
//! name; keys are fetched again once their TTL has passed, so a withdrawn
//! key stops verifying even if no token names a new `kid`; an endpoint that
//! fails or hangs refuses connections with a retryable 503 (keys fetched
//! before keep verifying); a host the route may not reach is the operator's
//! mistake.

use std::time::Duration;

use tokio_tungstenite::tungstenite::{self, handshake::client::Request};
use wsgate_tests::jwt::{JwksServer, SigningKey, claims, with_bearer};
use wsgate_tests::{Client, Gateway, GatewayBuilder, eventually};

const CORP: &str = "https://corp.test/";
const PARTNER: &str = "https://partner.test/";

/// The authorizer at `$connect` trusting `issuers` (`iss`, JWKS server),
/// allowed to reach their servers, with `extra` configuration; the probe at
/// `whoami`. A fetch waits at most 1 s.
fn gateway(issuers: &[(&str, &JwksServer)], extra: &str) -> Gateway {
    let hosts: Vec<String> = issuers
        .iter()
        .map(|(_, server)| format!("\"{}\"", server.host()))
        .collect();
    let groups: String = issuers
        .iter()
        .enumerate()
        .map(|(i, (issuer, server))| {
            format!(
                "[routes.\"$connect\".config.issuers.i{i}]\nissuer = \"{issuer}\"\njwks_url = \"{}\"\n",
                server.url()
            )
        })
        .collect();
    let config = format!(
        "[routes]\nwhoami = \"probe.wasm\"\n\
         [routes.\"$connect\"]\ncomponent = \"jwt-authorizer.wasm\"\n\
         http = {{ allowed_hosts = [{}], timeout = \"1s\" }}\n\
         [routes.\"$connect\".config]\n{extra}\n{groups}",
        hosts.join(", ")
    );
    GatewayBuilder::new()
        .component("jwt-authorizer.wasm", "wsgate-jwt-authorizer")
        .component("probe.wasm", "probe")
        .config(&config)
        .start()
}

fn request(gateway: &Gateway, key: &SigningKey, issuer: &str, sub: &str) -> Request {
    with_bearer(&gateway.url("/"), &key.sign(&claims(issuer, sub)))
}

/// Connects with `key`'s token of `sub` from `issuer`; the `sub` the
/// connection context holds.
async fn connect(gateway: &Gateway, key: &SigningKey, issuer: &str, sub: &str) -> String {
    let mut client = Client::try_connect(request(gateway, key, issuer, sub))
        .await
        .unwrap_or_else(|error| panic!("{sub}: {error}"));
    client
        .send_json(serde_json::json!({"action": "whoami"}))
        .await;
    let context = client.recv_json().await["context"].clone();
    context["sub"].as_str().unwrap().to_owned()
}

/// The reason of a 401.
async fn refused(request: Request) -> String {
    match Client::try_connect(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body: serde_json::Value =
                serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            body["reason"].as_str().unwrap().to_owned()
        }
        Err(other) => panic!("expected a 401, got {other}"),
        Ok(_) => panic!("the connection was accepted"),
    }
}

#[tokio::test]
async fn keys_rotated_at_the_endpoint_are_fetched_again_for_their_new_kid() {
    let (old_rs, old_ec) = (SigningKey::rs256("2024"), SigningKey::es256("2024-ec"));
    let corp = JwksServer::start(&[&old_rs, &old_ec]).await;
    let gateway = gateway(&[(CORP, &corp)], "jwks_cooldown = 0");

    assert_eq!(connect(&gateway, &old_rs, CORP, "ann").await, "ann");
    assert_eq!(connect(&gateway, &old_ec, CORP, "bob").await, "bob");
    assert_eq!(corp.fetches(), 1, "fetched once, then cached");

    // The provider rotates: a new EdDSA key, the old RSA one withdrawn.
    let new_ed = SigningKey::ed25519("2025");
    corp.publish(&[&old_ec, &new_ed]);
    assert_eq!(connect(&gateway, &new_ed, CORP, "cat").await, "cat");
    assert_eq!(corp.fetches(), 2, "the unknown kid made it fetch again");
    assert_eq!(connect(&gateway, &old_ec, CORP, "dan").await, "dan");
    assert_eq!(
        refused(request(&gateway, &old_rs, CORP, "eve")).await,
        "unknown key: the issuer has no RS256 key with the token's `kid`",
        "a withdrawn key no longer verifies"
    );
}

#[tokio::test]
async fn a_kid_is_only_ever_looked_up_among_its_own_issuers_keys() {
    // Both providers name their P-256 key `main`.
    let (corp_key, partner_key) = (SigningKey::es256("main"), SigningKey::es256("main"));
    let corp = JwksServer::start(&[&corp_key]).await;
    let partner = JwksServer::start(&[&partner_key]).await;
    let gateway = gateway(&[(CORP, &corp), (PARTNER, &partner)], "");

    assert_eq!(connect(&gateway, &corp_key, CORP, "ann").await, "ann");
    assert_eq!(connect(&gateway, &partner_key, PARTNER, "bob").await, "bob");

    // A token signed with the corp's key, claiming the partner as issuer:
    // checked with the partner's `main` only (a cache keyed by `kid` alone
    // would find the corp's and let it pass).
    let forged = request(&gateway, &corp_key, PARTNER, "mallory");
    assert_eq!(refused(forged).await, "invalid signature");
    // A known `kid` and a key that verifies, from an issuer nobody trusts.
    let unknown = request(&gateway, &corp_key, "https://unknown.test/", "mallory");
    assert_eq!(refused(unknown).await, "unknown issuer");
    assert_eq!((corp.fetches(), partner.fetches()), (1, 1));
}

#[tokio::test]
async fn unknown_kids_do_not_make_the_gateway_fetch_again_within_the_cooldown() {
    let key = SigningKey::rs256("current");
    let corp = JwksServer::start(&[&key]).await;
    let gateway = gateway(&[(CORP, &corp)], "");
    assert_eq!(connect(&gateway, &key, CORP, "ann").await, "ann");

    for kid in ["a", "b", "c"] {
        let stranger = SigningKey::rs256(kid);
        let reason = refused(request(&gateway, &stranger, CORP, "mallory")).await;
        assert!(reason.starts_with("unknown key"), "{reason}");
    }

    assert_eq!(corp.fetches(), 1, "the default cooldown is 30 s");
}

#[tokio::test]
async fn keys_are_fetched_again_once_their_ttl_has_passed_so_a_withdrawn_key_stops_verifying() {
    let (old, new) = (SigningKey::es256("2024"), SigningKey::ed25519("2025"));
    let corp = JwksServer::start(&[&old, &new]).await;
    let gateway = gateway(&[(CORP, &corp)], "jwks_ttl = \"1s\"\njwks_cooldown = 0");
    assert_eq!(connect(&gateway, &old, CORP, "ann").await, "ann");

    // The provider withdraws a key it still names nowhere else: no token
    // brings an unknown `kid`, only the TTL makes the gateway look again.
    corp.publish(&[&new]);
    let withdrawn = async || match Client::try_connect(request(&gateway, &old, CORP, "eve")).await {
        Ok(_) => Err("still accepted".to_owned()),
        Err(tungstenite::Error::Http(response)) if response.status() == 401 => Ok(()),
        Err(other) => Err(other.to_string()),
    };
    eventually(
        "the withdrawn key to be refused",
        Duration::from_secs(20),
        withdrawn,
    )
    .await;
    assert_eq!(
        refused(request(&gateway, &old, CORP, "eve")).await,
        "unknown key: the issuer has no ES256 key with the token's `kid`"
    );
    assert_eq!(connect(&gateway, &new, CORP, "bob").await, "bob");
    assert!(corp.fetches() >= 2, "fetched {} times", corp.fetches());
}

#[tokio::test]
async fn a_jwks_endpoint_that_fails_or_hangs_refuses_with_503_and_keys_fetched_before_still_verify()
{
    let (known, later) = (SigningKey::es256("known"), SigningKey::ed25519("later"));
    let corp = JwksServer::start(&[&known]).await;
    corp.fail(500);
    let gateway = gateway(&[(CORP, &corp)], "jwks_cooldown = 0");

    // Nothing fetched yet, and the provider answers 500: retry later.
    let (status, body) = Client::refused(request(&gateway, &known, CORP, "ann")).await;
    assert_eq!(status, 503, "{body}");
    gateway
        .wait_for_line(&["jwt-authorizer: fetching", "failed: it answered 500"])
        .await;

    // The provider hangs: the fetch ends at the route's HTTP timeout.
    corp.hang(&[&known]);
    let (status, body) = Client::refused(request(&gateway, &known, CORP, "ann")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(corp.fetches(), 2);

    // It recovers: its keys verify, and go on verifying through a later
    // outage, while a `kid` it never served cannot be checked.
    corp.publish(&[&known]);
    assert_eq!(connect(&gateway, &known, CORP, "ann").await, "ann");
    corp.fail(503);
    let (status, body) = Client::refused(request(&gateway, &later, CORP, "bob")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(corp.fetches(), 4, "the unknown kid made it try again");
    assert_eq!(connect(&gateway, &known, CORP, "cat").await, "cat");
}

#[tokio::test]
async fn a_jwks_host_the_route_may_not_reach_fails_connect_with_500_and_says_why() {
    let key = SigningKey::ed25519("k");
    let corp = JwksServer::start(&[&key]).await;
    let config = format!(
        "[routes.\"$connect\"]\ncomponent = \"jwt-authorizer.wasm\"\n\
         config = {{ issuer = \"{CORP}\", jwks_url = \"{}\" }}\n",
        corp.url()
    );
    let gateway = GatewayBuilder::new()
        .component("jwt-authorizer.wasm", "wsgate-jwt-authorizer")
        .config(&config)
        .start();

    let (status, _) = Client::refused(request(&gateway, &key, CORP, "ann")).await;

    assert_eq!(status, 500);
    gateway
        .wait_for_line(&["jwt-authorizer: jwks_url", "http.allowed_hosts"])
        .await;
    assert_eq!(corp.fetches(), 0);
}
