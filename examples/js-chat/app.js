// Chat in JavaScript: the three routes of the Rust chat example
// (examples/chat), as an ES module that `jco componentize` makes a component
// of the `gateway` world (wit/, wsgate:gateway@0.2.0).
//
// - `$connect` (`ws://host/?room=lobby&name=ann`) joins the room (default
//   `lobby`), keeps room and name in the connection context and welcomes the
//   newcomer;
// - `sendmessage` (`{"action":"sendmessage","data":"hello"}`) sends `data` to
//   everyone in the room, sender included;
// - `$disconnect` tells the room who left.
//
// The event's context and the upgrade request are objects whose methods ask
// the gateway (`ctx.connectionId()`): a field nobody reads costs nothing. An
// import's `result` error comes back as a thrown exception; a handler's error
// is thrown as a `handler-error`, `{ tag: "bad-request", val: "…" }`.

import { send } from "wsgate:gateway/connections@0.2.0";
import * as groups from "wsgate:gateway/groups@0.2.0";

const LOBBY = "lobby";

// The `handler` interface: one method per kind of event.
export const handler = {
  onConnect(ctx, request) {
    const id = ctx.connectionId();
    const room = request.queryParam("room") ?? LOBBY;
    const name = request.queryParam("name");
    guarded(() => groups.join(room, id));
    // Queued now, delivered right after the handshake.
    guarded(() => send(id, text(`welcome to ${room}, ${name ?? id}`)));
    const kept = name === undefined ? [["room", room]] : [["room", room], ["name", name]];
    return { tag: "accept", val: { subprotocol: undefined, connectionContext: kept, headers: [] } };
  },

  onMessage(ctx, payload) {
    const data = payload.tag === "text" ? parse(payload.val).data : undefined;
    if (typeof data !== "string") {
      // The sender gets this text in an error frame and stays connected.
      throw { tag: "bad-request", val: 'send {"action":"sendmessage","data":"…"}' };
    }
    guarded(() => groups.send(roomOf(ctx), text(data), undefined));
    // No route response: the sender gets its own message through the room.
    return undefined;
  },

  onDisconnect(ctx, info) {
    const who = ctx.connectionContextValue("name") ?? ctx.connectionId();
    const room = roomOf(ctx);
    // Nobody to answer to any more: a failure is logged and counted.
    guarded(() => groups.send(room, text(`${who} left ${room}`), undefined));
  },
};

// Runs a call to the gateway; its failure (`gone`, `throttled`,
// `unavailable`…) fails the event as `internal`: logged, and the client gets
// "Internal server error". Anything thrown that is not a `handler-error`
// would trap instead, its text lost.
function guarded(call) {
  try {
    return call();
  } catch (error) {
    throw { tag: "internal", val: String(error.payload ?? error) };
  }
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

function text(val) {
  return { tag: "text", val };
}
