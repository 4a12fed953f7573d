//! AWS Signature Version 4 verification: the canonical request is rebuilt from
//! what arrived, exactly as the AWS SDKs build it before signing (botocore's
//! `SigV4Auth` is the reference), signed with the access key's secret and
//! compared in constant time with the signature presented.
//!
//! Only signatures in the `Authorization` header are accepted, with a signed
//! payload (the body's SHA-256), an `X-Amz-Date` within 15 minutes of the
//! server's clock, `host` among the signed headers, and a credential scope
//! naming the service `execute-api` in the gateway's region, as AWS requires.
//!
//! Verification comes in two steps so that the body is read only for a head
//! that passed: [`verify_head`] checks everything the head carries, and the
//! [`PendingSignature`] it returns checks the body. A client that declares the
//! body's hash (`x-amz-content-sha256`) has its signature checked on the head.
//!
//! The parts: [`authorization`] parses the header and checks its scope, key
//! and date; [`canonical`] rebuilds the canonical request; [`signature`]
//! derives the signing key and checks the signature.

mod authorization;
mod canonical;
mod signature;

use http::HeaderMap;
use time::OffsetDateTime;

pub use self::signature::PendingSignature;

use self::authorization::Authorization;

/// The `Authorization` scheme of a SigV4 signature.
pub const SCHEME: &str = "AWS4-HMAC-SHA256";

/// The service AWS's management API signs for, in every credential scope.
pub const SERVICE: &str = "execute-api";

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header or a part the signature needs is missing or malformed.
    #[error("malformed AWS4-HMAC-SHA256 signature: {0}")]
    Malformed(&'static str),
    /// `host` is not among the signed headers, so the request could be replayed elsewhere.
    #[error("the signature does not cover the host header: SignedHeaders must include host")]
    HostNotSigned,
    /// The credential scope names another region than the gateway's.
    #[error(
        "the credential scope names the region `{presented}`, but this gateway's is `{expected}` (--api-region)"
    )]
    WrongRegion {
        /// The region of the scope.
        presented: String,
        /// The gateway's region.
        expected: String,
    },
    /// The credential scope names another service than `execute-api`.
    #[error(
        "the credential scope names the service `{0}`, but the management API is `execute-api`"
    )]
    WrongService(String),
    /// No secret is configured for this access key id.
    #[error("the access key id `{0}` is not known")]
    UnknownKey(String),
    /// The request's date is too far from the server's clock.
    #[error(
        "the signature has expired: X-Amz-Date is more than 15 minutes from the server's clock"
    )]
    Expired,
    /// `x-amz-content-sha256` is not the body's hash.
    #[error("x-amz-content-sha256 is not the SHA-256 of the body")]
    BodyMismatch,
    /// The signature is not the one the secret gives.
    #[error("the request signature does not match the one computed with the access key's secret")]
    Mismatch,
}

/// A request head as it arrived, raw path and query included.
pub struct SignedHead<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, still percent-encoded as sent.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
}

/// Verifies what the head of a request signed as `authorization` says (the
/// header's value after the scheme) carries: the scope names `execute-api`
/// in `region` and the signed headers `host`, the access key is one
/// `secret_of` knows, and the date is within the skew. The body is checked by
/// the [`PendingSignature`].
pub fn verify_head<'s>(
    head: &SignedHead<'_>,
    authorization: &str,
    region: &str,
    secret_of: impl Fn(&str) -> Option<&'s str>,
    now: OffsetDateTime,
) -> Result<PendingSignature, SignatureError> {
    let authorization = Authorization::parse(authorization)?;
    authorization.check_scope(region)?;
    let pending = authorization.pending(head, secret_of, now)?;
    if let Some(declared) = &pending.declared_hash {
        pending.verify_signature(declared)?;
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    use sha2::{Digest, Sha256};
    use time::Duration;

    use super::signature::hmac;
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SIGNED_AT: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);
    const REGION: &str = "us-east-1";

    fn headers(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert("user-agent", "x".parse().unwrap());
        headers
    }

    fn secret_of(key: &str) -> Option<&'static str> {
        (key == "AKIDEXAMPLE").then_some(SECRET)
    }

    fn fields(authorization: &str) -> &str {
        authorization.strip_prefix("AWS4-HMAC-SHA256 ").unwrap()
    }

    /// Both steps, as the management API runs them, in `region`.
    fn check_in(
        region: &str,
        head: &SignedHead<'_>,
        body: &[u8],
        authorization: &str,
        now: OffsetDateTime,
    ) -> Result<(), SignatureError> {
        verify_head(head, fields(authorization), region, secret_of, now)?.verify_body(body)
    }

    fn check(
        head: &SignedHead<'_>,
        body: &[u8],
        authorization: &str,
        now: OffsetDateTime,
    ) -> Result<(), SignatureError> {
        check_in(REGION, head, body, authorization, now)
    }

    /// Signs `head` and `body` for `scope` (`region/service`) over `signed`
    /// headers, with the same arithmetic the verification uses.
    fn sign(head: &SignedHead<'_>, body: &[u8], scope: &str, signed: &str) -> String {
        let unsigned = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/{scope}/aws4_request, SignedHeaders={signed}, Signature=00"
        );
        let authorization = Authorization::parse(fields(&unsigned)).unwrap();
        let pending = authorization.pending(head, secret_of, SIGNED_AT).unwrap();
        let hash = hex::encode(Sha256::digest(body));
        let signature = hex::encode(hmac(
            &pending.signing_key,
            pending.string_to_sign(&hash).as_bytes(),
        ));
        unsigned.replace("Signature=00", &format!("Signature={signature}"))
    }

    /// AWS's own test suite: `get-vanilla`. Its scope names the service
    /// `service`, which the management API refuses, so the arithmetic is
    /// checked past the scope.
    #[test]
    fn aws_get_vanilla() {
        let headers = headers("example.amazonaws.com");
        let head = SignedHead {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
        };
        let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let parsed = Authorization::parse(fields(authorization)).unwrap();
        let pending = parsed.pending(&head, secret_of, SIGNED_AT).unwrap();
        assert_eq!(pending.verify_body(b""), Ok(()));
        assert_eq!(
            check(&head, b"", authorization, SIGNED_AT),
            Err(SignatureError::WrongService("service".into()))
        );
    }

    /// Signed by botocore: a stage, `@`, an encoded id, a query and a body.
    const BOTOCORE_POST: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=cbdcd9b0e46599ea6045004eccf2e9d4cfed8fdb7e7f59f16f8fae21e43616ea";

    fn botocore_post(headers: &HeaderMap) -> SignedHead<'_> {
        SignedHead {
            method: "POST",
            path: "/prod/@connections/abc%3D",
            query: "b=2&a=x%20y",
            headers,
        }
    }

    #[test]
    fn a_botocore_signature_verifies_within_the_skew_window() {
        let headers = headers("127.0.0.1:8081");
        let head = botocore_post(&headers);
        assert_eq!(check(&head, b"hello", BOTOCORE_POST, SIGNED_AT), Ok(()));
        let later = SIGNED_AT + Duration::minutes(14);
        assert_eq!(check(&head, b"hello", BOTOCORE_POST, later), Ok(()));
        let too_late = SIGNED_AT + Duration::minutes(16);
        assert_eq!(
            check(&head, b"hello", BOTOCORE_POST, too_late),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let headers = headers("127.0.0.1:8081");
        let head = botocore_post(&headers);
        assert_eq!(
            check(&head, b"hellO", BOTOCORE_POST, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
        let other_id = SignedHead {
            path: "/prod/@connections/abd%3D",
            ..botocore_post(&headers)
        };
        assert_eq!(
            check(&other_id, b"hello", BOTOCORE_POST, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
        let other_host = self::headers("127.0.0.1:9999");
        assert_eq!(
            check(
                &botocore_post(&other_host),
                b"hello",
                BOTOCORE_POST,
                SIGNED_AT
            ),
            Err(SignatureError::Mismatch)
        );
        let unknown = BOTOCORE_POST.replace("AKIDEXAMPLE", "AKIDOTHER");
        assert_eq!(
            check(&head, b"hello", &unknown, SIGNED_AT),
            Err(SignatureError::UnknownKey("AKIDOTHER".into()))
        );
        let garbage = BOTOCORE_POST.replace("Signature=cb", "Signature=zz");
        assert_eq!(
            check(&head, b"hello", &garbage, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_scope_must_name_execute_api_in_the_gateways_region() {
        let headers = headers("127.0.0.1:8081");
        let head = botocore_post(&headers);
        // Correctly signed for us-east-1, presented to a gateway in eu-west-1.
        let error = check_in("eu-west-1", &head, b"hello", BOTOCORE_POST, SIGNED_AT).unwrap_err();
        assert_eq!(
            error,
            SignatureError::WrongRegion {
                presented: "us-east-1".into(),
                expected: "eu-west-1".into()
            }
        );
        assert!(error.to_string().contains("region `us-east-1`"), "{error}");
        let elsewhere = sign(&head, b"hello", "eu-west-1/execute-api", "host;x-amz-date");
        assert_eq!(
            check_in("eu-west-1", &head, b"hello", &elsewhere, SIGNED_AT),
            Ok(())
        );
        let s3 = sign(&head, b"hello", "us-east-1/s3", "host;x-amz-date");
        let error = check(&head, b"hello", &s3, SIGNED_AT).unwrap_err();
        assert_eq!(error, SignatureError::WrongService("s3".into()));
        assert!(error.to_string().contains("service `s3`"), "{error}");
    }

    #[test]
    fn host_must_be_signed() {
        let headers = headers("127.0.0.1:8081");
        let head = botocore_post(&headers);
        let without_host = sign(&head, b"hello", "us-east-1/execute-api", "x-amz-date");
        let error = check(&head, b"hello", &without_host, SIGNED_AT).unwrap_err();
        assert_eq!(error, SignatureError::HostNotSigned);
        assert!(error.to_string().contains("host"), "{error}");
        // The same signature with host signed too is accepted.
        let with_host = sign(&head, b"hello", "us-east-1/execute-api", "host;x-amz-date");
        assert_eq!(check(&head, b"hello", &with_host, SIGNED_AT), Ok(()));
    }

    #[test]
    fn a_declared_body_hash_is_checked_on_the_head_then_against_the_body() {
        let mut headers = headers("127.0.0.1:8081");
        let hash = hex::encode(Sha256::digest(b"hello"));
        headers.insert("x-amz-content-sha256", hash.parse().unwrap());
        let head = botocore_post(&headers);
        let signed = "host;x-amz-content-sha256;x-amz-date";
        let authorization = sign(&head, b"hello", "us-east-1/execute-api", signed);
        let pending = verify_head(&head, fields(&authorization), REGION, secret_of, SIGNED_AT);
        let pending = pending.expect("a good signature passes on the head");
        assert_eq!(pending.verify_body(b"hello"), Ok(()));
        assert_eq!(
            pending.verify_body(b"hellO"),
            Err(SignatureError::BodyMismatch)
        );
        let forged = sign(&head, b"other", "us-east-1/execute-api", signed);
        assert_eq!(
            verify_head(&head, fields(&forged), REGION, secret_of, SIGNED_AT).unwrap_err(),
            SignatureError::Mismatch
        );
    }
}
