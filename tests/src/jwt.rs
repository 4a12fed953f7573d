//! JSON Web Tokens for the authorizer's tests: signing keys of every
//! algorithm it accepts (the RSA one from `tests/fixtures/jwt`, the others
//! made fresh), tokens signed with them, and [`JwksServer`], an identity
//! provider's JWKS endpoint on a loopback port whose keys a test rotates.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

use crate::backend::{Backend, Reply};
use crate::workspace_root;

/// A key that signs tokens, and what verifies them.
pub struct SigningKey {
    /// The algorithm it signs with.
    pub algorithm: Algorithm,
    /// The `kid` its tokens name and its JWK has.
    pub kid: String,
    encoding: EncodingKey,
    /// Its public key as a JWK (for HS256: the secret, as `oct`).
    pub jwk: Value,
    /// Its public key in PEM (for HS256: the secret itself).
    pub public: String,
}

impl SigningKey {
    /// An HS256 shared secret.
    pub fn hs256(kid: &str, secret: &str) -> Self {
        let encoding = EncodingKey::from_secret(secret.as_bytes());
        let jwk = json!({"kty": "oct", "kid": kid, "k": URL_SAFE_NO_PAD.encode(secret)});
        Self::new(Algorithm::HS256, kid, encoding, jwk, secret.to_owned())
    }

    /// The RSA key pair of `tests/fixtures/jwt` (RS256).
    pub fn rs256(kid: &str) -> Self {
        let encoding = EncodingKey::from_rsa_pem(fixture("rsa_private.pem").as_bytes()).unwrap();
        let jwk =
            serde_json::to_value(Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap());
        let mut jwk = jwk.unwrap();
        jwk["kid"] = kid.into();
        Self::new(
            Algorithm::RS256,
            kid,
            encoding,
            jwk,
            fixture("rsa_public.pem"),
        )
    }

    /// A new P-256 key pair (ES256).
    pub fn es256(kid: &str) -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let encoding = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        // The uncompressed point: 0x04, then x and y.
        let point = pair.public_key_raw();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        Self::new(Algorithm::ES256, kid, encoding, jwk, pair.public_key_pem())
    }

    /// A new Ed25519 key pair (EdDSA).
    pub fn ed25519(kid: &str) -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let encoding = EncodingKey::from_ed_pem(pair.serialize_pem().as_bytes()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(pair.public_key_raw());
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x});
        Self::new(Algorithm::EdDSA, kid, encoding, jwk, pair.public_key_pem())
    }

    fn new(
        algorithm: Algorithm,
        kid: &str,
        encoding: EncodingKey,
        jwk: Value,
        public: String,
    ) -> Self {
        SigningKey {
            algorithm,
            kid: kid.to_owned(),
            encoding,
            jwk,
            public,
        }
    }

    /// A token of `claims`, its header naming this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).unwrap()
    }
}

/// The seconds since the Unix epoch.
pub fn now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.as_secs() as i64
}

/// Claims of `sub` from `issuer`, valid for five minutes.
pub fn claims(issuer: &str, sub: &str) -> Value {
    json!({"iss": issuer, "sub": sub, "exp": now() + 300})
}

/// A JSON Web Key Set of `keys`' public keys.
pub fn jwks(keys: &[&SigningKey]) -> String {
    let keys: Vec<&Value> = keys.iter().map(|key| &key.jwk).collect();
    json!({ "keys": keys }).to_string()
}

/// An upgrade request to `url` with `token` in the `Authorization` header.
pub fn with_bearer(url: &str, token: &str) -> Request {
    let mut request = url.into_client_request().unwrap();
    let value = format!("Bearer {token}").parse().unwrap();
    request.headers_mut().insert("authorization", value);
    request
}

/// An upgrade request to `url` offering the subprotocols `offered`.
pub fn offering(url: &str, offered: &[&str]) -> Request {
    let mut request = url.into_client_request().unwrap();
    let value = offered.join(", ").parse().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", value);
    request
}

/// An identity provider's JWKS endpoint: serves the key set a test
/// publishes, and counts the fetches.
pub struct JwksServer {
    backend: Backend,
    answer: Arc<Mutex<Answer>>,
}

/// What a [`JwksServer`] answers.
enum Answer {
    /// The key set, as JSON.
    Keys(String),
    /// This status, as a provider in trouble does.
    Failure(u16),
    /// The key set, after longer than any fetch waits: a hung provider.
    Silence(String),
}

impl JwksServer {
    /// Serves `keys` at `/jwks.json`.
    pub async fn start(keys: &[&SigningKey]) -> JwksServer {
        let answer = Arc::new(Mutex::new(Answer::Keys(jwks(keys))));
        let serving = Arc::clone(&answer);
        let backend = Backend::start(move |request| {
            if request.path != "/jwks.json" {
                return Reply::new(404, "not found");
            }
            match &*serving.lock().unwrap() {
                Answer::Keys(document) => Reply::new(200, document.clone()),
                Answer::Failure(status) => Reply::new(*status, "the provider is down"),
                Answer::Silence(document) => {
                    Reply::new(200, document.clone()).after(Duration::from_secs(300))
                }
            }
        })
        .await;
        JwksServer { backend, answer }
    }

    /// Serves `keys` from now on: a rotation, or a recovery.
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.answer.lock().unwrap() = Answer::Keys(jwks(keys));
    }

    /// Answers `status` from now on.
    pub fn fail(&self, status: u16) {
        *self.answer.lock().unwrap() = Answer::Failure(status);
    }

    /// Accepts requests but answers none in time from now on.
    pub fn hang(&self, keys: &[&SigningKey]) {
        *self.answer.lock().unwrap() = Answer::Silence(jwks(keys));
    }

    /// The key set's URL.
    pub fn url(&self) -> String {
        self.backend.url("/jwks.json")
    }

    /// The host and port, for the route's `http.allowed_hosts`.
    pub fn host(&self) -> String {
        self.backend.addr().to_string()
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.backend.received().len()
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join("tests/fixtures/jwt").join(name))
        .expect("the JWT test fixtures")
}
