// Chat in JavaScript: the three routes of the Rust chat example
// (examples/chat), as an ES module that `jco componentize` makes a component.
//
// - `$connect` (`ws://host/?room=lobby&name=ann`) joins the room (default
//   `lobby`), keeps room and name in the connection context and welcomes the
//   newcomer;
// - `sendmessage` (`{"action":"sendmessage","data":"hello"}`) sends `data` to
//   everyone in the room, sender included;
// - `$disconnect` tells the room who left.
//
// Imports are the world's interfaces; a `result` error comes back as a thrown
// exception.

import { send } from "wsgate:gateway/connections@0.1.0";
import * as groups from "wsgate:gateway/groups@0.1.0";

const LOBBY = "lobby";

// The `handler` interface of the `gateway` world.
export const handler = {
  handle({ context, kind }) {
    try {
      switch (kind.tag) {
        case "connect":
          return connect(context, kind.val);
        case "message":
          return message(context, kind.val);
        case "disconnect":
          return disconnect(context);
      }
    } catch (error) {
      // A thrown string is the `err` of handle's result: this event fails
      // (the sender gets an Internal server error frame) and the message is
      // logged. Anything else thrown would trap, its message lost.
      throw String(error);
    }
  },
};

function connect(context, request) {
  const id = context.connectionId;
  const query = new Map(request.query);
  const room = query.get("room") ?? LOBBY;
  const name = query.get("name");
  groups.join(room, id);
  // Queued now, delivered right after the handshake.
  send(id, text(`welcome to ${room}, ${name ?? id}`));
  const kept = name === undefined ? [["room", room]] : [["room", room], ["name", name]];
  return reply(kept);
}

function message(context, payload) {
  const { data } = JSON.parse(payload.val);
  if (typeof data !== "string") {
    throw new TypeError("sendmessage needs a string `data`");
  }
  groups.send(roomOf(context), text(data), undefined);
  return reply();
}

function disconnect(context) {
  const who = new Map(context.context).get("name") ?? context.connectionId;
  const room = roomOf(context);
  // Nobody to answer to any more: a failure can only be logged.
  try {
    groups.send(room, text(`${who} left ${room}`), undefined);
  } catch (error) {
    console.error(`could not tell ${room} that ${who} left: ${error.payload ?? error}`);
  }
  return reply();
}

function roomOf(context) {
  return new Map(context.context).get("room") ?? LOBBY;
}

function text(val) {
  return { tag: "text", val };
}

// A 200 (accepting a `$connect`) with no route response.
function reply(connectionContext = []) {
  return { status: 200, body: undefined, subprotocol: undefined, context: connectionContext };
}
