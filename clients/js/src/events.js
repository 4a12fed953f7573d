// The events a ReliableClient dispatches. Plain `Event` subclasses: Node 20
// has neither `MessageEvent` with extra fields nor `CloseEvent`.

/** `message`: one frame from the gateway, delivered once, in order. */
export class ReliableMessageEvent extends Event {
  constructor(data, seq) {
    super("message");
    /** A string (text frame) or a `Uint8Array` (binary frame). */
    this.data = data;
    /** The frame's sequence number in its session, from 1. */
    this.seq = seq;
  }
}

/** `state`: the client's state changed. */
export class StateEvent extends Event {
  constructor(state, previous) {
    super("state");
    this.state = state;
    this.previous = previous;
  }
}

/** `session`: the gateway opened or resumed a session. */
export class SessionEvent extends Event {
  constructor(connectionId, resumed) {
    super("session");
    this.connectionId = connectionId;
    /** True if the session went on where it left off; false for a new one. */
    this.resumed = resumed;
  }
}

/** `reset`: a resume was refused; whatever the old session held is lost. */
export class ResetEvent extends Event {
  constructor(previousConnectionId, connectionId, lastSeq) {
    super("reset");
    this.previousConnectionId = previousConnectionId;
    this.connectionId = connectionId;
    /** The last seq delivered in the lost session. */
    this.lastSeq = lastSeq;
  }
}

/** `close`: the client is done, for good (the last event it dispatches). */
export class ReliableCloseEvent extends Event {
  constructor(code, reason) {
    super("close");
    this.code = code;
    this.reason = reason;
  }
}

/** `error`: something went wrong that the client handled as it says in its README. */
export class ReliableErrorEvent extends Event {
  constructor(error) {
    super("error");
    this.error = error;
  }
}
