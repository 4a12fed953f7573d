//! Chat: the classic API Gateway WebSocket chat, with rooms.
//!
//! - `$connect` (`ws://host/?room=lobby&name=ann`) joins the room (default
//!   `lobby`), remembers room and name in the connection context and welcomes
//!   the newcomer.
//! - `sendmessage` (`{"action":"sendmessage","data":"hello"}`) sends `data` to
//!   everyone in the room, sender included.
//! - `members` (`{"action":"members"}`) answers the names of everyone in the
//!   room, as a JSON list.
//! - `$disconnect` tells the room who left.
//!
//! Like the DynamoDB table of the classic chat, the members' names live in the
//! gateway's key-value store (bucket `chat`, key `ROOM/CONNECTION-ID`), so every
//! gateway of a cluster sees them.

use serde::Deserialize;
use wsgate_sdk::kv::Bucket;
use wsgate_sdk::{
    Accept, ConnectRequest, Disconnect, Error, Handler, Message, Payload, Reject, RequestContext,
    Routes, groups, send_text,
};

const LOBBY: &str = "lobby";
const MEMBERS: &str = "chat";

struct Chat;

#[derive(Deserialize)]
struct SendMessage {
    data: String,
}

impl Handler for Chat {
    const ROUTES: Routes = &[
        ("sendmessage", Chat::send_message),
        ("members", Chat::members),
    ];

    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        let id = ctx.connection_id();
        let room = request.query("room").unwrap_or(LOBBY);
        let name = request.query("name");
        groups::join(room, id)?;
        Bucket::open(MEMBERS)?.set(&member_key(room, id), name.unwrap_or(id))?;
        // Queued now, delivered right after the handshake.
        send_text(id, format!("welcome to {room}, {}", name.unwrap_or(id)))?;
        let accept = Accept::new().context("room", room);
        Ok(match name {
            Some(name) => accept.context("name", name),
            None => accept,
        })
    }

    fn on_disconnect(ctx: &RequestContext, _end: Disconnect) -> Result<(), Error> {
        let who = ctx.get("name").unwrap_or(ctx.connection_id());
        let room = room(ctx);
        // Nobody to answer to any more: a failure is only logged, and the
        // room is told even if the name could not be forgotten.
        let forget = Bucket::open(MEMBERS)
            .and_then(|members| members.delete(&member_key(room, ctx.connection_id())));
        if let Err(error) = forget {
            eprintln!("could not forget {who} in {room}: {error}");
        }
        groups::send(room, format!("{who} left {room}"), None)?;
        Ok(())
    }
}

impl Chat {
    /// `sendmessage`: `data` to everyone in the room, the sender too.
    fn send_message(ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let SendMessage { data } = message.json().map_err(Error::bad_request)?;
        groups::send(room(ctx), data, None)?;
        Ok(None)
    }

    /// `members`: the names of everyone in the room, as a JSON list.
    fn members(ctx: &RequestContext, _message: Message) -> Result<Option<Payload>, Error> {
        let names = members(room(ctx))?;
        Ok(Some(serde_json::to_string(&names)?.into()))
    }
}

fn member_key(room: &str, id: &str) -> String {
    format!("{room}/{id}")
}

/// The names of the room's members, sorted.
fn members(room: &str) -> Result<Vec<String>, Error> {
    let bucket = Bucket::open(MEMBERS)?;
    let prefix = member_key(room, "");
    let keys: Vec<String> = bucket
        .keys()?
        .into_iter()
        .filter(|key| key.starts_with(&prefix))
        .collect();
    let mut names: Vec<String> = bucket
        .get_many(&keys)?
        .into_iter()
        .flatten()
        .map(|name| String::from_utf8_lossy(&name).into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn room(context: &RequestContext) -> &str {
    context.get("room").unwrap_or(LOBBY)
}

wsgate_sdk::export!(Chat);
