//! The signature itself: the string to sign, made of the request's date, its
//! scope and the canonical request's hash, signed with the key derived from
//! the secret and compared in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{SCHEME, SignatureError};

type HmacSha256 = Hmac<Sha256>;

/// A signature whose head passed: what is left to check needs the body.
#[derive(Debug)]
pub struct PendingSignature {
    /// The canonical request without its last line, the payload hash.
    pub(super) canonical_head: String,
    pub(super) amz_date: String,
    pub(super) scope: String,
    pub(super) signing_key: Vec<u8>,
    pub(super) presented: Vec<u8>,
    /// The body's hash as the client declared it in `x-amz-content-sha256`:
    /// the signature is then checked on the head already.
    pub(super) declared_hash: Option<String>,
}

impl PendingSignature {
    /// Checks the body against the signature (or against the declared hash
    /// the signature was checked with).
    pub fn verify_body(&self, body: &[u8]) -> Result<(), SignatureError> {
        let payload_hash = hex::encode(Sha256::digest(body));
        match &self.declared_hash {
            Some(declared) if *declared == payload_hash => Ok(()),
            Some(_) => Err(SignatureError::BodyMismatch),
            None => self.verify_signature(&payload_hash),
        }
    }

    /// Checks the signature presented against the one the signing key gives
    /// for a body hashing to `payload_hash`.
    pub(super) fn verify_signature(&self, payload_hash: &str) -> Result<(), SignatureError> {
        let mut mac =
            HmacSha256::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        mac.update(self.string_to_sign(payload_hash).as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&self.presented)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// The string to sign for a body hashing to `payload_hash`.
    pub(super) fn string_to_sign(&self, payload_hash: &str) -> String {
        let canonical = format!("{}\n{payload_hash}", self.canonical_head);
        format!(
            "{SCHEME}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        )
    }
}

/// The key a secret signs with on `date` for `region` and `service`.
pub(super) fn signing_key(secret: &str, [date, region, service]: [&str; 3]) -> Vec<u8> {
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    key
}

/// HMAC-SHA256 of `data` under `key`.
pub(super) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}
