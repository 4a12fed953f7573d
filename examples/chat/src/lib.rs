//! Chat: the classic API Gateway WebSocket chat, with rooms.
//!
//! - `$connect` (`ws://host/?room=lobby&name=ann`) joins the room (default
//!   `lobby`), remembers room and name in the connection context and welcomes
//!   the newcomer.
//! - `sendmessage` (`{"action":"sendmessage","data":"hello"}`) sends `data` to
//!   everyone in the room, sender included.
//! - `$disconnect` tells the room who left.

use serde::Deserialize;
use wsgate_sdk::{
    Accept, ConnectRequest, Disconnect, Error, Handler, Message, Payload, Reject, RequestContext,
    groups, send_text,
};

const LOBBY: &str = "lobby";

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
        // Queued now, delivered right after the handshake.
        send_text(id, format!("welcome to {room}, {}", name.unwrap_or(id)))?;
        let accept = Accept::new().context("room", room);
        Ok(match name {
            Some(name) => accept.context("name", name),
            None => accept,
        })
    }

    fn on_message(message: Message) -> Result<Option<Payload>, Error> {
        let SendMessage { data } = message.json()?;
        groups::send(room(message.context()), data, None)?;
        Ok(None)
    }

    fn on_disconnect(event: Disconnect) {
        let context = event.context();
        let who = context.get("name").unwrap_or(context.connection_id());
        let room = room(context);
        // Nobody to answer to any more: a failure can only be logged.
        if let Err(error) = groups::send(room, format!("{who} left {room}"), None) {
            eprintln!("could not tell {room} that {who} left: {error}");
        }
    }
}

fn room(context: &RequestContext) -> &str {
    context.get("room").unwrap_or(LOBBY)
}

wsgate_sdk::export!(Chat);
