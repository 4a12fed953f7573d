//! Verifying a token: the issuer it names picks the keys, its algorithm and
//! `kid` pick among them, then the signature, `iss`, `aud`, `exp` and `nbf`
//! are checked.

use std::time::Instant;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, dangerous, decode, decode_header};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::jwks::{self, FetchError, Policy};
use crate::keys::{ALGORITHMS, Key};
use crate::settings::{Issuer, Settings};

/// A verified token's claims.
pub type Claims = Map<String, Value>;

/// Why a connection is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No token was sent (401, with a bare challenge).
    Missing(String),
    /// The token is not acceptable (401, `invalid_token`).
    Invalid(String),
    /// The issuer's keys could not be fetched; a retry may succeed (503).
    Unavailable(String),
    /// The configuration is wrong (500; the reason is only logged).
    Misconfigured(String),
}

impl Refusal {
    /// Why, in words.
    pub fn reason(&self) -> &str {
        match self {
            Refusal::Missing(reason)
            | Refusal::Invalid(reason)
            | Refusal::Unavailable(reason)
            | Refusal::Misconfigured(reason) => reason,
        }
    }
}

/// The only claim read before the signature is checked: it says whose keys
/// check it.
#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

/// The claims of `token` if one of its issuer's keys signed it and it is
/// valid now; else why not, in words a client can act on.
pub fn verify(token: &str, settings: &Settings) -> Result<Claims, Refusal> {
    let invalid = |reason: &str| Refusal::Invalid(reason.to_owned());
    let header = decode_header(token).map_err(|_| invalid("malformed token"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(Refusal::Invalid(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let unverified =
        dangerous::insecure_decode::<Unverified>(token).map_err(|_| invalid("malformed token"))?;
    let iss = unverified
        .claims
        .iss
        .ok_or_else(|| invalid("the token has no `iss` claim"))?;
    let issuer = settings
        .issuer(&iss)
        .ok_or_else(|| invalid("unknown issuer"))?;
    let candidates = keys(issuer, settings, header.alg, header.kid.as_deref())?;
    if candidates.is_empty() {
        let kid = if header.kid.is_some() {
            " with the token's `kid`"
        } else {
            ""
        };
        return Err(Refusal::Invalid(format!(
            "unknown key: the issuer has no {:?} key{kid}",
            header.alg
        )));
    }
    let validation = validation(issuer, settings, header.alg);
    for key in &candidates {
        match decode::<Claims>(token, &key.decoding, &validation) {
            Ok(data) => return Ok(data.claims),
            // Another key of the issuer may have signed it.
            Err(error) => match reason(error.kind()) {
                Some(reason) => return Err(Refusal::Invalid(reason)),
                None => continue,
            },
        }
    }
    Err(invalid("invalid signature"))
}

/// The keys of `issuer` that fit a token of `algorithm` naming `kid`: the
/// configured ones, then the fetched ones.
fn keys(
    issuer: &Issuer,
    settings: &Settings,
    algorithm: Algorithm,
    kid: Option<&str>,
) -> Result<Vec<Key>, Refusal> {
    let mut keys: Vec<Key> = issuer
        .keys
        .iter()
        .filter(|key| key.fits(algorithm, kid))
        .cloned()
        .collect();
    if let Some(url) = &issuer.jwks_url {
        let policy = Policy {
            ttl: settings.jwks_ttl,
            cooldown: settings.jwks_cooldown,
        };
        let fetched = jwks::with_cache(|cache| {
            let now = Instant::now();
            cache.keys(
                (&issuer.issuer, url),
                (algorithm, kid),
                policy,
                now,
                jwks::fetch,
            )
        });
        keys.extend(fetched.map_err(|error| match error {
            FetchError::Denied(why) => Refusal::Misconfigured(why),
            FetchError::Failed(_) => {
                Refusal::Unavailable("the token issuer's keys could not be fetched".to_owned())
            }
        })?);
    }
    Ok(keys)
}

/// What a token of `issuer` signed with `algorithm` must satisfy.
fn validation(issuer: &Issuer, settings: &Settings, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = settings.leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_issuer(&[&issuer.issuer]);
    let mut required = vec!["exp", "iss"];
    if settings.audiences.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(&settings.audiences);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// Why a token is refused, for the errors that no other key would change
/// (the signature is checked first, so a claim's error means it passed);
/// `None` for a signature that this key does not verify.
fn reason(error: &ErrorKind) -> Option<String> {
    Some(match error {
        ErrorKind::ExpiredSignature => "token expired".to_owned(),
        ErrorKind::ImmatureSignature => "token not valid yet".to_owned(),
        ErrorKind::InvalidIssuer => "wrong issuer".to_owned(),
        ErrorKind::InvalidAudience => "wrong audience".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's `{claim}` is malformed"),
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => "malformed token".to_owned(),
        _ => return None,
    })
}
