// ReliableClient: one session with wsgate over as many WebSockets as it takes.
// The state machine is in README.md ("States"); each transition below says
// which socket event or timer makes it.

import { Backoff, MAX_DELAY_MS, check } from "./backoff.js";
import {
  ReliableCloseEvent,
  ReliableErrorEvent,
  ReliableMessageEvent,
  ResetEvent,
  SessionEvent,
  StateEvent,
} from "./events.js";
import { ProtocolError, SUBPROTOCOL, ackFrame, parseServerFrame, resumeUrl } from "./frames.js";

/** `WebSocket.OPEN`, the same in every implementation. */
const OPEN = 1;

/** Closes from the gateway that end the session for good: normal closure, going away. */
const FINAL_CODES = new Set([1000, 1001]);

/**
 * The close code the client sends when the gateway breaks the protocol (an
 * application code: browsers send no other than 1000 and 3000-4999). Not
 * 1000, so the gateway keeps the session for a resume.
 */
export const PROTOCOL_ERROR_CODE = 4000;
const PROTOCOL_ERROR_REASON = "wsgate.reliable.v1 protocol error";

const DEFAULT_ACK_EVERY_MESSAGES = 32;
const DEFAULT_ACK_DELAY_MS = 200;

/** The longest close reason a close frame holds, in UTF-8 bytes. */
const MAX_REASON_BYTES = 123;

/**
 * A WebSocket client that keeps one wsgate session across dropped
 * connections and delivers every message of it once, in order.
 */
export class ReliableClient extends EventTarget {
  #url;
  #protocols;
  #WebSocket;
  #backoff;
  #ackEveryMessages;
  #ackDelayMs;

  #state = "connecting";
  /** The socket of the current attempt or connection; null while offline or done. */
  #socket = null;
  /** Whether the current socket has yet to receive its session frame. */
  #awaitingSession = false;
  #connectionId = null;
  /** What resumes the session; null before the first one and once it is over. */
  #resumeToken = null;
  /** The last seq delivered to the application in this session. */
  #lastSeq = 0;
  /** The last seq acknowledged on the current socket. */
  #ackedSeq = 0;
  #ackTimer = null;
  #retryTimer = null;
  /** The close the application asked for, once it has. */
  #closing = null;
  /** Whether the `close` event was dispatched. */
  #finished = false;

  /** Connects at once, like a WebSocket. See index.d.ts for the options. */
  constructor(url, options = {}) {
    super();
    const {
      protocols = [],
      WebSocket = globalThis.WebSocket,
      backoff,
      ackEveryMessages = DEFAULT_ACK_EVERY_MESSAGES,
      ackDelayMs = DEFAULT_ACK_DELAY_MS,
    } = options;
    if (typeof WebSocket !== "function") {
      throw new TypeError(
        "no WebSocket in this runtime (Node before 22 has no global one): pass the WebSocket option, e.g. the ws package's",
      );
    }
    this.#url = new URL(url, globalThis.location?.href).href;
    const offered = typeof protocols === "string" ? [protocols] : [...protocols];
    this.#protocols = offered.includes(SUBPROTOCOL) ? offered : [...offered, SUBPROTOCOL];
    this.#WebSocket = WebSocket;
    this.#backoff = new Backoff(backoff);
    this.#ackEveryMessages = check("ackEveryMessages", ackEveryMessages, 1, Number.MAX_SAFE_INTEGER);
    this.#ackDelayMs = check("ackDelayMs", ackDelayMs, 0, MAX_DELAY_MS);
    // Throws, as WebSocket's constructor does, for a URL or protocols it refuses.
    this.#open();
  }

  /** `connecting`, `connected`, `resuming`, `offline` or `closed`. */
  get state() {
    return this.#state;
  }

  /** The session's connection id: null until the first session, then the latest one. */
  get connectionId() {
    return this.#connectionId;
  }

  /** The seq of the last message delivered in this session (0 if none). */
  get lastSeq() {
    return this.#lastSeq;
  }

  /** The subprotocol the gateway chose on the current socket ("" if none, or offline). */
  get protocol() {
    return this.#socket?.protocol ?? "";
  }

  /** The URL the client connects to (a resume adds its parameters to it). */
  get url() {
    return this.#url;
  }

  /**
   * Sends a frame to the gateway, unwrapped, if the client is connected;
   * returns whether it did. Nothing is queued while offline.
   */
  send(data) {
    const socket = this.#socket;
    if (this.#state !== "connected" || socket?.readyState !== OPEN) {
      return false;
    }
    socket.send(data);
    return true;
  }

  /**
   * Ends the session for good: acknowledges what was delivered, closes the
   * socket with `code` (1000, or 3000-4999) and `reason`, never reconnects.
   * The state is `closed` at once; the `close` event follows once the socket is.
   */
  close(code = 1000, reason = "") {
    if (!(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
      throw new RangeError(`a close code is 1000 or from 3000 to 4999, not ${code}`);
    }
    if (new TextEncoder().encode(reason).length > MAX_REASON_BYTES) {
      throw new RangeError(`a close reason has at most ${MAX_REASON_BYTES} bytes of UTF-8`);
    }
    if (this.#closing !== null || this.#finished) {
      return;
    }
    this.#closing = { code, reason };
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const socket = this.#socket;
    if (socket === null) {
      this.#finish(code, reason);
      return;
    }
    this.#ack();
    this.#setState("closed");
    socket.close(code, reason);
  }

  /** Opens a socket: a new session, or a resume of the one there is. */
  #open() {
    const resuming = this.#resumeToken !== null;
    const url = resuming ? resumeUrl(this.#url, this.#resumeToken, this.#lastSeq) : this.#url;
    const socket = new this.#WebSocket(url, this.#protocols);
    this.#socket = socket;
    this.#awaitingSession = true;
    socket.addEventListener("message", (event) => {
      if (this.#isLive(socket)) {
        this.#onFrame(socket, event.data);
      }
    });
    const ended = (code, reason) => {
      if (socket === this.#socket) {
        this.#onClose(code, reason);
      }
    };
    socket.addEventListener("close", (event) => ended(event.code, event.reason));
    // An error ends the socket. A close follows it, but not in every
    // implementation: Node 20's built-in WebSocket stays silent after a
    // failed connection attempt. (And without a listener, the ws package
    // throws its error events.)
    socket.addEventListener("error", () => ended(1006, ""));
    this.#setState(resuming ? "resuming" : "connecting");
  }

  /** Whether frames of `socket` are still for the application. */
  #isLive(socket) {
    return socket === this.#socket && this.#closing === null;
  }

  #onFrame(socket, data) {
    let frame;
    try {
      if (typeof data !== "string") {
        throw new ProtocolError("a binary frame: the gateway wraps every frame in a text frame");
      }
      frame = parseServerFrame(data);
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        throw error;
      }
      if (this.#awaitingSession) {
        this.#unsupported(error);
      } else {
        this.#broken(error);
      }
      return;
    }
    if (this.#awaitingSession) {
      if (frame.type === "session") {
        this.#onSession(socket, frame);
      } else {
        this.#unsupported(new ProtocolError(`the first frame is not a session frame: does the gateway speak ${SUBPROTOCOL}?`));
      }
    } else if (frame.type === "message") {
      this.#onMessage(socket, frame);
    }
  }

  #onSession(socket, { connectionId, resumeToken, resumed }) {
    this.#awaitingSession = false;
    this.#backoff.reset();
    const previousId = this.#connectionId;
    const hadSession = this.#resumeToken !== null;
    const kept = resumed && hadSession && connectionId === previousId;
    const lostSeq = this.#lastSeq;
    this.#connectionId = connectionId;
    this.#resumeToken = resumeToken;
    // An ack sent on the socket that dropped may never have arrived.
    this.#ackedSeq = 0;
    if (!kept) {
      this.#lastSeq = 0;
    }
    this.#setState("connected");
    if (!kept && hadSession && this.#isLive(socket)) {
      this.dispatchEvent(new ResetEvent(previousId, connectionId, lostSeq));
    }
    if (this.#isLive(socket)) {
      this.dispatchEvent(new SessionEvent(connectionId, kept));
    }
    if (this.#isLive(socket)) {
      this.#scheduleAck();
    }
  }

  #onMessage(socket, { seq, data }) {
    if (seq <= this.#lastSeq) {
      return; // delivered already: a replay's duplicate
    }
    if (seq !== this.#lastSeq + 1) {
      this.#broken(new ProtocolError(`frame ${seq} came after ${this.#lastSeq}: the frames between are missing`));
      return;
    }
    this.#lastSeq = seq;
    this.dispatchEvent(new ReliableMessageEvent(data, seq));
    if (this.#isLive(socket)) {
      this.#scheduleAck();
    }
  }

  /** Acknowledges now if enough messages wait for it, else after the delay. */
  #scheduleAck() {
    const unacked = this.#lastSeq - this.#ackedSeq;
    if (unacked >= this.#ackEveryMessages) {
      this.#ack();
    } else if (unacked > 0 && this.#ackTimer === null) {
      this.#ackTimer = setTimeout(() => this.#ack(), this.#ackDelayMs);
    }
  }

  #ack() {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    const socket = this.#socket;
    if (this.#lastSeq > this.#ackedSeq && socket?.readyState === OPEN && !this.#awaitingSession) {
      socket.send(ackFrame(this.#lastSeq));
      this.#ackedSeq = this.#lastSeq;
    }
  }

  /**
   * The gateway broke the protocol mid-session (a gap in the seqs, a frame
   * that is not one): drop this socket and resume from the last message
   * delivered, so the gateway replays whatever came after it.
   */
  #broken(error) {
    this.#dropSocket();
    this.dispatchEvent(new ReliableErrorEvent(error));
    if (this.#closing === null) {
      this.#lost();
    }
  }

  /** The gateway does not open a session: it does not speak the protocol, and retrying will not help. */
  #unsupported(error) {
    this.#dropSocket();
    this.dispatchEvent(new ReliableErrorEvent(error));
    this.#finish(PROTOCOL_ERROR_CODE, PROTOCOL_ERROR_REASON);
  }

  #dropSocket() {
    const socket = this.#socket;
    this.#forgetSocket();
    socket.close(PROTOCOL_ERROR_CODE, PROTOCOL_ERROR_REASON);
  }

  #forgetSocket() {
    this.#socket = null;
    this.#awaitingSession = false;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
  }

  #onClose(code, reason) {
    this.#forgetSocket();
    if (this.#closing !== null) {
      this.#finish(this.#closing.code, this.#closing.reason);
    } else if (FINAL_CODES.has(code)) {
      this.#finish(code, reason);
    } else {
      this.#lost();
    }
  }

  /** The connection is gone, the session not: try again after the backoff. */
  #lost() {
    this.#setState("offline");
    // A state listener may have closed the client.
    if (this.#closing === null && !this.#finished) {
      this.#retryTimer = setTimeout(() => this.#reconnect(), this.#backoff.next());
    }
  }

  #reconnect() {
    this.#retryTimer = null;
    try {
      this.#open();
    } catch (error) {
      this.#forgetSocket();
      this.dispatchEvent(new ReliableErrorEvent(error));
      if (this.#closing === null) {
        this.#lost();
      }
    }
  }

  /** The session is over: `closed`, then the `close` event, once. */
  #finish(code, reason) {
    if (this.#finished) {
      return;
    }
    this.#finished = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#resumeToken = null;
    this.#setState("closed");
    this.dispatchEvent(new ReliableCloseEvent(code, reason));
  }

  #setState(state) {
    const previous = this.#state;
    if (previous !== state) {
      this.#state = state;
      this.dispatchEvent(new StateEvent(state, previous));
    }
  }
}
