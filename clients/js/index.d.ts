// Types of @wsgate/client: a WebSocket client for wsgate's reliable
// subprotocol. README.md says what each state and event means.

/** The subprotocol a client offers to opt in: `"wsgate.reliable.v1"`. */
export declare const SUBPROTOCOL: "wsgate.reliable.v1";

/**
 * The close code the client sends when the gateway breaks the protocol (a
 * gap in the seqs, a frame that is not one, no session frame first).
 */
export declare const PROTOCOL_ERROR_CODE: 4000;

/**
 * - `connecting`: opening a connection for a new session;
 * - `connected`: the session is open, messages flow, `send` works;
 * - `resuming`: reconnecting to resume the session after a drop;
 * - `offline`: the connection dropped; the next attempt waits for the backoff;
 * - `closed`: the end: closed by the application or the gateway, or the
 *   gateway does not speak the protocol. Nothing reconnects.
 */
export type ReliableState = "connecting" | "connected" | "resuming" | "offline" | "closed";

/** What may be sent: text, or bytes (a Blob in browsers). */
export type ReliableSendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** The delays between reconnection attempts. */
export interface BackoffOptions {
  /** The first delay, in ms (default 500). */
  initialMs?: number;
  /** The longest delay, in ms (default 30000). */
  maxMs?: number;
  /** Each delay is the previous one times this, up to `maxMs` (default 2). */
  factor?: number;
  /** Up to this share of each delay, at random, is taken off it: 0 to 1 (default 0.5). */
  jitter?: number;
}

/** What the client needs of a WebSocket: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  send(data: any): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}

/** A WebSocket class. */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocketLike;
}

export interface ReliableClientOptions {
  /** The application's own subprotocols, offered before `wsgate.reliable.v1`. */
  protocols?: string | string[];
  /**
   * The WebSocket class to use; the global one by default. Node 20 has none
   * (pass the `ws` package's); browsers and Node 22 and later do.
   */
  WebSocket?: WebSocketConstructor;
  /** The delays between reconnection attempts. */
  backoff?: BackoffOptions;
  /** Acknowledge as soon as this many messages are unacknowledged (default 32). */
  ackEveryMessages?: number;
  /** Acknowledge this long after the first unacknowledged message, at the latest, in ms (default 200). */
  ackDelayMs?: number;
}

/** `message`: one message from the gateway, delivered once, in order. */
export declare class ReliableMessageEvent extends Event {
  constructor(data: string | Uint8Array, seq: number);
  readonly type: "message";
  /** A string for a text frame, a `Uint8Array` for a binary one. */
  readonly data: string | Uint8Array;
  /** The message's sequence number in its session, from 1. */
  readonly seq: number;
}

/** `state`: the client's state changed. */
export declare class StateEvent extends Event {
  constructor(state: ReliableState, previous: ReliableState);
  readonly type: "state";
  readonly state: ReliableState;
  readonly previous: ReliableState;
}

/** `session`: the gateway opened a session, or resumed this one. */
export declare class SessionEvent extends Event {
  constructor(connectionId: string, resumed: boolean);
  readonly type: "session";
  readonly connectionId: string;
  /** True if the session went on where it left off; false for a new one. */
  readonly resumed: boolean;
}

/**
 * `reset`: a resume was refused (the resume window had passed, the gateway
 * had to drop unacknowledged messages) and a new session began: whatever the
 * gateway and the application held for the old connection id is lost, and
 * messages sent to it after `lastSeq` may never arrive.
 */
export declare class ResetEvent extends Event {
  constructor(previousConnectionId: string, connectionId: string, lastSeq: number);
  readonly type: "reset";
  readonly previousConnectionId: string;
  readonly connectionId: string;
  /** The last seq delivered in the lost session. */
  readonly lastSeq: number;
}

/** `close`: the client is done for good; the last event it dispatches. */
export declare class ReliableCloseEvent extends Event {
  constructor(code: number, reason: string);
  readonly type: "close";
  /** The code of the application's `close()`, of the gateway's final close, or `PROTOCOL_ERROR_CODE`. */
  readonly code: number;
  readonly reason: string;
}

/** `error`: something went wrong that the client handled (README.md says how). */
export declare class ReliableErrorEvent extends Event {
  constructor(error: unknown);
  readonly type: "error";
  /** A `ProtocolError`, or what a WebSocket constructor threw at a reconnection. */
  readonly error: unknown;
}

/** The gateway sent something that breaks wsgate.reliable.v1. */
export declare class ProtocolError extends Error {
  constructor(message: string);
  readonly name: "ProtocolError";
}

/** The events of a `ReliableClient`, by type. */
export interface ReliableClientEventMap {
  message: ReliableMessageEvent;
  state: StateEvent;
  session: SessionEvent;
  reset: ResetEvent;
  close: ReliableCloseEvent;
  error: ReliableErrorEvent;
}

/** A listener of events `E`: a function, or an object with `handleEvent`. */
export type ReliableListener<E extends Event> = ((event: E) => void) | { handleEvent(event: E): void };

/** `addEventListener`'s options (spelled out: Node's types and the DOM's name them differently). */
export interface ReliableListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: AbortSignal;
}

/**
 * A WebSocket client that keeps one wsgate session across dropped
 * connections and delivers every message of it once, in order.
 */
export declare class ReliableClient extends EventTarget {
  /**
   * Connects at once, like a WebSocket. Throws as the WebSocket constructor
   * does for a bad URL or subprotocol, a `RangeError` for an option out of
   * range, a `TypeError` without a WebSocket class.
   */
  constructor(url: string | URL, options?: ReliableClientOptions);

  /** The current state. */
  readonly state: ReliableState;
  /** The session's connection id: null until the first session, then the latest one. */
  readonly connectionId: string | null;
  /** The seq of the last message delivered in this session (0 if none). */
  readonly lastSeq: number;
  /** The subprotocol the gateway chose on the current connection ("" if none, or offline). */
  readonly protocol: string;
  /** The URL the client connects to (a resume adds `resume` and `lastSeq` to it). */
  readonly url: string;

  /**
   * Sends a frame to the gateway if the client is `connected`, and returns
   * true; returns false, sending nothing, in any other state. Nothing is
   * queued: a frame sent just before a drop may be lost.
   */
  send(data: ReliableSendData): boolean;

  /**
   * Ends the session for good: acknowledges what was delivered, closes with
   * `code` (1000, the default, or 3000-4999; RangeError otherwise) and
   * `reason` (at most 123 bytes of UTF-8), never reconnects. The state is
   * `closed` at once; the `close` event follows once the connection is closed.
   * A code other than 1000 leaves the session to the gateway's resume window.
   */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof ReliableClientEventMap>(
    type: K,
    listener: ReliableListener<ReliableClientEventMap[K]> | null,
    options?: boolean | ReliableListenerOptions,
  ): void;
  addEventListener(type: string, listener: ReliableListener<Event> | null, options?: boolean | ReliableListenerOptions): void;
  removeEventListener<K extends keyof ReliableClientEventMap>(
    type: K,
    listener: ReliableListener<ReliableClientEventMap[K]> | null,
    options?: boolean | { capture?: boolean },
  ): void;
  removeEventListener(type: string, listener: ReliableListener<Event> | null, options?: boolean | { capture?: boolean }): void;
}
