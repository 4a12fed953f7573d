//! Who may use the management API: bearer tokens and AWS SigV4 access keys
//! from the configuration. With neither configured the API is open, which is
//! why it may then only listen on loopback.
//!
//! Authentication is decided on the request head, before a byte of the body
//! is read, so a client without credentials cannot make the gateway buffer a
//! body: only a SigV4 signature, whose payload hash covers the body, is
//! finished on the body once it has been read ([`Authorized::verify_body`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use anyhow::bail;
use http::header;
use http::request::Parts;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::response::ApiError;
use super::sigv4::{self, PendingSignature, SignedHead};

/// The credentials the management API accepts.
#[derive(Clone)]
pub struct Credentials {
    tokens: Vec<String>,
    /// Access key id → secret access key.
    keys: BTreeMap<String, String>,
    /// The region SigV4 credential scopes must name.
    region: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("tokens", &self.tokens.len())
            .field("access_key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("region", &self.region)
            .finish()
    }
}

impl Credentials {
    /// Bearer `tokens` and SigV4 `keys`, each `ACCESS_KEY_ID:SECRET_ACCESS_KEY`,
    /// for signatures scoped to `region`.
    pub fn new(tokens: Vec<String>, keys: Vec<String>, region: String) -> anyhow::Result<Self> {
        if tokens.iter().any(String::is_empty) {
            bail!("an API token must not be empty");
        }
        let mut parsed = BTreeMap::new();
        for key in keys {
            match key.split_once(':') {
                Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                    parsed.insert(id.to_owned(), secret.to_owned());
                }
                _ => bail!("an API key must be ACCESS_KEY_ID:SECRET_ACCESS_KEY"),
            }
        }
        Ok(Credentials {
            tokens,
            keys: parsed,
            region,
        })
    }

    /// Whether no credentials are configured (the API is open).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.keys.is_empty()
    }

    /// Refuses an open API on an address other clients could reach.
    pub fn check_exposure(&self, api_listen: SocketAddr) -> anyhow::Result<()> {
        if self.is_empty() && !api_listen.ip().is_loopback() {
            bail!(
                "refusing to serve the management API on {api_listen} without credentials: \
                 anyone who reaches it could send to and close every connection. \
                 Configure --api-token or --api-key (WSGATE_API_TOKEN, WSGATE_API_KEY), \
                 or keep --api-listen on a loopback address"
            );
        }
        Ok(())
    }

    /// Checks the `Authorization` of a request head: 401 when it has none (or
    /// one of an unknown scheme), 403 when its token or signature is not
    /// valid. What passes still has its body checked by [`Authorized`].
    pub fn authenticate(&self, parts: &Parts) -> Result<Authorized, ApiError> {
        if self.is_empty() {
            return Ok(Authorized(None));
        }
        let Some(authorization) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing credentials: send `Authorization: Bearer <token>` or sign the request with AWS SigV4",
            ));
        };
        let authorization = authorization
            .to_str()
            .map_err(|_| ApiError::forbidden("the Authorization header is not text"))?;
        let (scheme, rest) = authorization.split_once(' ').unwrap_or((authorization, ""));
        if scheme.eq_ignore_ascii_case("Bearer") {
            return self.check_token(rest.trim()).map(|()| Authorized(None));
        }
        if scheme == sigv4::SCHEME {
            let head = SignedHead {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                headers: &parts.headers,
            };
            let secret_of = |id: &str| self.keys.get(id).map(String::as_str);
            return sigv4::verify_head(
                &head,
                rest,
                &self.region,
                secret_of,
                OffsetDateTime::now_utc(),
            )
            .map(|pending| Authorized(Some(pending)))
            .map_err(forbidden);
        }
        Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme `{scheme}`: use Bearer or {}",
            sigv4::SCHEME
        )))
    }

    fn check_token(&self, presented: &str) -> Result<(), ApiError> {
        // Compare with every token, in constant time each.
        let matches = self.tokens.iter().fold(false, |found, token| {
            found | bool::from(token.as_bytes().ct_eq(presented.as_bytes()))
        });
        match matches {
            true => Ok(()),
            false => Err(ApiError::forbidden("the bearer token is not valid")),
        }
    }
}

/// A request whose head passed authentication; a SigV4 signature still
/// checks the body.
#[derive(Debug)]
#[must_use = "a signed request is authenticated only once its body is verified"]
pub struct Authorized(Option<PendingSignature>);

impl Authorized {
    /// Checks `body` against the request's signature, if it was signed: 403
    /// when it is not the body that was signed.
    pub fn verify_body(&self, body: &[u8]) -> Result<(), ApiError> {
        match &self.0 {
            Some(signature) => signature.verify_body(body).map_err(forbidden),
            None => Ok(()),
        }
    }
}

fn forbidden(error: sigv4::SignatureError) -> ApiError {
    ApiError::forbidden(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut request = http::Request::post("/@connections/x");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn credentials(tokens: &[&str], keys: &[&str]) -> anyhow::Result<Credentials> {
        let owned = |values: &[&str]| values.iter().map(|value| value.to_string()).collect();
        Credentials::new(owned(tokens), owned(keys), "us-east-1".into())
    }

    fn status(credentials: &Credentials, authorization: Option<&str>) -> u16 {
        let verdict = credentials
            .authenticate(&parts(authorization))
            .and_then(|authorized| authorized.verify_body(b""));
        match verdict {
            Ok(()) => 200,
            Err(error) => error.status().as_u16(),
        }
    }

    #[test]
    fn bearer_tokens_are_checked() {
        let bearer = credentials(&["s3cret", "other"], &[]).unwrap();
        assert_eq!(status(&bearer, None), 401);
        assert_eq!(status(&bearer, Some("Bearer s3cret")), 200);
        assert_eq!(status(&bearer, Some("bearer other")), 200);
        assert_eq!(status(&bearer, Some("Bearer s3cre")), 403);
        assert_eq!(status(&bearer, Some("Basic czNjcmV0")), 401);
        assert_eq!(status(&bearer, Some("AWS4-HMAC-SHA256 nonsense")), 403);
        assert_eq!(status(&credentials(&[], &[]).unwrap(), None), 200);
    }

    #[test]
    fn an_open_api_stays_on_loopback() {
        let open = credentials(&[], &[]).unwrap();
        assert!(
            open.check_exposure("127.0.0.1:8081".parse().unwrap())
                .is_ok()
        );
        assert!(open.check_exposure("[::1]:8081".parse().unwrap()).is_ok());
        let exposed = open.check_exposure("0.0.0.0:8081".parse().unwrap());
        assert!(
            exposed
                .unwrap_err()
                .to_string()
                .contains("without credentials")
        );
        let keyed = credentials(&[], &["AKID:secret"]).unwrap();
        assert!(
            keyed
                .check_exposure("0.0.0.0:8081".parse().unwrap())
                .is_ok()
        );
        assert!(credentials(&[], &["no-colon"]).is_err());
        assert!(format!("{keyed:?}").contains("AKID") && !format!("{keyed:?}").contains("secret"));
    }
}
