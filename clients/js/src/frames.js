// The wire format of wsgate.reliable.v1: the frames the gateway sends, the
// one the client sends back (the ack), and the URL a resume connects to.

/** The subprotocol a client offers to opt in. */
export const SUBPROTOCOL = "wsgate.reliable.v1";

/** A frame that breaks the protocol: the gateway sent something this client cannot trust. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * Reads a frame the gateway sent, as one of
 * - `{ type: "session", connectionId, resumeToken, resumed }`,
 * - `{ type: "message", seq, data }` (`data` a string, or a `Uint8Array` for a binary frame),
 * - `{ type: "other" }`: a frame type this client does not know, which a later
 *   version of the gateway may add and which it must then ignore.
 * Throws a `ProtocolError` for anything else.
 */
export function parseServerFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new ProtocolError(`not a JSON frame: ${preview(text)}`);
  }
  if (frame === null || typeof frame !== "object" || typeof frame.type !== "string") {
    throw new ProtocolError(`a frame without a type: ${preview(text)}`);
  }
  switch (frame.type) {
    case "session":
      return parseSession(frame, text);
    case "message":
      return parseMessage(frame, text);
    default:
      return { type: "other" };
  }
}

function parseSession(frame, text) {
  const { connectionId, resumeToken, resumed } = frame;
  if (typeof connectionId !== "string" || connectionId === "" ||
      typeof resumeToken !== "string" || resumeToken === "" ||
      typeof resumed !== "boolean") {
    throw new ProtocolError(`a session frame needs connectionId, resumeToken and resumed: ${preview(text)}`);
  }
  return { type: "session", connectionId, resumeToken, resumed };
}

function parseMessage(frame, text) {
  const { seq } = frame;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new ProtocolError(`a message frame needs a seq of 1 or more: ${preview(text)}`);
  }
  const isText = typeof frame.data === "string";
  const isBinary = typeof frame.binary === "string";
  if (isText === isBinary) {
    throw new ProtocolError(`a message frame needs either data or binary: ${preview(text)}`);
  }
  return { type: "message", seq, data: isText ? frame.data : decodeBase64(frame.binary, seq) };
}

/** The acknowledgement of every frame up to and including `seq`. */
export function ackFrame(seq) {
  return JSON.stringify({ type: "ack", seq });
}

/**
 * The URL that resumes a session: `url` with `resume` and `lastSeq` set
 * (replacing any left from an earlier attempt), its other parameters kept.
 */
export function resumeUrl(url, resumeToken, lastSeq) {
  const resume = new URL(url);
  resume.searchParams.set("resume", resumeToken);
  resume.searchParams.set("lastSeq", String(lastSeq));
  return resume.href;
}

function decodeBase64(text, seq) {
  let bytes;
  try {
    bytes = atob(text);
  } catch {
    throw new ProtocolError(`frame ${seq}: binary is not base64`);
  }
  const decoded = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    decoded[i] = bytes.charCodeAt(i);
  }
  return decoded;
}

/** The start of a frame, for an error message. */
function preview(text) {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
