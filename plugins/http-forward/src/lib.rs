//! HTTP forward: the self-hosted equivalent of an API Gateway HTTP proxy
//! integration. Every event of the routes it is bound to is POSTed to a REST
//! backend as the JSON a Lambda proxy integration receives, and the backend's
//! answer decides what happens:
//!
//! - `$connect`: a 2xx accepts the connection, any other status rejects the
//!   upgrade with that status and the backend's body.
//! - a message: the backend's response body, if not empty, is sent back to the
//!   client (a two-way route); a status outside 2xx fails the event, so the
//!   client gets the gateway's `Internal server error` frame and the log says
//!   what the backend answered.
//! - `$disconnect`: the backend is told; its answer is ignored.
//!
//! Configuration (`wsgate.toml`, the route's `config` table or `[config]`):
//! - `backend_url` (required): where events are POSTed.
//! - `backend_authorization` (optional): sent as the `Authorization` header.
//! - `api_id` (optional): the events' `requestContext.apiId` [default: `wsgate`],
//!   so a backend written for one API Gateway API can be told this one.
//!
//! The route must allow the backend's host in `http.allowed_hosts`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use wsgate_sdk::http::{Request, Response};
use wsgate_sdk::{
    Accept, ConnectRequest, Disconnect, Error, Handler, Message, Payload, Reject, RequestContext,
    config,
};

struct HttpForward;

impl Handler for HttpForward {
    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        let mut event = lambda_event(ctx);
        event.insert("headers".into(), pairs(request.headers()));
        event.insert("multiValueHeaders".into(), lists(request.headers()));
        event.insert(
            "queryStringParameters".into(),
            pairs(request.query_parameters()),
        );
        event.insert(
            "multiValueQueryStringParameters".into(),
            lists(request.query_parameters()),
        );
        event.insert("isBase64Encoded".into(), false.into());
        let response = forward(event)?;
        match response.status() {
            200..=299 => Ok(Accept::new()),
            status => Err(Reject::new(status, response.text())),
        }
    }

    fn on_message(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let mut event = lambda_event(ctx);
        let (body, encoded) = match message.payload() {
            Payload::Text(text) => (text.clone(), false),
            Payload::Binary(bytes) => (BASE64.encode(bytes), true),
        };
        event.insert("body".into(), body.into());
        event.insert("isBase64Encoded".into(), encoded.into());
        let response = forward(event)?;
        if !(200..=299).contains(&response.status()) {
            return Err(Error::from(format!(
                "the backend answered {}: {}",
                response.status(),
                response.text()
            )));
        }
        Ok(match response.body() {
            [] => None,
            body => Some(match std::str::from_utf8(body) {
                Ok(text) => Payload::Text(text.to_owned()),
                Err(_) => Payload::Binary(body.to_vec()),
            }),
        })
    }

    fn on_disconnect(ctx: &RequestContext, event: Disconnect) -> Result<(), Error> {
        let mut body = lambda_event(ctx);
        let context = body
            .get_mut("requestContext")
            .and_then(Value::as_object_mut)
            .expect("built above");
        context.insert("disconnectStatusCode".into(), event.code().into());
        context.insert("disconnectReason".into(), event.reason().into());
        // Logged and counted by the gateway: nobody is left to answer.
        forward(body)
            .map_err(|error| Error::internal(format!("$disconnect not delivered: {error}")))?;
        Ok(())
    }
}

/// POSTs `event` to the configured backend.
fn forward(event: Map<String, Value>) -> Result<Response, Error> {
    let url = config::require("backend_url")?;
    let mut request = Request::post(url, Value::Object(event).to_string())
        .header("content-type", "application/json");
    if let Some(authorization) = config::get("backend_authorization") {
        request = request.header("authorization", authorization);
    }
    Ok(request.send()?)
}

/// The fields every event has, named as in a Lambda proxy integration's event.
fn lambda_event(context: &RequestContext) -> Map<String, Value> {
    let event_type = context.event_type().as_str().to_ascii_uppercase();
    let mut request_context = json!({
        "routeKey": context.route_key(),
        "eventType": event_type,
        "connectionId": context.connection_id(),
        "requestId": context.request_id(),
        // API Gateway's own id of the request; this gateway has one id.
        "extendedRequestId": context.request_id(),
        "messageDirection": "IN",
        "apiId": config::get("api_id").unwrap_or_else(|| DEFAULT_API_ID.to_owned()),
        "connectedAt": context.connected_at(),
        "requestTime": clf(context.request_time()),
        "requestTimeEpoch": context.request_time(),
        "identity": { "sourceIp": context.source_ip(), "userAgent": context.user_agent() },
        "domainName": context.domain_name(),
        "stage": context.stage(),
        "authorizer": pairs(context.connection_context()),
    });
    if let Some(message_id) = context.message_id() {
        request_context["messageId"] = message_id.into();
    }
    let mut event = Map::new();
    event.insert("requestContext".into(), request_context);
    event
}

/// The `apiId` of events when the route's configuration names none.
const DEFAULT_API_ID: &str = "wsgate";

/// A time (ms since the Unix epoch) as API Gateway writes `requestTime`:
/// `07/Dec/2026:11:38:42 +0000`.
fn clf(epoch_ms: u64) -> String {
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&format).ok())
        .unwrap_or_default()
}

/// Key/value pairs as a JSON object of lists: every value of a repeated key.
fn lists(fields: &[(String, String)]) -> Value {
    let mut object = Map::new();
    for (key, value) in fields {
        let list = object
            .entry(key.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = list {
            values.push(value.clone().into());
        }
    }
    Value::Object(object)
}

/// Key/value pairs as a JSON object; a repeated key keeps its first value.
fn pairs(fields: &[(String, String)]) -> Value {
    let mut object = Map::new();
    for (key, value) in fields {
        object
            .entry(key.clone())
            .or_insert_with(|| value.clone().into());
    }
    Value::Object(object)
}

wsgate_sdk::export!(HttpForward);
