//! Who may use the management API: bearer tokens and AWS SigV4 access keys
//! from the configuration. With neither configured the API is open, which is
//! why it may then only listen on loopback.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use anyhow::bail;
use http::header;
use http::request::Parts;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::response::ApiError;
use super::sigv4::{self, SignedRequest};

/// The credentials the management API accepts.
#[derive(Clone, Default)]
pub struct Credentials {
    tokens: Vec<String>,
    /// Access key id → secret access key.
    keys: BTreeMap<String, String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("tokens", &self.tokens.len())
            .field("access_key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// Bearer `tokens` and SigV4 `keys`, each `ACCESS_KEY_ID:SECRET_ACCESS_KEY`.
    pub fn new(tokens: Vec<String>, keys: Vec<String>) -> anyhow::Result<Self> {
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

    /// Checks the request's `Authorization`: 401 when it has none (or one of
    /// an unknown scheme), 403 when its token or signature is not valid.
    pub fn authenticate(&self, parts: &Parts, body: &[u8]) -> Result<(), ApiError> {
        if self.is_empty() {
            return Ok(());
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
            return self.check_token(rest.trim());
        }
        if scheme == sigv4::SCHEME {
            let request = SignedRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                headers: &parts.headers,
                body,
            };
            let secret_of = |id: &str| self.keys.get(id).map(String::as_str);
            return sigv4::verify(&request, rest, secret_of, OffsetDateTime::now_utc())
                .map_err(|error| ApiError::forbidden(error.to_string()));
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

    fn status(credentials: &Credentials, authorization: Option<&str>) -> u16 {
        match credentials.authenticate(&parts(authorization), b"") {
            Ok(()) => 200,
            Err(error) => error.status().as_u16(),
        }
    }

    #[test]
    fn bearer_tokens_are_checked() {
        let credentials = Credentials::new(vec!["s3cret".into(), "other".into()], vec![]).unwrap();
        assert_eq!(status(&credentials, None), 401);
        assert_eq!(status(&credentials, Some("Bearer s3cret")), 200);
        assert_eq!(status(&credentials, Some("bearer other")), 200);
        assert_eq!(status(&credentials, Some("Bearer s3cre")), 403);
        assert_eq!(status(&credentials, Some("Basic czNjcmV0")), 401);
        assert_eq!(status(&credentials, Some("AWS4-HMAC-SHA256 nonsense")), 403);
        assert_eq!(status(&Credentials::default(), None), 200);
    }

    #[test]
    fn an_open_api_stays_on_loopback() {
        let open = Credentials::default();
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
        let keyed = Credentials::new(vec![], vec!["AKID:secret".into()]).unwrap();
        assert!(
            keyed
                .check_exposure("0.0.0.0:8081".parse().unwrap())
                .is_ok()
        );
        assert!(Credentials::new(vec![], vec!["no-colon".into()]).is_err());
        assert!(format!("{keyed:?}").contains("AKID") && !format!("{keyed:?}").contains("secret"));
    }
}
