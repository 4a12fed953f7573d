//! Verification keys: a shared secret, a PEM public key or a JSON Web Key
//! Set, each key bound to the one algorithm it verifies. A token is checked
//! only with a key of its own algorithm, so an HS256 token is never verified
//! with a public key taken as its secret (the classic algorithm confusion).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The algorithms accepted; every other is refused.
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// A key and the algorithm it verifies.
#[derive(Clone)]
pub struct Key {
    /// Its `kid`, if it has one.
    pub kid: Option<String>,
    /// The one algorithm it verifies.
    pub algorithm: Algorithm,
    /// The key itself.
    pub decoding: DecodingKey,
}

impl Key {
    /// Whether it may verify a token of `algorithm` whose header names `kid`.
    /// A key without a `kid` (a configured secret or PEM key) may verify a
    /// token of its algorithm whatever `kid` it names.
    pub fn fits(&self, algorithm: Algorithm, kid: Option<&str>) -> bool {
        self.algorithm == algorithm
            && match (&self.kid, kid) {
                (Some(own), Some(kid)) => own == kid,
                _ => true,
            }
    }
}

/// Whether a key set may hold shared secrets (`"kty": "oct"`): a configured
/// one may, a fetched one may not (a secret has no place in a document
/// served to anyone).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// Secrets are kept.
    Allowed,
    /// Secrets are skipped.
    Skipped,
}

/// An HS256 shared secret.
pub fn from_secret(secret: &str) -> Key {
    Key {
        kid: None,
        algorithm: Algorithm::HS256,
        decoding: DecodingKey::from_secret(secret.as_bytes()),
    }
}

/// A PEM public key: RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA).
pub fn from_pem(pem: &str) -> Result<Key, String> {
    let pem = pem.as_bytes();
    let (algorithm, decoding) = DecodingKey::from_rsa_pem(pem)
        .map(|key| (Algorithm::RS256, key))
        .or_else(|_| DecodingKey::from_ec_pem(pem).map(|key| (Algorithm::ES256, key)))
        .or_else(|_| DecodingKey::from_ed_pem(pem).map(|key| (Algorithm::EdDSA, key)))
        .map_err(|_| "not a PEM RSA, P-256 or Ed25519 public key".to_owned())?;
    Ok(Key {
        kid: None,
        algorithm,
        decoding,
    })
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// The signature keys of a JSON Web Key Set (`{"keys":[…]}`). Keys of other
/// types, curves or algorithms, and keys for encryption, are skipped: an
/// identity provider's set often holds some.
pub fn from_jwks(json: &str, secrets: Secrets) -> Result<Vec<Key>, String> {
    let set: KeySet =
        serde_json::from_str(json).map_err(|error| format!("not a JSON Web Key Set: {error}"))?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
        .filter_map(|jwk| from_jwk(&jwk, secrets))
        .collect())
}

/// One JWK as a key, if it is a signature key of an accepted algorithm.
fn from_jwk(jwk: &Jwk, secrets: Secrets) -> Option<Key> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::OctetKey(_) if secrets == Secrets::Allowed => Algorithm::HS256,
        _ => return None,
    };
    // A key that names its algorithm verifies that one only.
    let named = jwk.common.key_algorithm.map(|alg| match alg {
        KeyAlgorithm::HS256 => Some(Algorithm::HS256),
        KeyAlgorithm::RS256 => Some(Algorithm::RS256),
        KeyAlgorithm::ES256 => Some(Algorithm::ES256),
        KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
        _ => None,
    });
    if named.is_some_and(|named| named != Some(algorithm)) {
        return None;
    }
    Some(Key {
        kid: jwk.common.key_id.clone(),
        algorithm,
        decoding: DecodingKey::from_jwk(jwk).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt/rsa_public.pem");

    #[test]
    fn a_pem_key_is_bound_to_its_algorithm() {
        let key = from_pem(RSA_PUBLIC).unwrap();
        assert_eq!(key.algorithm, Algorithm::RS256);
        assert!(key.fits(Algorithm::RS256, Some("any")));
        assert!(!key.fits(Algorithm::HS256, None));
        assert!(from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
    }

    #[test]
    fn a_key_set_keeps_the_signature_keys_it_can_use() {
        let jwks = r#"{"keys":[
            {"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"},
            {"kty":"oct","kid":"secret","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"ps","alg":"PS256","n":"AQAB","e":"AQAB"},
            {"kty":"unknown"}
        ]}"#;
        let kept = |secrets| -> Vec<(Option<String>, Algorithm)> {
            from_jwks(jwks, secrets)
                .unwrap()
                .into_iter()
                .map(|key| (key.kid, key.algorithm))
                .collect()
        };
        assert_eq!(
            kept(Secrets::Skipped),
            [
                (Some("ec".into()), Algorithm::ES256),
                (Some("ed".into()), Algorithm::EdDSA)
            ]
        );
        assert_eq!(kept(Secrets::Allowed).len(), 3);
        assert!(from_jwks("[]", Secrets::Skipped).is_err());
    }

    #[test]
    fn a_key_with_a_kid_fits_only_that_kid() {
        let mut key = from_secret("s");
        key.kid = Some("a".into());
        assert!(key.fits(Algorithm::HS256, Some("a")));
        assert!(key.fits(Algorithm::HS256, None));
        assert!(!key.fits(Algorithm::HS256, Some("b")));
    }
}
