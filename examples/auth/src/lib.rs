//! The message routes of the auth example, which authorize by the claims
//! the JWT authorizer (`plugins/jwt-authorizer`, bound to `$connect` in
//! `plugins/wsgate.toml`) put into the connection context: they never see
//! the token.
//!
//! - `whoami`: answers `{"sub":…,"roles":[…]}` from the connection context.
//! - `announce` `{"text":…}`: sends `text` to every connection; needs the
//!   role `admin`: anyone else gets a `forbidden` error frame saying so, and
//!   a message without `text` a `bad-request` one.

use serde::Deserialize;
use serde_json::json;
use wsgate_sdk::{Error, Handler, Message, Payload, RequestContext, Routes, groups};

/// The role `announce` needs.
const ADMIN: &str = "admin";

struct Auth;

impl Handler for Auth {
    const ROUTES: Routes = &[("whoami", Auth::whoami), ("announce", Auth::announce)];
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

/// The connection's roles, from the context `$connect` attached.
fn roles(context: &RequestContext) -> Vec<&str> {
    context
        .get("roles")
        .map(|roles| roles.split(',').filter(|role| !role.is_empty()).collect())
        .unwrap_or_default()
}

wsgate_sdk::export!(Auth);

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wsgate_sdk::testing::{Context, Gateway};
    use wsgate_sdk::{ErrorKind, Payload};

    use super::Auth;

    #[test]
    fn whoami_answers_the_claims_of_the_connection_context() {
        let gateway = Gateway::new();
        let ctx = Context::message("whoami")
            .context("sub", "ann")
            .context("roles", "admin,ops");

        let reply = gateway.message::<Auth>(&ctx, r#"{"action":"whoami"}"#);

        let expected = json!({"sub": "ann", "roles": ["admin", "ops"]}).to_string();
        assert_eq!(reply, Ok(Some(Payload::from(expected))));
    }

    #[test]
    fn announce_by_a_non_admin_is_forbidden() {
        let gateway = Gateway::new();
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
        let gateway = Gateway::new();
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
