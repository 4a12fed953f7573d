// A ReliableClient for tests/tests/reliable_client.rs, which runs it against
// the real gateway: `node test/e2e/record.js URL`.
//
// Prints every event the client dispatches on stdout, one JSON object a line
// (`{"event":"message","seq":1,"text":"…"}`, `"bytes":[…]` for binary;
// `state`, `session`, `reset`, `error`, `close`). Reads commands on stdin,
// one a line: `send TEXT` sends TEXT (and prints `{"event":"sent","ok":…}`),
// `close` closes the client. Exits once the client has closed: a timer or
// socket left behind would keep it running, and the test would see that.

import { createInterface } from "node:readline";

import { WebSocket } from "ws";

import { ReliableClient } from "../../src/index.js";

const [url] = process.argv.slice(2);
const client = new ReliableClient(url, {
  WebSocket,
  backoff: { initialMs: 20, maxMs: 200 },
  // Acknowledge often: the test gives the gateway a small replay buffer,
  // which only acks keep from overflowing.
  ackEveryMessages: 8,
  ackDelayMs: 50,
});

function print(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

client.addEventListener("message", ({ seq, data }) => {
  print(typeof data === "string" ? { event: "message", seq, text: data } : { event: "message", seq, bytes: [...data] });
});
client.addEventListener("state", ({ state }) => print({ event: "state", state }));
client.addEventListener("session", ({ connectionId, resumed }) => print({ event: "session", connectionId, resumed }));
client.addEventListener("reset", ({ previousConnectionId, connectionId, lastSeq }) => {
  print({ event: "reset", previousConnectionId, connectionId, lastSeq });
});
client.addEventListener("error", ({ error }) => print({ event: "error", message: String(error?.message ?? error) }));

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line.startsWith("send ")) {
    print({ event: "sent", ok: client.send(line.slice("send ".length)) });
  } else if (line === "close") {
    client.close();
  } else {
    print({ event: "error", message: `unknown command: ${line}` });
  }
});
client.addEventListener("close", ({ code, reason }) => {
  print({ event: "close", code, reason });
  commands.close();
});
