// ReliableClient against the in-process FakeGateway: sessions, delivery,
// acks, resume, dedup, reset, the closes that end a session and those that
// do not, backoff. Each case runs with the ws package's WebSocket and, where
// the runtime has one (Node 22, or 20 with --experimental-websocket), the
// built-in WHATWG WebSocket a browser's code would use.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";

import { WebSocket as WsWebSocket, WebSocketServer } from "ws";

import { PROTOCOL_ERROR_CODE, ProtocolError, ReliableClient, SUBPROTOCOL } from "../src/index.js";
import { FakeGateway } from "./helpers/fake-gateway.js";
import { Recording, eventually, timersDueNow } from "./helpers/recording.js";

const implementations = [["the ws package", WsWebSocket]];
if (typeof globalThis.WebSocket === "function") {
  implementations.push(["the built-in WebSocket", globalThis.WebSocket]);
}

/** Reconnects at once: the tests wait for events, not for backoff. */
const NO_BACKOFF = { initialMs: 0, maxMs: 0, jitter: 0 };

for (const [name, WebSocket] of implementations) {
  describe(`ReliableClient over ${name}`, () => {
    /**
     * A fake gateway and a client of it whose first session is open; both
     * are stopped when the test ends.
     */
    async function connected(t, options = {}, path = "/") {
      const gateway = await FakeGateway.start();
      const client = new ReliableClient(gateway.url(path), { WebSocket, backoff: NO_BACKOFF, ...options });
      const recording = new Recording(client);
      t.after(async () => {
        if (client.state !== "closed") {
          client.close();
        }
        await gateway.stop();
      });
      await eventually("the first session", () => recording.sessions.length === 1);
      const session = gateway.session(client.connectionId);
      return { gateway, client, recording, session };
    }

    test("opens a session, offering its subprotocol beside the application's", async (t) => {
      const { gateway, client, recording } = await connected(t, { protocols: ["chat.v2"] });
      assert.deepEqual(gateway.handshakes.map((handshake) => handshake.protocols), [["chat.v2", SUBPROTOCOL]]);
      assert.equal(client.protocol, "chat.v2", "the gateway chose the application's subprotocol");
      assert.equal(client.state, "connected");
      assert.equal(client.connectionId, "conn-1");
      assert.deepEqual(recording.states, ["connected"]);
      assert.deepEqual(recording.sessions, [{ connectionId: "conn-1", resumed: false }]);
    });

    test("delivers text and binary messages with their seqs", async (t) => {
      const { gateway, client, recording, session } = await connected(t);
      gateway.send(session, "one");
      gateway.send(session, new Uint8Array([0, 1, 255]));
      gateway.send(session, "three");
      await eventually("three messages", () => recording.data.length === 3);
      assert.deepEqual(recording.data, ["one", new Uint8Array([0, 1, 255]), "three"]);
      assert.deepEqual(recording.seqs, [1, 2, 3]);
      assert.equal(client.lastSeq, 3);
    });

    test("sends application frames unwrapped, and nothing when not connected", async (t) => {
      const gateway = await FakeGateway.start();
      t.after(() => gateway.stop());
      const client = new ReliableClient(gateway.url(), { WebSocket });
      assert.equal(client.send("too early"), false, "no session yet");
      await eventually("the session", () => client.state === "connected");
      assert.equal(client.send("hello"), true);
      assert.equal(client.send(new Uint8Array([7, 8])), true);
      const session = gateway.session(client.connectionId);
      await eventually("both frames at the gateway", () => session.received.length === 2);
      assert.deepEqual(session.received, ["hello", Buffer.from([7, 8])]);
      client.close();
      assert.equal(client.send("too late"), false, "closed");
    });

    test("acknowledges every ackEveryMessages messages, then the rest before a clean close", async (t) => {
      const { gateway, client, recording, session } = await connected(t, { ackEveryMessages: 3, ackDelayMs: 60_000 });
      for (let i = 1; i <= 7; i++) {
        gateway.send(session, `m${i}`);
      }
      await eventually("seven messages", () => recording.data.length === 7);
      await eventually("two acks", () => session.acks.length === 2);
      assert.deepEqual(session.acks, [3, 6]);
      client.close();
      await eventually("the close at the gateway", () => session.log.some((entry) => "close" in entry));
      assert.deepEqual(session.log.slice(-2), [{ ack: 7 }, { close: 1000 }]);
    });

    test("acknowledges after ackDelayMs when fewer messages came", async (t) => {
      const { gateway, recording, session } = await connected(t, { ackEveryMessages: 100, ackDelayMs: 10 });
      gateway.send(session, "a");
      gateway.send(session, "b");
      await eventually("two messages", () => recording.data.length === 2);
      await eventually("an ack of both", () => session.acks.at(-1) === 2);
      assert.deepEqual(session.acks, [2], "one ack for both");
    });

    test("resumes after a drop and delivers what it missed, once, in order", async (t) => {
      const { gateway, client, recording, session } = await connected(t, {}, "/chat?room=lobby");
      for (const text of ["m1", "m2", "m3"]) {
        gateway.send(session, text);
      }
      await eventually("three messages", () => recording.data.length === 3);
      gateway.drop(session);
      for (const text of ["m4", "m5", "m6"]) {
        gateway.send(session, text);
      }
      await eventually("six messages", () => recording.data.length === 6);
      assert.deepEqual(recording.data, ["m1", "m2", "m3", "m4", "m5", "m6"]);
      assert.deepEqual(recording.seqs, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(recording.sessions, [
        { connectionId: "conn-1", resumed: false },
        { connectionId: "conn-1", resumed: true },
      ]);
      assert.deepEqual(recording.states, ["connected", "offline", "resuming", "connected"]);
      assert.equal(client.connectionId, "conn-1");
      assert.equal(gateway.handshakes[1].url, "/chat?room=lobby&resume=token-1&lastSeq=3");
    });

    test("acknowledges again after a resume: the last ack may have been lost with the socket", async (t) => {
      const { gateway, recording, session } = await connected(t, { ackEveryMessages: 100, ackDelayMs: 10 });
      gateway.send(session, "m1");
      await eventually("the ack", () => session.acks.length === 1);
      gateway.drop(session);
      await eventually("the resumed session", () => recording.sessions.length === 2);
      await eventually("a second ack", () => session.acks.length === 2);
      assert.deepEqual(session.acks, [1, 1]);
    });

    test("drops the duplicates a replay repeats", async (t) => {
      const { gateway, recording, session } = await connected(t);
      gateway.replayEverything = true;
      gateway.send(session, "m1");
      gateway.send(session, "m2");
      await eventually("two messages", () => recording.data.length === 2);
      gateway.sendRaw(session, session.history[0].frame);
      gateway.drop(session);
      gateway.send(session, "m3");
      await eventually("the resumed session", () => recording.sessions.length === 2);
      gateway.send(session, "m4");
      await eventually("four messages", () => recording.data.length === 4);
      assert.deepEqual(recording.data, ["m1", "m2", "m3", "m4"]);
      assert.deepEqual(recording.seqs, [1, 2, 3, 4]);
    });

    test("a gap in the seqs makes it resume from the last message delivered", async (t) => {
      const { gateway, recording, session } = await connected(t);
      gateway.send(session, "m1");
      gateway.skip(session, "m2");
      gateway.send(session, "m3");
      await eventually("three messages", () => recording.data.length === 3);
      assert.deepEqual(recording.data, ["m1", "m2", "m3"]);
      assert.deepEqual(session.log.filter((entry) => "close" in entry), [{ close: PROTOCOL_ERROR_CODE }]);
      assert.ok(recording.errors[0] instanceof ProtocolError);
      assert.match(recording.errors[0].message, /frame 3 came after 1/);
      assert.deepEqual(recording.sessions.map((s) => s.resumed), [false, true]);
      assert.match(gateway.handshakes[1].url, /lastSeq=1$/);
    });

    test("a refused resume resets: a new connection id, seqs from 1 again", async (t) => {
      const { gateway, client, recording, session } = await connected(t);
      gateway.send(session, "old1");
      gateway.send(session, "old2");
      await eventually("two messages", () => recording.data.length === 2);
      gateway.refuseResumes = true;
      gateway.drop(session);
      await eventually("a second session", () => recording.sessions.length === 2);
      assert.deepEqual(recording.resets, [{ previousConnectionId: "conn-1", connectionId: "conn-2", lastSeq: 2 }]);
      assert.deepEqual(recording.sessions[1], { connectionId: "conn-2", resumed: false });
      assert.equal(client.connectionId, "conn-2");
      assert.equal(client.lastSeq, 0);
      const events = recording.events.map((event) => event.type).slice(-3);
      assert.deepEqual(events, ["state", "reset", "session"], "connected first, so a reset listener can send");
      gateway.send(gateway.session("conn-2"), "new1");
      await eventually("the new session's first message", () => recording.data.length === 3);
      assert.deepEqual(recording.events.at(-1), { type: "message", seq: 1, data: "new1" });
    });

    test("a close with 1012 (service restart) resumes", async (t) => {
      const { gateway, recording, session } = await connected(t);
      gateway.send(session, "before");
      await eventually("one message", () => recording.data.length === 1);
      gateway.close(session, 1012, "service restart");
      await eventually("the resumed session", () => recording.sessions.length === 2);
      assert.deepEqual(recording.sessions[1], { connectionId: "conn-1", resumed: true });
      gateway.send(session, "after");
      await eventually("two messages", () => recording.data.length === 2);
      assert.deepEqual(recording.data, ["before", "after"]);
    });

    for (const code of [1000, 1001]) {
      test(`a close with ${code} from the gateway is final`, async (t) => {
        const sockets = counted(WebSocket);
        const { gateway, client, recording, session } = await connected(t, { WebSocket: sockets.WebSocket });
        gateway.close(session, code, "bye");
        await eventually("the close event", () => recording.closes.length === 1);
        assert.deepEqual(recording.closes, [{ code, reason: "bye" }]);
        assert.equal(client.state, "closed");
        assert.deepEqual(recording.states, ["connected", "closed"]);
        await timersDueNow();
        assert.equal(sockets.made, 1, "no reconnection");
      });
    }

    test("close() is final: closed at once, the close event once the socket is", async (t) => {
      const { client, recording, session } = await connected(t);
      client.close(4001, "done here");
      assert.equal(client.state, "closed");
      assert.deepEqual(recording.closes, [], "the socket is still closing");
      await eventually("the close event", () => recording.closes.length === 1);
      assert.deepEqual(recording.closes, [{ code: 4001, reason: "done here" }]);
      assert.deepEqual(session.log, [{ close: 4001 }]);
      client.close();
      assert.equal(recording.closes.length, 1, "a second close() does nothing");
    });

    test("close() while offline cancels the retry", async (t) => {
      const sockets = counted(WebSocket);
      const { gateway, client, recording, session } = await connected(t, { WebSocket: sockets.WebSocket });
      // The retry is due at once (no backoff); a microtask comes before it.
      client.addEventListener("state", ({ state }) => state === "offline" && queueMicrotask(() => client.close()));
      gateway.drop(session);
      await eventually("the close event", () => recording.closes.length === 1);
      assert.deepEqual(recording.states, ["connected", "offline", "closed"]);
      assert.deepEqual(recording.closes, [{ code: 1000, reason: "" }]);
      await timersDueNow();
      assert.equal(sockets.made, 1, "no reconnection");
    });

    test("retries with backoff until the gateway is reachable", async (t) => {
      const sockets = failingFirst(WebSocket, 2, await unreachableUrl());
      const backoff = { initialMs: 1, maxMs: 4, factor: 2, jitter: 0 };
      const { recording } = await connected(t, { WebSocket: sockets.WebSocket, backoff });
      assert.equal(sockets.made, 3);
      assert.deepEqual(recording.states, ["offline", "connecting", "offline", "connecting", "connected"]);
    });

    test("a session resets the backoff", async (t) => {
      const sockets = failingFirst(WebSocket, 1, await unreachableUrl());
      // 1 ms, then a minute: only a reset brings the delay back to 1 ms.
      const backoff = { initialMs: 1, maxMs: 60_000, factor: 60_000, jitter: 0 };
      const { gateway, recording, session } = await connected(t, { WebSocket: sockets.WebSocket, backoff });
      gateway.drop(session);
      await eventually("the resumed session, within the first delay again", () => recording.sessions.length === 2);
      assert.deepEqual(recording.sessions.map(({ resumed }) => resumed), [false, true]);
    });

    for (const first of ["hello", '{"type":"message","seq":1,"data":"hello"}']) {
      test(`a server whose first frame is not a session frame ends the client: ${first}`, async (t) => {
        const plain = new WebSocketServer({ host: "127.0.0.1", port: 0 });
        plain.on("connection", (socket) => socket.send(first));
        await new Promise((resolve) => plain.once("listening", resolve));
        t.after(() => new Promise((resolve) => plain.close(resolve)));
        const sockets = counted(WebSocket);
        const client = new ReliableClient(`ws://127.0.0.1:${plain.address().port}/`, {
          WebSocket: sockets.WebSocket,
          backoff: NO_BACKOFF,
        });
        const recording = new Recording(client);
        await eventually("the close event", () => recording.closes.length === 1);
        assert.equal(client.state, "closed");
        assert.equal(recording.closes[0].code, PROTOCOL_ERROR_CODE);
        assert.ok(recording.errors[0] instanceof ProtocolError);
        await timersDueNow();
        assert.equal(sockets.made, 1, "no reconnection");
      });
    }
  });
}

describe("ReliableClient's arguments", () => {
  test("a runtime without WebSocket needs the option", () => {
    const global = Object.getOwnPropertyDescriptor(globalThis, "WebSocket");
    delete globalThis.WebSocket;
    try {
      assert.throws(() => new ReliableClient("ws://127.0.0.1:9/"), TypeError);
    } finally {
      if (global) {
        Object.defineProperty(globalThis, "WebSocket", global);
      }
    }
  });

  test("options out of range are refused", () => {
    const bad = [{ backoff: { jitter: 2 } }, { backoff: { initialMs: -1 } }, { ackEveryMessages: 0 }, { ackDelayMs: -5 }];
    for (const options of bad) {
      assert.throws(() => new ReliableClient("ws://127.0.0.1:9/", { WebSocket: WsWebSocket, ...options }), RangeError);
    }
  });

  test("close() takes the codes a browser may send", async () => {
    const client = new ReliableClient("ws://127.0.0.1:9/", { WebSocket: WsWebSocket });
    assert.throws(() => client.close(1006), RangeError);
    assert.throws(() => client.close(1000, "x".repeat(124)), RangeError);
    client.close();
    assert.equal(client.state, "closed");
  });
});

/** A subclass of `WebSocket` (as `.WebSocket`) counting the sockets it makes (`.made`). */
function counted(WebSocket) {
  return failingFirst(WebSocket, 0, undefined);
}

/**
 * A subclass of `WebSocket` (as `.WebSocket`) counting the sockets it makes
 * (`.made`), whose first `failures` connect to `unreachable` instead.
 */
function failingFirst(WebSocket, failures, unreachable) {
  const sockets = { made: 0 };
  sockets.WebSocket = class extends WebSocket {
    constructor(url, protocols) {
      sockets.made += 1;
      super(sockets.made <= failures ? unreachable : url, protocols);
    }
  };
  return sockets;
}

/** A `ws://` URL on a loopback port nothing listens on. */
async function unreachableUrl() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}/`;
}
