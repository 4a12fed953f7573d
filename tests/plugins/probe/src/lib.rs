//! Probe: the end-to-end tests' route handler, bound to many routes at once.
//! It reports what the gateway hands it and calls the host on command.
//!
//! `$connect` query parameters: `reject=<status>` refuses with that status and
//! the body `rejected by probe`; `welcome=<text>` sends `<text>` to the new
//! connection; `user=<name>` sets the context `user=<name>`; `observe=1` joins
//! the group `observers`; `room=<name>` joins that group; `proto=1` accepts the
//! first offered subprotocol; `sleep=<ms>` takes that long (wall-clock time,
//! not CPU) before it answers, so a client can vanish while it runs.
//!
//! Messages, by route key (the body is the JSON command, `"action"` selects it):
//! - `whoami`: answers the request context as JSON.
//! - `closeme` `{"code":4001,"reason":"bye"}`: closes the caller; no answer.
//! - `sendto` `{"to":id,"data":text}`: sends `data` to `to`; answers `sent` or
//!   the error name (`gone`, `payload-too-large`, `throttled`,
//!   `unavailable`).
//! - `flood` `{"to":id,"size":n,"count":n}`: sends `count` binary messages of
//!   `size` bytes to `to`, stopping at the first error; answers
//!   `{"sent":k,"error":null|name}`.
//! - `reply` `{"size":n}`: answers a text of `n` bytes.
//! - `kick` `{"target":id}`: closes `target` with 4002 `kicked`; no answer.
//! - `roomsend` `{"room":r,"data":text,"excludeSelf":bool}`: sends to a group;
//!   no answer.
//! - `broadcast` `{"data":text}`: sends to every connection; no answer.
//! - `members` `{"room":r,"cursor":null|c,"limit":n}`: answers
//!   `{"ids":[…],"next":c|null}`.
//! - `info` `{"target":id}`: answers the connection's info as JSON, or the
//!   error name.
//! - `config` `{"key":k|null}`: answers `{"value":v|null}` for a key, or
//!   every configuration value as a JSON object when `key` is null.
//! - `fetch` `{"method":m,"url":u,"body":b}`: makes an outbound HTTP request;
//!   answers `{"status":s,"body":text}` or `{"error":kind,"message":text}`
//!   (kind: `denied`, `timeout`, `too-large`, `invalid`, `failed`).
//! - `kv`, `kv2` `{"op":…,"bucket":b,…}`: a key-value store operation (two
//!   route keys, so tests can give two routes different buckets): `get`,
//!   `set` (`key`, `value`), `delete`, `exists`, `keys`, `incr` (`key`,
//!   `delta`), `getmany`/`deletemany` (`keys`), `setmany` (`pairs`); answers
//!   `{"ok":result}` or `{"error":kind,"message":text}` (kind: `no-such-store`,
//!   `access-denied`, `other`).
//! - any other route: a text body is answered with `{"route":…,"body":…}`, a
//!   binary body with the same bytes.
//!
//! `$disconnect` sends the group `observers` a JSON report of the event, and
//! prints `probe $disconnect <id> <code> <initiator>` (the gateway logs it), so
//! tests can count disconnects even when no observer is left to tell.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use wsgate_sdk::http::{HttpError, Request};
use wsgate_sdk::kv::{Bucket, KvError};
use wsgate_sdk::{
    Accept, ConnectRequest, Disconnect, Error, Handler, Message, Payload, Reject, RequestContext,
    close, config, groups, info, send, send_text,
};

const OBSERVERS: &str = "observers";

struct Probe;

#[derive(Deserialize)]
struct CloseMe {
    code: u16,
    reason: String,
}

#[derive(Deserialize)]
struct SendTo {
    to: String,
    data: String,
}

#[derive(Deserialize)]
struct Flood {
    to: String,
    size: usize,
    count: usize,
}

#[derive(Deserialize)]
struct Reply {
    size: usize,
}

#[derive(Deserialize)]
struct Target {
    target: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomSend {
    room: String,
    data: String,
    #[serde(default)]
    exclude_self: bool,
}

#[derive(Deserialize)]
struct Broadcast {
    data: String,
}

#[derive(Deserialize)]
struct ConfigKey {
    key: Option<String>,
}

#[derive(Deserialize)]
struct Fetch {
    method: String,
    url: String,
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
struct KvCommand {
    op: String,
    bucket: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    delta: u64,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    pairs: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Members {
    room: String,
    cursor: Option<String>,
    limit: u32,
}

impl Handler for Probe {
    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        if let Some(ms) = request.query("sleep") {
            std::thread::sleep(std::time::Duration::from_millis(ms.parse()?));
        }
        if let Some(status) = request.query("reject") {
            return Err(Reject::new(status.parse()?, "rejected by probe"));
        }
        let id = ctx.connection_id();
        if let Some(text) = request.query("welcome") {
            send_text(id, text)?;
        }
        if request.query("observe") == Some("1") {
            groups::join(OBSERVERS, id)?;
        }
        if let Some(room) = request.query("room") {
            groups::join(room, id)?;
        }
        let mut accept = Accept::new();
        if let Some(user) = request.query("user") {
            accept = accept.context("user", user);
        }
        if request.query("proto") == Some("1")
            && let Some(first) = request.subprotocols().first()
        {
            accept = accept.subprotocol(first);
        }
        Ok(accept)
    }

    fn on_message(context: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let id = context.connection_id();
        let answer = match context.route_key() {
            "whoami" => whoami(context).to_string(),
            "closeme" => {
                let CloseMe { code, reason } = message.json()?;
                close(id, code, &reason)?;
                return Ok(None);
            }
            "sendto" => {
                let SendTo { to, data } = message.json()?;
                match send(&to, data) {
                    Ok(()) => "sent".to_owned(),
                    Err(error) => error.as_str().to_owned(),
                }
            }
            "flood" => {
                let Flood { to, size, count } = message.json()?;
                let mut sent = 0;
                let mut failure = None;
                while sent < count && failure.is_none() {
                    match send(&to, vec![0u8; size]) {
                        Ok(()) => sent += 1,
                        Err(error) => failure = Some(error.as_str()),
                    }
                }
                json!({ "sent": sent, "error": failure }).to_string()
            }
            "reply" => "x".repeat(message.json::<Reply>()?.size),
            "kick" => {
                let Target { target } = message.json()?;
                close(&target, 4002, "kicked")?;
                return Ok(None);
            }
            "roomsend" => {
                let RoomSend {
                    room,
                    data,
                    exclude_self,
                } = message.json()?;
                groups::send(&room, data, exclude_self.then_some(id))?;
                return Ok(None);
            }
            "broadcast" => {
                let Broadcast { data } = message.json()?;
                groups::broadcast(data, None)?;
                return Ok(None);
            }
            "members" => {
                let Members {
                    room,
                    cursor,
                    limit,
                } = message.json()?;
                let page = groups::members(&room, cursor.as_deref(), limit);
                json!({ "ids": page.ids, "next": page.next_cursor }).to_string()
            }
            "config" => match message.json::<ConfigKey>()?.key {
                Some(key) => json!({ "value": config::get(&key) }).to_string(),
                None => Value::Object(
                    config::all()
                        .into_iter()
                        .map(|(key, value)| (key, value.into()))
                        .collect(),
                )
                .to_string(),
            },
            "kv" | "kv2" => key_value(message.json()?).to_string(),
            "fetch" => {
                let Fetch { method, url, body } = message.json()?;
                fetch(&method, &url, body).to_string()
            }
            "info" => {
                let Target { target } = message.json()?;
                match info(&target) {
                    Ok(info) => json!({
                        "connectionId": info.connection_id(),
                        "connectedAt": info.connected_at(),
                        "lastActiveAt": info.last_active_at(),
                        "sourceIp": info.source_ip(),
                        "userAgent": info.user_agent(),
                        "context": object(info.connection_context()),
                    })
                    .to_string(),
                    Err(error) => error.as_str().to_owned(),
                }
            }
            route => match message.payload() {
                Payload::Text(body) => json!({ "route": route, "body": body }).to_string(),
                Payload::Binary(_) => return Ok(Some(message.into_payload())),
            },
        };
        Ok(Some(answer.into()))
    }

    fn on_disconnect(context: &RequestContext, event: Disconnect) -> Result<(), Error> {
        println!(
            "probe $disconnect {} {} {}",
            context.connection_id(),
            event.code(),
            event.initiator().as_str()
        );
        let report = json!({
            "event": "disconnect",
            "connectionId": context.connection_id(),
            "code": event.code(),
            "reason": event.reason(),
            "initiator": event.initiator().as_str(),
            "context": object(context.connection_context()),
        });
        if let Err(error) = groups::send(OBSERVERS, report.to_string(), None) {
            eprintln!("could not report the disconnect to {OBSERVERS}: {error}");
        }
        Ok(())
    }
}

/// Every field of the request context, under its AWS name.
fn whoami(context: &RequestContext) -> Value {
    json!({
        "routeKey": context.route_key(),
        "eventType": context.event_type().as_str(),
        "connectionId": context.connection_id(),
        "messageId": context.message_id(),
        "requestId": context.request_id(),
        "connectedAt": context.connected_at(),
        "requestTime": context.request_time(),
        "sourceIp": context.source_ip(),
        "userAgent": context.user_agent(),
        "domainName": context.domain_name(),
        "stage": context.stage(),
        "context": object(context.connection_context()),
    })
}

/// Key/value pairs as a JSON object.
fn object(fields: &[(String, String)]) -> Value {
    let map: Map<String, Value> = fields
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().into()))
        .collect();
    map.into()
}

/// Runs one key-value command and reports what came of it.
fn key_value(command: KvCommand) -> Value {
    let run = || -> Result<Value, KvError> {
        let bucket = Bucket::open(&command.bucket)?;
        let text = |value: Option<Vec<u8>>| value.map(|v| String::from_utf8_lossy(&v).into_owned());
        Ok(match command.op.as_str() {
            "get" => json!(text(bucket.get(&command.key)?)),
            "set" => json!(bucket.set(&command.key, &command.value)?),
            "delete" => json!(bucket.delete(&command.key)?),
            "exists" => json!(bucket.exists(&command.key)?),
            "keys" => {
                let mut keys = bucket.keys()?;
                keys.sort();
                json!(keys)
            }
            "incr" => json!(bucket.increment(&command.key, command.delta)?),
            "getmany" => json!(
                bucket
                    .get_many(&command.keys)?
                    .into_iter()
                    .map(text)
                    .collect::<Vec<_>>()
            ),
            "setmany" => {
                let pairs: Vec<(String, Vec<u8>)> = command
                    .pairs
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone().into_bytes()))
                    .collect();
                json!(bucket.set_many(&pairs)?)
            }
            "deletemany" => json!(bucket.delete_many(&command.keys)?),
            other => return Err(KvError::Other(format!("unknown op {other}"))),
        })
    };
    match run() {
        Ok(result) => json!({ "ok": result }),
        Err(error) => {
            let kind = match &error {
                KvError::NoSuchStore => "no-such-store",
                KvError::AccessDenied => "access-denied",
                KvError::Other(_) => "other",
            };
            json!({ "error": kind, "message": error.to_string() })
        }
    }
}

/// Makes one outbound request and reports what came of it.
fn fetch(method: &str, url: &str, body: String) -> Value {
    match Request::new(method, url).body(body).send() {
        Ok(response) => json!({ "status": response.status(), "body": response.text() }),
        Err(error) => {
            let kind = match &error {
                HttpError::Denied { .. } => "denied",
                HttpError::Timeout => "timeout",
                HttpError::TooLarge => "too-large",
                HttpError::InvalidRequest(_) => "invalid",
                HttpError::Failed(_) => "failed",
            };
            json!({ "error": kind, "message": error.to_string() })
        }
    }
}

wsgate_sdk::export!(Probe);
