//! The `Authorization` header's fields, and the checks made on them before
//! any signature is computed: the credential scope, the access key and the
//! request's date.

use http::HeaderMap;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::canonical::canonical_head;
use super::signature::{PendingSignature, signing_key};
use super::{SERVICE, SignatureError, SignedHead};

/// How far `X-Amz-Date` may be from the server's clock, either way.
const MAX_SKEW: Duration = Duration::minutes(15);

/// The fields of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
pub(super) struct Authorization<'a> {
    access_key: &'a str,
    /// `date/region/service/aws4_request`.
    scope: &'a str,
    scope_parts: [&'a str; 3],
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses the header's value after the scheme.
    pub(super) fn parse(fields: &'a str) -> Result<Self, SignatureError> {
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
    pub(super) fn check_scope(&self, region: &str) -> Result<(), SignatureError> {
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
    pub(super) fn pending<'s>(
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
        let [date, ..] = self.scope_parts;
        if !amz_date.starts_with(date) {
            return Err(SignatureError::Malformed(
                "the scope's date is not X-Amz-Date's",
            ));
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
            signing_key: signing_key(secret, self.scope_parts),
            presented: hex::decode(self.signature).map_err(|_| SignatureError::Mismatch)?,
            declared_hash,
        };
        Ok(pending)
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, SignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(SignatureError::Malformed(
            "a signed header is missing or not text",
        ))
}
