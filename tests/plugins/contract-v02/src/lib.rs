//! Contract: a route handler for `wsgate:gateway@0.2.0` written on raw
//! `wit-bindgen`, without the SDK, so the tests see exactly what the 0.2.0
//! world gives a guest.
//!
//! `$connect` query parameters:
//! - `fail=<kind>`: fails with that `handler-error` (`bad-request`,
//!   `forbidden`, `too-many-requests`, `unavailable`, `internal`), text
//!   `connect refused: <kind>`;
//! - `reject=<status>`: rejects with that status, the body
//!   `rejected by contract` and the headers `WWW-Authenticate: Bearer
//!   realm="contract"` and `Retry-After: 7`;
//! - `header=<name>`: accepts with the header `<name>: from-handler` on the 101;
//! - `proto=1`: accepts the first offered subprotocol;
//! - `user=<name>`: sets the context `user=<name>`;
//! - `watch=<id>`: at `$disconnect`, sends `<id>` the disconnect as JSON.
//!
//! Every accepted connection's context also holds `request`: what the
//! upgrade request's getters answered, as JSON.
//!
//! Messages (text): `context` answers every request-context getter as JSON;
//! `fail:<kind>` fails with that kind (text `message refused: <kind>`, and
//! `fail:<kind> <n>` adds `n` × `x` to the text);
//! `none` answers nothing; anything else, text or binary, is echoed.

use serde_json::json;

/// The code `wit-bindgen` generates for the `gateway` world of `wit/`.
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "gateway",
    });
}

use bindings::exports::wsgate::gateway::handler::{Accept, ConnectDecision, Guest, Reject};
use bindings::wsgate::gateway::connections;
use bindings::wsgate::gateway::event::{ConnectRequest, RequestContext};
use bindings::wsgate::gateway::types::{CloseInitiator, DisconnectInfo, HandlerError, Payload};

struct Contract;

impl Guest for Contract {
    fn on_connect(
        _ctx: &RequestContext,
        request: &ConnectRequest,
    ) -> Result<ConnectDecision, HandlerError> {
        if let Some(kind) = request.query_param("fail") {
            return Err(error(&kind, format!("connect refused: {kind}")));
        }
        if let Some(status) = request.query_param("reject") {
            return Ok(ConnectDecision::Reject(Reject {
                status: status.parse().unwrap_or(400),
                headers: vec![
                    (
                        "WWW-Authenticate".into(),
                        "Bearer realm=\"contract\"".into(),
                    ),
                    ("Retry-After".into(), "7".into()),
                ],
                body: "rejected by contract".into(),
            }));
        }
        let headers = request
            .query_param("header")
            .map(|name| vec![(name, "from-handler".to_owned())])
            .unwrap_or_default();
        let subprotocol = match request.query_param("proto") {
            Some(_) => request.offered_subprotocols().into_iter().next(),
            None => None,
        };
        let seen = json!({
            "method": request.method(),
            "path": request.path(),
            "host": request.header("HOST"),
            "missingHeader": request.header("x-not-sent"),
            "headerCount": request.headers().len(),
            "queryParams": request.query_params(),
            "missingParam": request.query_param("not-sent"),
            "offered": request.offered_subprotocols(),
        });
        let mut context = vec![("request".to_owned(), seen.to_string())];
        for key in ["user", "watch"] {
            if let Some(value) = request.query_param(key) {
                context.push((key.to_owned(), value));
            }
        }
        Ok(ConnectDecision::Accept(Accept {
            subprotocol,
            connection_context: context,
            headers,
        }))
    }

    fn on_message(ctx: &RequestContext, payload: Payload) -> Result<Option<Payload>, HandlerError> {
        let Payload::Text(text) = &payload else {
            return Ok(Some(payload));
        };
        if let Some(command) = text.strip_prefix("fail:") {
            let (kind, padding) = command.split_once(' ').unwrap_or((command, "0"));
            let padding = "x".repeat(padding.parse().unwrap_or(0));
            return Err(error(kind, format!("message refused: {kind}{padding}")));
        }
        match text.as_str() {
            "context" => Ok(Some(Payload::Text(context(ctx).to_string()))),
            "none" => Ok(None),
            _ => Ok(Some(payload)),
        }
    }

    fn on_disconnect(ctx: &RequestContext, info: DisconnectInfo) -> Result<(), HandlerError> {
        if let Some(watcher) = ctx.connection_context_value("watch") {
            let report = json!({
                "connectionId": ctx.connection_id(),
                "routeKey": ctx.route_key(),
                "code": info.code,
                "reason": info.reason,
                "initiator": initiator(info.initiator),
            });
            let _ = connections::send(&watcher, &Payload::Text(report.to_string()));
        }
        Ok(())
    }
}

/// Every getter of the request context.
fn context(ctx: &RequestContext) -> serde_json::Value {
    json!({
        "routeKey": ctx.route_key(),
        "connectionId": ctx.connection_id(),
        "requestId": ctx.request_id(),
        "messageId": ctx.message_id(),
        "connectedAt": ctx.connected_at(),
        "requestTimeEpoch": ctx.request_time_epoch(),
        "sourceIp": ctx.source_ip(),
        "userAgent": ctx.user_agent(),
        "domainName": ctx.domain_name(),
        "stage": ctx.stage(),
        "user": ctx.connection_context_value("user"),
        "missing": ctx.connection_context_value("not-set"),
        "connectionContext": ctx.connection_context(),
    })
}

/// The `handler-error` of a kind's name; an unknown name is `internal`.
fn error(kind: &str, message: String) -> HandlerError {
    match kind {
        "bad-request" => HandlerError::BadRequest(message),
        "forbidden" => HandlerError::Forbidden(message),
        "too-many-requests" => HandlerError::TooManyRequests(message),
        "unavailable" => HandlerError::Unavailable(message),
        _ => HandlerError::Internal(message),
    }
}

fn initiator(initiator: CloseInitiator) -> &'static str {
    match initiator {
        CloseInitiator::Client => "client",
        CloseInitiator::Handler => "handler",
        CloseInitiator::Api => "api",
        CloseInitiator::Server => "server",
        CloseInitiator::IdleTimeout => "idle-timeout",
        CloseInitiator::PingTimeout => "ping-timeout",
        CloseInitiator::MaxDuration => "max-duration",
        CloseInitiator::Shutdown => "shutdown",
    }
}

bindings::export!(Contract with_types_in bindings);
