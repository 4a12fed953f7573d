//! Verifying a token with the configured keys.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use wsgate_sdk::config;

/// Clock skew allowed when `jwt_leeway` is not set, in seconds.
const DEFAULT_LEEWAY: u64 = 30;

/// The claims the gateway keeps. `exp` is required and checked.
#[derive(Debug, Deserialize)]
pub struct Claims {
    /// Who the token is for.
    pub sub: String,
    /// What they may do.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The keys and rules of the route's configuration.
pub struct Keys {
    secret: Option<DecodingKey>,
    public_key: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
}

impl Keys {
    /// Reads `jwt_secret`, `jwt_public_key`, `jwt_issuer`, `jwt_audience` and
    /// `jwt_leeway`; at least one key must be set.
    pub fn from_config() -> Result<Self, String> {
        let secret =
            config::get("jwt_secret").map(|secret| DecodingKey::from_secret(secret.as_bytes()));
        let public_key =
            match config::get("jwt_public_key") {
                Some(pem) => Some(DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|error| {
                    format!("jwt_public_key is not a PEM RSA public key: {error}")
                })?),
                None => None,
            };
        if secret.is_none() && public_key.is_none() {
            return Err("configure jwt_secret (HS256) or jwt_public_key (RS256)".into());
        }
        let leeway = match config::get("jwt_leeway") {
            Some(seconds) => seconds
                .parse()
                .map_err(|_| format!("jwt_leeway must be a number of seconds, not `{seconds}`"))?,
            None => DEFAULT_LEEWAY,
        };
        Ok(Keys {
            secret,
            public_key,
            issuer: config::get("jwt_issuer"),
            audience: config::get("jwt_audience"),
            leeway,
        })
    }

    /// The claims of `token` if it is well formed, signed with the key of its
    /// algorithm, unexpired, and from the right issuer for the right audience;
    /// else why not, in words a client can act on.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|_| "malformed token".to_owned())?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref(),
            Algorithm::RS256 => self.public_key.as_ref(),
            other => return Err(format!("algorithm {other:?} is not accepted")),
        }
        .ok_or_else(|| format!("algorithm {:?} is not accepted here", header.alg))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => "token expired".to_owned(),
                ErrorKind::ImmatureSignature => "token not valid yet".to_owned(),
                ErrorKind::InvalidSignature => "invalid signature".to_owned(),
                ErrorKind::InvalidIssuer => "wrong issuer".to_owned(),
                ErrorKind::InvalidAudience => "wrong audience".to_owned(),
                ErrorKind::MissingRequiredClaim(claim) => {
                    format!("the token has no `{claim}` claim")
                }
                _ => format!("invalid token: {error}"),
            })
    }
}
