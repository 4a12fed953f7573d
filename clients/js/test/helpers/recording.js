// What a test watches a client do, and how it waits for it: polling with a
// deadline, never a fixed sleep.

/** How long any one wait may take. */
export const WAIT_MS = 5_000;

/**
 * Everything `client` dispatches, in order: `events` holds `{ type, ... }`
 * records, and the getters pick one kind.
 */
export class Recording {
  events = [];

  constructor(client) {
    const fields = {
      message: (event) => ({ seq: event.seq, data: event.data }),
      state: (event) => ({ state: event.state, previous: event.previous }),
      session: (event) => ({ connectionId: event.connectionId, resumed: event.resumed }),
      reset: (event) => ({
        previousConnectionId: event.previousConnectionId,
        connectionId: event.connectionId,
        lastSeq: event.lastSeq,
      }),
      close: (event) => ({ code: event.code, reason: event.reason }),
      error: (event) => ({ error: event.error }),
    };
    for (const [type, read] of Object.entries(fields)) {
      client.addEventListener(type, (event) => this.events.push({ type, ...read(event) }));
    }
  }

  #of(type) {
    return this.events.filter((event) => event.type === type);
  }

  /** The messages' data, in order of delivery. */
  get data() {
    return this.#of("message").map((event) => event.data);
  }

  get seqs() {
    return this.#of("message").map((event) => event.seq);
  }

  get states() {
    return this.#of("state").map((event) => event.state);
  }

  get sessions() {
    return this.#of("session").map(({ connectionId, resumed }) => ({ connectionId, resumed }));
  }

  get resets() {
    return this.#of("reset").map(({ type, ...reset }) => reset);
  }

  get closes() {
    return this.#of("close").map(({ code, reason }) => ({ code, reason }));
  }

  get errors() {
    return this.#of("error").map((event) => event.error);
  }
}

/**
 * Polls `probe` until it returns something truthy, and returns it; fails
 * naming `what` after `WAIT_MS`.
 */
export async function eventually(what, probe) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not so within ${WAIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Resolves once every timer due now has run: a client that was going to
 * reconnect after a zero backoff has then done so.
 */
export function timersDueNow() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
