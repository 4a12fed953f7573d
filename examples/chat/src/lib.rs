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

#[cfg(test)]
mod tests {
    use wsgate_sdk::testing::{Connect, Context, Gateway};
    use wsgate_sdk::{Disconnect, ErrorKind, Initiator, Payload};

    use super::Chat;

    #[test]
    fn connect_joins_the_room_remembers_the_name_and_welcomes() {
        let gateway = Gateway::new();
        let ctx = Context::connect().connection_id("c1");
        let request = Connect::new().query("room", "hall").query("name", "ann");

        let accept = gateway.connect::<Chat>(&ctx, &request).unwrap();

        assert_eq!(
            accept.connection_context(),
            [
                ("room".into(), "hall".into()),
                ("name".into(), "ann".into())
            ]
        );
        assert_eq!(gateway.members("hall"), ["c1"]);
        assert_eq!(gateway.kv_get("chat", "hall/c1"), Some(b"ann".to_vec()));
        assert_eq!(
            gateway.sent_to("c1"),
            [Payload::from("welcome to hall, ann")]
        );
    }

    #[test]
    fn sendmessage_reaches_the_room_and_answers_nothing() {
        let gateway = Gateway::new();
        gateway.add_member("lobby", "c1");
        gateway.add_member("lobby", "c2");
        let ctx = Context::message("sendmessage")
            .connection_id("c1")
            .context("room", "lobby");

        let reply = gateway.message::<Chat>(&ctx, r#"{"action":"sendmessage","data":"hi"}"#);

        assert_eq!(reply, Ok(None));
        assert_eq!(
            gateway.group_sends(),
            [("lobby".into(), Payload::from("hi"), None)]
        );
        assert_eq!(gateway.sent_to("c1"), [Payload::from("hi")]);
        assert_eq!(gateway.sent_to("c2"), [Payload::from("hi")]);
    }

    #[test]
    fn a_sendmessage_without_data_is_a_bad_request() {
        let gateway = Gateway::new();
        let ctx = Context::message("sendmessage").connection_id("c1");

        let reply = gateway.message::<Chat>(&ctx, r#"{"action":"sendmessage"}"#);

        assert_eq!(reply.unwrap_err().kind(), ErrorKind::BadRequest);
        assert!(gateway.group_sends().is_empty());
    }

    #[test]
    fn members_answers_the_names_of_the_room_from_kv() {
        let gateway = Gateway::new();
        gateway.kv_set("chat", "lobby/c2", "bob");
        gateway.kv_set("chat", "lobby/c1", "ann");
        gateway.kv_set("chat", "hall/c3", "cy");
        let ctx = Context::message("members")
            .connection_id("c1")
            .context("room", "lobby");

        let reply = gateway.message::<Chat>(&ctx, r#"{"action":"members"}"#);

        assert_eq!(reply, Ok(Some(Payload::from(r#"["ann","bob"]"#))));
    }

    #[test]
    fn disconnect_forgets_the_member_and_tells_the_room() {
        let gateway = Gateway::new();
        gateway.add_member("lobby", "c1");
        gateway.add_member("lobby", "c2");
        gateway.kv_set("chat", "lobby/c1", "ann");
        gateway.kv_set("chat", "lobby/c2", "bob");
        let ctx = Context::disconnect()
            .connection_id("c1")
            .context("room", "lobby")
            .context("name", "ann");

        let end = gateway.disconnect::<Chat>(&ctx, Disconnect::new(1000, "", Initiator::Client));

        assert_eq!(end, Ok(()));
        assert_eq!(gateway.kv_get("chat", "lobby/c1"), None);
        assert_eq!(gateway.kv_get("chat", "lobby/c2"), Some(b"bob".to_vec()));
        assert_eq!(gateway.sent_to("c2"), [Payload::from("ann left lobby")]);
        assert!(gateway.sent_to("c1").is_empty());
    }
}
