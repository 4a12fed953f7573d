//! AWS Signature Version 4 verification: the canonical request is rebuilt from
//! what arrived, exactly as the AWS SDKs build it before signing (botocore's
//! `SigV4Auth` is the reference), signed with the access key's secret and
//! compared in constant time with the signature presented.
//!
//! Only signatures in the `Authorization` header are accepted, with a signed
//! payload (the body's SHA-256), an `X-Amz-Date` within 15 minutes of the
//! server's clock, and any region and service in the credential scope.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

type HmacSha256 = Hmac<Sha256>;

/// The `Authorization` scheme of a SigV4 signature.
pub const SCHEME: &str = "AWS4-HMAC-SHA256";

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

/// A request as it arrived, raw path and query included.
pub struct SignedRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, still percent-encoded as sent.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
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
}

/// Verifies `request`, signed as `authorization` says (the header's value
/// after the scheme), with the secret `secret_of` gives for its access key.
pub fn verify<'s>(
    request: &SignedRequest<'_>,
    authorization: &str,
    secret_of: impl Fn(&str) -> Option<&'s str>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let authorization = Authorization::parse(authorization)?;
    let secret = secret_of(authorization.access_key)
        .ok_or_else(|| SignatureError::UnknownKey(authorization.access_key.to_owned()))?;
    let amz_date = header(request.headers, "x-amz-date")?;
    let signed_at = PrimitiveDateTime::parse(
        amz_date,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| SignatureError::Malformed("X-Amz-Date is not YYYYMMDDTHHMMSSZ"))?
    .assume_utc();
    if (now - signed_at).abs() > MAX_SKEW {
        return Err(SignatureError::Expired);
    }
    let [date, region, service] = authorization.scope_parts;
    if !amz_date.starts_with(date) {
        return Err(SignatureError::Malformed(
            "the scope's date is not X-Amz-Date's",
        ));
    }
    let payload_hash = hex::encode(Sha256::digest(request.body));
    if let Some(declared) = request.headers.get("x-amz-content-sha256")
        && declared.as_bytes() != payload_hash.as_bytes()
    {
        return Err(SignatureError::BodyMismatch);
    }

    let canonical = canonical_request(request, authorization.signed_headers, &payload_hash)?;
    let string_to_sign = format!(
        "{SCHEME}\n{amz_date}\n{}\n{}",
        authorization.scope,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let presented = hex::decode(authorization.signature).map_err(|_| SignatureError::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&presented)
        .map_err(|_| SignatureError::Mismatch)
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

/// Method, canonical URI, canonical query, canonical headers, signed headers
/// and payload hash, one per line.
fn canonical_request(
    request: &SignedRequest<'_>,
    signed_headers: &str,
    payload_hash: &str,
) -> Result<String, SignatureError> {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
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
        "{}\n{}\n{}\n{headers}\n{signed_headers}\n{payload_hash}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
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

    fn headers(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert("user-agent", "x".parse().unwrap());
        headers
    }

    fn check(
        request: &SignedRequest<'_>,
        authorization: &str,
        now: OffsetDateTime,
    ) -> Result<(), SignatureError> {
        let fields = authorization.strip_prefix("AWS4-HMAC-SHA256 ").unwrap();
        verify(
            request,
            fields,
            |key| (key == "AKIDEXAMPLE").then_some(SECRET),
            now,
        )
    }

    /// AWS's own test suite: `get-vanilla`.
    #[test]
    fn aws_get_vanilla() {
        let headers = headers("example.amazonaws.com");
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assert_eq!(check(&request, authorization, SIGNED_AT), Ok(()));
    }

    /// Signed by botocore: a stage, `@`, an encoded id, a query and a body.
    const BOTOCORE_POST: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=cbdcd9b0e46599ea6045004eccf2e9d4cfed8fdb7e7f59f16f8fae21e43616ea";

    fn botocore_post<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            path: "/prod/@connections/abc%3D",
            query: "b=2&a=x%20y",
            headers,
            body,
        }
    }

    #[test]
    fn a_botocore_signature_verifies_within_the_skew_window() {
        let headers = headers("127.0.0.1:8081");
        let request = botocore_post(&headers, b"hello");
        assert_eq!(check(&request, BOTOCORE_POST, SIGNED_AT), Ok(()));
        let later = SIGNED_AT + Duration::minutes(14);
        assert_eq!(check(&request, BOTOCORE_POST, later), Ok(()));
        let too_late = SIGNED_AT + Duration::minutes(16);
        assert_eq!(
            check(&request, BOTOCORE_POST, too_late),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let headers = headers("127.0.0.1:8081");
        let tampered_body = botocore_post(&headers, b"hellO");
        assert_eq!(
            check(&tampered_body, BOTOCORE_POST, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
        let other_id = SignedRequest {
            path: "/prod/@connections/abd%3D",
            ..botocore_post(&headers, b"hello")
        };
        assert_eq!(
            check(&other_id, BOTOCORE_POST, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
        let other_host = self::headers("127.0.0.1:9999");
        let moved = botocore_post(&other_host, b"hello");
        assert_eq!(
            check(&moved, BOTOCORE_POST, SIGNED_AT),
            Err(SignatureError::Mismatch)
        );
        let unknown = BOTOCORE_POST.replace("AKIDEXAMPLE", "AKIDOTHER");
        assert_eq!(
            check(&botocore_post(&headers, b"hello"), &unknown, SIGNED_AT),
            Err(SignatureError::UnknownKey("AKIDOTHER".into()))
        );
        let garbage = BOTOCORE_POST.replace("Signature=cb", "Signature=zz");
        assert_eq!(
            check(&botocore_post(&headers, b"hello"), &garbage, SIGNED_AT),
            Err(SignatureError::Mismatch)
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
