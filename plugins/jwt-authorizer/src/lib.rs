//! JWT authorizer: the self-hosted equivalent of an API Gateway Lambda
//! authorizer, configured in `wsgate.toml` instead of rebuilt for each
//! deployment. Bound to `$connect`, it accepts a connection whose token is
//! valid and puts the claims the configuration names into its connection
//! context, which every later event carries; anything else is refused with
//! 401 and a `WWW-Authenticate: Bearer` challenge (RFC 6750).
//!
//! - The token comes from `Authorization: Bearer`, a query parameter
//!   (`access_token`) or, for browsers, which cannot set headers on a
//!   WebSocket, a subprotocol entry (`bearer.<token>`) offered beside the
//!   application's subprotocol; the handshake answers with the application's
//!   subprotocol, never the token (`token.rs`).
//! - HS256, RS256, ES256 and EdDSA; keys from the configuration or from an
//!   issuer's JWKS URL (`keys.rs`), fetched through `wasi:http` and cached in
//!   the instance's memory by `(issuer, kid)` (`jwks.rs`).
//! - `iss`, `aud`, `exp` and `nbf` are checked, with a clock skew allowance
//!   (`verify.rs`).
//!
//! Every key is described in `settings.rs` and the README.

mod jwks;
mod keys;
mod settings;
mod token;
mod verify;

use serde_json::{Value, json};
use wsgate_sdk::{Accept, ConnectRequest, Error, Handler, Reject, RequestContext, config};

use settings::Settings;
use verify::Refusal;

struct JwtAuthorizer;

impl Handler for JwtAuthorizer {
    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        let settings = Settings::parse(config::all()).map_err(misconfigured)?;
        let verified = token::find(request, &settings)
            .ok_or_else(|| Refusal::Missing(token::how_to_send(&settings)))
            .and_then(|token| verify::verify(token, &settings));
        let claims = match verified {
            Ok(claims) => claims,
            Err(refusal) => {
                let id = ctx.connection_id();
                println!("jwt-authorizer: refused {id}: {}", refusal.reason());
                return Err(reject(refusal));
            }
        };
        let mut accept = Accept::new();
        if let Some(subprotocol) = token::subprotocol(request, &settings) {
            accept = accept.subprotocol(subprotocol);
        }
        for (claim, key) in &settings.claims {
            if let Some(value) = claims.get(claim) {
                accept = accept.context(key, context_value(value));
            }
        }
        println!(
            "jwt-authorizer: accepted {} from {}",
            ctx.connection_id(),
            claims
                .get("iss")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        Ok(accept)
    }
}

/// A claim as a connection context value: a string as it is, a list of
/// strings or numbers joined with commas, anything else as JSON.
fn context_value(value: &Value) -> String {
    let scalar = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        value => scalar(value),
    }
    .unwrap_or_else(|| value.to_string())
}

/// The operator's mistake: the client gets a bare 500, the log says why.
fn misconfigured(reason: String) -> Reject {
    Error::internal(format!("jwt-authorizer: {reason}")).into()
}

/// The answer to a refused connection. A 401 carries the challenge of RFC
/// 6750: without an error code when no token came, `invalid_token` with a
/// description otherwise; its body is `{"message":"Unauthorized","reason":…}`.
fn reject(refusal: Refusal) -> Reject {
    let (challenge, reason) = match refusal {
        Refusal::Missing(reason) => ("Bearer".to_owned(), reason),
        Refusal::Invalid(reason) => (
            format!(
                r#"Bearer error="invalid_token", error_description="{}""#,
                description(&reason)
            ),
            reason,
        ),
        Refusal::Unavailable(reason) => return Error::unavailable(reason).into(),
        Refusal::Misconfigured(reason) => return misconfigured(reason),
    };
    let body = json!({ "message": "Unauthorized", "reason": reason });
    Reject::new(401, body.to_string())
        .header("www-authenticate", challenge)
        .header("content-type", "application/json")
}

/// `reason` as an `error_description`, whose characters RFC 6750 limits to
/// printable ASCII other than `"` and `\`.
fn description(reason: &str) -> String {
    reason
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

wsgate_sdk::export!(JwtAuthorizer);

#[cfg(test)]
mod tests;
