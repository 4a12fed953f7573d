// An in-process stand-in for wsgate's side of wsgate.reliable.v1 (sessions,
// seqs, acks, resume and replay), with handles to misbehave on purpose: drop
// a socket, skip a frame, replay what was delivered, refuse resumes. For the
// client's unit tests only: tests/tests/reliable_client.rs runs the client
// against the real gateway.

import { WebSocketServer } from "ws";

/** One session, as the gateway keeps it. */
export class Session {
  constructor(connectionId, resumeToken) {
    this.connectionId = connectionId;
    this.resumeToken = resumeToken;
    /** The socket it is attached to; null while detached. */
    this.socket = null;
    this.nextSeq = 1;
    /** Every frame sent, acknowledged or not: `{ seq, frame }`. */
    this.history = [];
    /** The last seq the client acknowledged (or said it had when resuming). */
    this.acked = 0;
    /**
     * What the client did, in order: `{ ack: seq }`, `{ data }` (an
     * application frame: a string, or a Buffer for a binary one),
     * `{ close: code }`.
     */
    this.log = [];
  }

  /** The seqs the client acknowledged, in order. */
  get acks() {
    return this.log.filter((entry) => "ack" in entry).map((entry) => entry.ack);
  }

  /** The application frames the client sent, in order. */
  get received() {
    return this.log.filter((entry) => "data" in entry).map((entry) => entry.data);
  }
}

export class FakeGateway {
  #server;
  #sessions = new Map();
  #count = 0;
  /** Resumes are answered with a new session, as after the resume window. */
  refuseResumes = false;
  /** A resume replays every frame of the session, the delivered ones too. */
  replayEverything = false;
  /** Every upgrade request: `{ url, protocols }` (`url` as the request line has it, the offered `protocols` in order). */
  handshakes = [];

  /** A gateway on a free loopback port. */
  static async start() {
    const gateway = new FakeGateway();
    gateway.#server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      // The gateway may choose the application's subprotocol: the first offered.
      handleProtocols: (protocols) => [...protocols][0] ?? false,
    });
    gateway.#server.on("connection", (socket, request) => gateway.#accept(socket, request));
    await new Promise((resolve) => gateway.#server.once("listening", resolve));
    return gateway;
  }

  /** `ws://` URL of the gateway; `path` may carry a query. */
  url(path = "/") {
    return `ws://127.0.0.1:${this.#server.address().port}${path}`;
  }

  /** The sessions, oldest first. */
  get sessions() {
    return [...this.#sessions.values()];
  }

  /** The session of `connectionId`. */
  session(connectionId) {
    const session = this.sessions.find((candidate) => candidate.connectionId === connectionId);
    if (!session) {
      throw new Error(`no session ${connectionId}`);
    }
    return session;
  }

  /** Sends a text (string) or binary (Uint8Array) message; returns its seq. */
  send(session, data) {
    const seq = this.#record(session, data);
    session.socket?.send(session.history.at(-1).frame);
    return seq;
  }

  /** Records a message as sent, but does not transmit it: a frame lost on the way. */
  skip(session, data) {
    return this.#record(session, data);
  }

  /** Transmits `text` as it is, outside the protocol's bookkeeping. */
  sendRaw(session, text) {
    session.socket.send(text);
  }

  /** Cuts the session's connection without a close frame. */
  drop(session) {
    session.socket.terminate();
    session.socket = null;
  }

  /** Closes the session's connection with `code`. */
  close(session, code, reason = "") {
    session.socket.close(code, reason);
  }

  /** Stops listening and cuts every connection. */
  async stop() {
    for (const socket of this.#server.clients) {
      socket.terminate();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #record(session, data) {
    const seq = session.nextSeq++;
    const body = typeof data === "string" ? { data } : { binary: Buffer.from(data).toString("base64") };
    session.history.push({ seq, frame: JSON.stringify({ type: "message", seq, ...body }) });
    return seq;
  }

  #accept(socket, request) {
    const protocols = request.headers["sec-websocket-protocol"]?.split(",").map((protocol) => protocol.trim());
    this.handshakes.push({ url: request.url, protocols: protocols ?? [] });
    const query = new URL(request.url, "ws://gateway").searchParams;
    const resumed = this.refuseResumes ? undefined : this.#sessions.get(query.get("resume"));
    const session = resumed ?? this.#open();
    session.socket?.terminate();
    session.socket = socket;
    socket.send(JSON.stringify({
      type: "session",
      connectionId: session.connectionId,
      resumeToken: session.resumeToken,
      resumed: resumed !== undefined,
    }));
    if (resumed) {
      session.acked = Math.max(session.acked, Number(query.get("lastSeq")));
      const from = this.replayEverything ? 0 : session.acked;
      for (const { seq, frame } of session.history) {
        if (seq > from) {
          socket.send(frame);
        }
      }
    }
    socket.on("message", (data, isBinary) => {
      const ack = isBinary ? undefined : ackOf(data.toString());
      if (ack !== undefined) {
        session.acked = Math.max(session.acked, ack);
        session.log.push({ ack });
      } else {
        session.log.push({ data: isBinary ? data : data.toString() });
      }
    });
    socket.on("close", (code) => {
      session.log.push({ close: code });
      if (session.socket === socket) {
        session.socket = null;
      }
    });
  }

  #open() {
    this.#count += 1;
    const session = new Session(`conn-${this.#count}`, `token-${this.#count}`);
    this.#sessions.set(session.resumeToken, session);
    return session;
  }
}

/** The seq of an ack frame; undefined for anything else. */
function ackOf(text) {
  try {
    const frame = JSON.parse(text);
    return frame?.type === "ack" ? frame.seq : undefined;
  } catch {
    return undefined;
  }
}
