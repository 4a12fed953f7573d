// Chat in JavaScript: the four routes of the Rust chat example
// (examples/chat), as an ES module that `jco componentize` makes a component
// of the `route-handler` world (wit/, wsgate:gateway@0.2.0).
//
// - `$connect` (`ws://host/?room=lobby&name=ann`) joins the room (default
//   `lobby`), keeps room and name in the connection context and welcomes the
//   newcomer;
// - `sendmessage` (`{"action":"sendmessage","data":"hello"}`) sends `data` to
//   everyone in the room, sender included;
// - `members` (`{"action":"members"}`) answers the names of everyone in the
//   room, as a JSON list;
// - `$disconnect` tells the room who left.
//
// Like the DynamoDB table of the classic chat, the members' names live in the
// gateway's key-value store (bucket `chat`, key `ROOM/CONNECTION-ID`), so every
// gateway of a cluster sees them.
//
// The event's context and the upgrade request are objects whose methods ask
// the gateway (`ctx.connectionId()`): a field nobody reads costs nothing. An
// import's `result` error comes back as a thrown exception; a handler's error
// is thrown as a `handler-error`, `{ tag: "bad-request", val: "…" }`.

import { send } from "wsgate:gateway/connections@0.2.0";
import * as groups from "wsgate:gateway/groups@0.2.0";
import { open } from "wasi:keyvalue/store@0.2.0-draft";
import { getMany } from "wasi:keyvalue/batch@0.2.0-draft";

const LOBBY = "lobby";
const MEMBERS = "chat";

// The `handler` interface: one method per kind of event.
export const handler = {
  onConnect(ctx, request) {
    const id = ctx.connectionId();
    const room = request.queryParam("room") ?? LOBBY;
    const name = request.queryParam("name");
    guarded(() => groups.join(room, id));
    guarded(() => open(MEMBERS).set(memberKey(room, id), encode(name ?? id)));
    // Queued now, delivered right after the handshake.
    guarded(() => send(id, text(`welcome to ${room}, ${name ?? id}`)));
    const kept = name === undefined ? [["room", room]] : [["room", room], ["name", name]];
    return { tag: "accept", val: { subprotocol: undefined, connectionContext: kept, headers: [] } };
  },

  onMessage(ctx, payload) {
    switch (ctx.routeKey()) {
      case "members":
        return text(JSON.stringify(guarded(() => members(roomOf(ctx)))));
      default:
        return sendMessage(ctx, payload);
    }
  },

  onDisconnect(ctx, info) {
    const id = ctx.connectionId();
    const who = ctx.connectionContextValue("name") ?? id;
    const room = roomOf(ctx);
    // Nobody to answer to any more: a failure is only logged, and the room
    // is told even if the name could not be forgotten.
    try {
      open(MEMBERS).delete(memberKey(room, id));
    } catch (error) {
      console.error(`could not forget ${who} in ${room}: ${describe(error)}`);
    }
    guarded(() => groups.send(room, text(`${who} left ${room}`), undefined));
  },
};

// `sendmessage`: `data` to everyone in the room, the sender too.
function sendMessage(ctx, payload) {
  const data = payload.tag === "text" ? parse(payload.val).data : undefined;
  if (typeof data !== "string") {
    // The sender gets this text in an error frame and stays connected.
    throw { tag: "bad-request", val: 'send {"action":"sendmessage","data":"…"}' };
  }
  guarded(() => groups.send(roomOf(ctx), text(data), undefined));
  // No route response: the sender gets its own message through the room.
  return undefined;
}

// The names of the room's members, sorted.
function members(room) {
  const bucket = open(MEMBERS);
  const prefix = memberKey(room, "");
  const keys = [];
  let cursor;
  do {
    const page = bucket.listKeys(cursor);
    keys.push(...page.keys.filter((key) => key.startsWith(prefix)));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return getMany(bucket, keys)
    .filter((found) => found !== undefined)
    .map(([, name]) => new TextDecoder().decode(name))
    .sort();
}

// Runs a call to the gateway; its failure (`gone`, `throttled`,
// `access-denied`…) fails the event as `internal`: logged, and the client
// gets "Internal server error". Anything thrown that is not a
// `handler-error` would trap instead, its text lost.
function guarded(call) {
  try {
    return call();
  } catch (error) {
    throw { tag: "internal", val: describe(error) };
  }
}

// An import's error in words: its payload is a string (`"gone"`) or a
// variant (`{ tag: "other", val: "why" }`).
function describe(error) {
  const payload = error.payload ?? error;
  if (payload.tag === undefined) {
    return String(payload);
  }
  return payload.val === undefined ? payload.tag : `${payload.tag}: ${payload.val}`;
}

function memberKey(room, id) {
  return `${room}/${id}`;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

function roomOf(ctx) {
  return ctx.connectionContextValue("room") ?? LOBBY;
}

function encode(value) {
  return new TextEncoder().encode(value);
}

function text(val) {
  return { tag: "text", val };
}
