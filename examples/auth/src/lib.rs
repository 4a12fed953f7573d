//! JWT authorization for a wsgate API, the self-hosted equivalent of an API
//! Gateway Lambda authorizer.
//!
//! `$connect` verifies a JSON Web Token taken from the `Authorization: Bearer`
//! header or, for browsers (which cannot set headers on a WebSocket), the
//! `token` query parameter. A missing, malformed, expired or badly signed token
//! rejects the upgrade with 401, a `WWW-Authenticate: Bearer` header and a
//! JSON body that says why. A valid token's
//! claims become the connection's context (`sub`, `roles`, comma-separated),
//! which every later event of the connection carries: the message routes
//! below authorize by it without looking at the token again.
//!
//! Keys come from the route's configuration (`wsgate.toml`):
//! - `jwt_secret`: the shared secret for HS256 tokens;
//! - `jwt_public_key`: a PEM RSA public key for RS256 tokens;
//! - `jwt_issuer`, `jwt_audience` (optional): required `iss` and `aud`;
//! - `jwt_leeway` (optional): seconds of clock skew allowed, default 30.
//!
//! A token is checked only with the key of its own algorithm, so an HS256
//! token is never verified with the RSA public key as its secret.
//!
//! Message routes:
//! - `whoami`: answers `{"sub":…,"roles":[…]}` from the connection context.
//! - `announce` `{"text":…}`: sends `text` to every connection; needs the
//!   role `admin`: anyone else gets a `forbidden` error frame saying so, and
//!   a message without `text` a `bad-request` one.

mod token;

use serde::Deserialize;
use serde_json::json;
use wsgate_sdk::{
    Accept, ConnectRequest, Error, Handler, Message, Payload, Reject, RequestContext, Routes,
    groups,
};

use token::Keys;

/// The role `announce` needs.
const ADMIN: &str = "admin";

struct Auth;

impl Handler for Auth {
    const ROUTES: Routes = &[("whoami", Auth::whoami), ("announce", Auth::announce)];

    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        // A configuration mistake is the operator's: logged, and the client
        // gets a bare 500.
        let keys =
            Keys::from_config().map_err(|error| Error::internal(format!("auth: {error}")))?;
        let claims = bearer_token(request)
            .ok_or("no token: send `Authorization: Bearer <jwt>` or `?token=<jwt>`".to_owned())
            .and_then(|token| keys.verify(token))
            .map_err(unauthorized)?;
        println!(
            "auth: {} connected as {} with roles [{}]",
            ctx.connection_id(),
            claims.sub,
            claims.roles.join(",")
        );
        Ok(Accept::new()
            .context("sub", claims.sub)
            .context("roles", claims.roles.join(",")))
    }
}

impl Auth {
    /// `whoami`: the claims `$connect` attached.
    fn whoami(ctx: &RequestContext, _message: Message) -> Result<Option<Payload>, Error> {
        let answer = json!({ "sub": ctx.get("sub"), "roles": roles(ctx) });
        Ok(Some(answer.to_string().into()))
    }

    /// `announce`: `text` to every connection, for admins only.
    fn announce(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        if !roles(ctx).contains(&ADMIN) {
            return Err(Error::forbidden(format!(
                "announce needs the role `{ADMIN}`"
            )));
        }
        let Announce { text } = message.json().map_err(Error::bad_request)?;
        groups::broadcast(text, None)?;
        Ok(Some(json!({ "announced": true }).to_string().into()))
    }
}

#[derive(Deserialize)]
struct Announce {
    text: String,
}

/// The token from `Authorization: Bearer …`, else from `?token=…`.
fn bearer_token(request: &ConnectRequest) -> Option<&str> {
    let from_header = request.header("authorization").and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    from_header
        .or_else(|| request.query("token"))
        .filter(|token| !token.is_empty())
}

/// The connection's roles, from the context `$connect` attached.
fn roles(context: &RequestContext) -> Vec<&str> {
    context
        .get("roles")
        .map(|roles| roles.split(',').filter(|role| !role.is_empty()).collect())
        .unwrap_or_default()
}

/// 401, with the challenge RFC 6750 describes for a bad bearer token.
fn unauthorized(reason: String) -> Reject {
    Reject::new(
        401,
        json!({ "message": "Unauthorized", "reason": reason }).to_string(),
    )
    .header("www-authenticate", r#"Bearer error="invalid_token""#)
    .header("content-type", "application/json")
}

wsgate_sdk::export!(Auth);

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::{Value, json};
    use wsgate_sdk::testing::{Connect, Context, Gateway};
    use wsgate_sdk::{ErrorKind, Payload};

    use super::Auth;

    const SECRET: &str = "a test secret";

    /// An HS256 token of `sub` with `roles`, valid for an hour.
    fn token(secret: &str, sub: &str, roles: &[&str]) -> String {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let claims = json!({ "sub": sub, "roles": roles, "exp": exp });
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn gateway() -> Gateway {
        let gateway = Gateway::new();
        gateway.config("jwt_secret", SECRET);
        gateway
    }

    #[test]
    fn a_valid_token_is_accepted_with_its_claims_as_context() {
        let gateway = gateway();
        let bearer = format!("Bearer {}", token(SECRET, "ann", &["admin", "ops"]));
        let request = Connect::new().header("Authorization", bearer);

        let accept = gateway
            .connect::<Auth>(&Context::connect(), &request)
            .unwrap();

        assert_eq!(
            accept.connection_context(),
            [
                ("sub".into(), "ann".into()),
                ("roles".into(), "admin,ops".into())
            ]
        );
    }

    #[test]
    fn a_missing_token_is_a_401_with_a_bearer_challenge() {
        let gateway = gateway();

        let reject = gateway
            .connect::<Auth>(&Context::connect(), &Connect::new())
            .unwrap_err();

        assert_eq!(reject.status(), 401);
        let challenge = reject
            .headers()
            .iter()
            .find(|(name, _)| name == "www-authenticate");
        assert_eq!(
            challenge.map(|(_, value)| value.as_str()),
            Some(r#"Bearer error="invalid_token""#)
        );
        let body: Value = serde_json::from_str(reject.body().unwrap()).unwrap();
        assert!(body["reason"].as_str().unwrap().starts_with("no token"));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_a_401() {
        let gateway = gateway();
        let request = Connect::new().query("token", token("another secret", "eve", &["admin"]));

        let reject = gateway
            .connect::<Auth>(&Context::connect(), &request)
            .unwrap_err();

        assert_eq!(reject.status(), 401);
        let body: Value = serde_json::from_str(reject.body().unwrap()).unwrap();
        assert_eq!(body["reason"], "invalid signature");
    }

    #[test]
    fn announce_by_a_non_admin_is_forbidden() {
        let gateway = gateway();
        gateway.add_connection("c2");
        let ctx = Context::message("announce")
            .context("sub", "bob")
            .context("roles", "ops");

        let reply = gateway.message::<Auth>(&ctx, r#"{"action":"announce","text":"hi"}"#);

        assert_eq!(reply.unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(gateway.broadcasts().is_empty());
        assert!(gateway.sent_to("c2").is_empty());
    }

    #[test]
    fn announce_by_an_admin_reaches_every_connection() {
        let gateway = gateway();
        gateway.add_connection("c2");
        let ctx = Context::message("announce")
            .connection_id("c1")
            .context("sub", "ann")
            .context("roles", "ops,admin");

        let reply = gateway.message::<Auth>(&ctx, r#"{"action":"announce","text":"hi"}"#);

        assert_eq!(reply, Ok(Some(Payload::from(r#"{"announced":true}"#))));
        assert_eq!(gateway.sent_to("c1"), [Payload::from("hi")]);
        assert_eq!(gateway.sent_to("c2"), [Payload::from("hi")]);
    }
}
