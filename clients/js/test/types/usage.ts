// Compiled (never run) by `tsc -p test/types`: what the types let an
// application write, and what they refuse (each @ts-expect-error must be an
// error, or tsc fails).

import {
  PROTOCOL_ERROR_CODE,
  ProtocolError,
  ReliableClient,
  SUBPROTOCOL,
  type ReliableMessageEvent,
  type ReliableState,
} from "@wsgate/client";

const client = new ReliableClient("wss://gateway.example/?room=lobby", {
  protocols: ["chat.v2"],
  WebSocket,
  backoff: { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 },
  ackEveryMessages: 16,
  ackDelayMs: 100,
});
new ReliableClient(new URL("ws://localhost:8080/"));

client.addEventListener("message", (event) => {
  const seq: number = event.seq;
  if (typeof event.data === "string") {
    const text: string = event.data;
    console.log(seq, text);
  } else {
    const bytes: Uint8Array = event.data;
    console.log(seq, bytes.byteLength);
  }
});
client.addEventListener("state", (event) => {
  const now: ReliableState = event.state;
  const before: ReliableState = event.previous;
  console.log(before, "→", now);
});
client.addEventListener("session", ({ connectionId, resumed }) => {
  const id: string = connectionId;
  const kept: boolean = resumed;
  console.log(id, kept);
});
client.addEventListener("reset", ({ previousConnectionId, connectionId, lastSeq }) => {
  console.log(previousConnectionId, connectionId, lastSeq + 1);
});
client.addEventListener("close", ({ code, reason }) => {
  console.log(code === PROTOCOL_ERROR_CODE, reason);
});
client.addEventListener("error", ({ error }) => {
  console.log(error instanceof ProtocolError ? error.message : error);
});
const onMessage = (event: ReliableMessageEvent) => console.log(event.data);
client.addEventListener("message", onMessage, { once: true });
client.removeEventListener("message", onMessage);

const sent: boolean = client.send("text") && client.send(new Uint8Array([1])) && client.send(new ArrayBuffer(2));
const state: ReliableState = client.state;
const id: string | null = client.connectionId;
const seq: number = client.lastSeq;
const protocol: string = client.protocol;
const url: string = client.url;
const offered: "wsgate.reliable.v1" = SUBPROTOCOL;
console.log(sent, state, id, seq, protocol, url, offered);
client.close();
client.close(4001, "bye");

// @ts-expect-error: no such state
const wrong: ReliableState = "open";
// @ts-expect-error: send takes text or bytes
client.send({ action: "sendmessage" });
// @ts-expect-error: backoff options are numbers
new ReliableClient("ws://localhost:8080/", { backoff: { initialMs: "1s" } });
client.addEventListener("session", (event) => {
  // @ts-expect-error: a session event has no seq
  console.log(event.seq);
});
console.log(wrong);
