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
    groups, send_text,
};

const LOBBY: &str = "lobby";
const MEMBERS: &str = "chat";

struct Chat;

#[derive(Deserialize)]
struct SendMessage {
    data: String,
}

impl Handler for Chat {
    fn on_connect(request: ConnectRequest) -> Result<Accept, Reject> {
        let id = request.context().connection_id();
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

    fn on_message(message: Message) -> Result<Option<Payload>, Error> {
        let room = room(message.context());
        if message.context().route_key() == "members" {
            return Ok(Some(serde_json::to_string(&members(room)?)?.into()));
        }
        let SendMessage { data } = message.json()?;
        groups::send(room, data, None)?;
        Ok(None)
    }

    fn on_disconnect(event: Disconnect) {
        let context = event.context();
        let who = context.get("name").unwrap_or(context.connection_id());
        let room = room(context);
        // Nobody to answer to any more: a failure can only be logged.
        let forget = Bucket::open(MEMBERS)
            .and_then(|members| members.delete(&member_key(room, context.connection_id())));
        if let Err(error) = forget {
            eprintln!("could not forget {who} in {room}: {error}");
        }
        if let Err(error) = groups::send(room, format!("{who} left {room}"), None) {
            eprintln!("could not tell {room} that {who} left: {error}");
        }
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
