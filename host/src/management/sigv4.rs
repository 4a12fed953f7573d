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

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

type HmacSha256 = Hmac<Sha256>;

/// The `Authorization` scheme of a SigV4 signature.
pub const SCHEME: &str = "AWS4-HMAC-SHA256";

/// The service AWS's management API signs for, in every credential scope.
pub const SERVICE: &str = "execute-api";

/// How far `X-Amz-Date` may be from the server's clock, either way.
const MAX_SKEW: Duration = Duration::minutes(15);

/// What SigV4 leaves unencoded: the RFC 3986 unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// In the canonical URI, `/` separates segments and stays as it is.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

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

/// The fields of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    access_key: &'a str,
    /// `date/region/service/aws4_request`.
    scope: &'a str,
    scope_parts: [&'a str; 3],
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses the header's value after the scheme.
    fn parse(fields: &'a str) -> Result<Self, SignatureError> {
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in fields.split(',') {
            match field.trim().split_once('=') {
                Some(("Credential", value)) => credential = Some(value),
                Some(("SignedHeaders", value)) => signed_headers = Some(value),
                Some(("Signature", value)) => signature = Some(value),
                _ => return Err(SignatureError::Malformed("unexpected field")),
            }
        }
        let credential = credential.ok_or(SignatureError::Malformed("no Credential"))?;
        let (access_key, scope) = credential
            .split_once('/')
            .ok_or(SignatureError::Malformed("Credential has no scope"))?;
        let parts: Vec<&str> = scope.split('/').collect();
        let [date, region, service, "aws4_request"] = parts.as_slice() else {
            return Err(SignatureError::Malformed(
                "the scope is not date/region/service/aws4_request",
            ));
        };
        Ok(Authorization {
            access_key,
            scope,
            scope_parts: [date, region, service],
            signed_headers: signed_headers.ok_or(SignatureError::Malformed("no SignedHeaders"))?,
            signature: signature.ok_or(SignatureError::Malformed("no Signature"))?,
        })
    }

    /// Refuses a scope or header list AWS would refuse, whatever the signature.
    fn check_scope(&self, region: &str) -> Result<(), SignatureError> {
        let [_, presented_region, service] = self.scope_parts;
        if service != SERVICE {
            return Err(SignatureError::WrongService(service.to_owned()));
        }
        if presented_region != region {
            return Err(SignatureError::WrongRegion {
                presented: presented_region.to_owned(),
                expected: region.to_owned(),
            });
        }
        if !self.signed_headers.split(';').any(|name| name == "host") {
            return Err(SignatureError::HostNotSigned);
        }
        Ok(())
    }

    /// Checks the key and the date, whatever the scope says, and prepares
    /// the signature's check.
    fn pending<'s>(
        &self,
        head: &SignedHead<'_>,
        secret_of: impl Fn(&str) -> Option<&'s str>,
        now: OffsetDateTime,
    ) -> Result<PendingSignature, SignatureError> {
        let secret = secret_of(self.access_key)
            .ok_or_else(|| SignatureError::UnknownKey(self.access_key.to_owned()))?;
        let amz_date = header(head.headers, "x-amz-date")?;
        let signed_at = PrimitiveDateTime::parse(
            amz_date,
            format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .map_err(|_| SignatureError::Malformed("X-Amz-Date is not YYYYMMDDTHHMMSSZ"))?
        .assume_utc();
        if (now - signed_at).abs() > MAX_SKEW {
            return Err(SignatureError::Expired);
        }
        let [date, region, service] = self.scope_parts;
        if !amz_date.starts_with(date) {
            return Err(SignatureError::Malformed(
                "the scope's date is not X-Amz-Date's",
            ));
        }
        let mut signing_key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        for part in [region, service, "aws4_request"] {
            signing_key = hmac(&signing_key, part.as_bytes());
        }
        let declared_hash = match head.headers.get("x-amz-content-sha256") {
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| SignatureError::BodyMismatch)?
                    .to_owned(),
            ),
            None => None,
        };
        let pending = PendingSignature {
            canonical_head: canonical_head(head, self.signed_headers)?,
            amz_date: amz_date.to_owned(),
            scope: self.scope.to_owned(),
            signing_key,
            presented: hex::decode(self.signature).map_err(|_| SignatureError::Mismatch)?,
            declared_hash,
        };
        Ok(pending)
    }
}

/// A signature whose head passed: what is left to check needs the body.
#[derive(Debug)]
pub struct PendingSignature {
    /// The canonical request without its last line, the payload hash.
    canonical_head: String,
    amz_date: String,
    scope: String,
    signing_key: Vec<u8>,
    presented: Vec<u8>,
    /// The body's hash as the client declared it in `x-amz-content-sha256`:
    /// the signature is then checked on the head already.
    declared_hash: Option<String>,
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

    fn verify_signature(&self, payload_hash: &str) -> Result<(), SignatureError> {
        let mut mac =
            HmacSha256::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        mac.update(self.string_to_sign(payload_hash).as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&self.presented)
            .map_err(|_| SignatureError::Mismatch)
    }

    fn string_to_sign(&self, payload_hash: &str) -> String {
        let canonical = format!("{}\n{payload_hash}", self.canonical_head);
        format!(
            "{SCHEME}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        )
    }
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

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, SignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(SignatureError::Malformed(
            "a signed header is missing or not text",
        ))
}

/// Method, canonical URI, canonical query, canonical headers and signed
/// headers, one per line: the canonical request but its payload hash.
fn canonical_head(head: &SignedHead<'_>, signed_headers: &str) -> Result<String, SignatureError> {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = head
            .headers
            .get_all(name)
            .iter()
            .map(|value| {
                let value = value
                    .to_str()
                    .map_err(|_| SignatureError::Malformed("a signed header is not text"))?;
                Ok(value.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect::<Result<_, _>>()?;
        if values.is_empty() {
            return Err(SignatureError::Malformed("a signed header is missing"));
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{signed_headers}",
        head.method,
        canonical_uri(head.path),
        canonical_query(head.query),
    ))
}

/// The path without empty and dot segments, each byte outside the unreserved
/// set and `/` percent-encoded (so an escape the client sent is encoded again,
/// as every AWS service but S3 expects).
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let trailing = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    let normalized = format!("/{}{trailing}", segments.join("/"));
    utf8_percent_encode(&normalized, PATH).to_string()
}

/// Each `name=value` decoded then encoded the SigV4 way, sorted.
fn canonical_query(query: &str) -> String {
    let encode = |part: &str| {
        let decoded = percent_decode_str(part).collect::<Vec<u8>>();
        percent_encoding::percent_encode(&decoded, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

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

    #[test]
    fn canonical_forms_match_the_sdks() {
        assert_eq!(
            canonical_uri("/prod/@connections/abc%3D"),
            "/prod/%40connections/abc%253D"
        );
        assert_eq!(canonical_uri("/a//b/./c/../d/"), "/a/b/d/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_query("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
        assert_eq!(canonical_query("limit"), "limit=");
    }
}
