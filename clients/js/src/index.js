// @wsgate/client: a WebSocket client for wsgate's reliable subprotocol.

export { ReliableClient, PROTOCOL_ERROR_CODE } from "./client.js";
export { SUBPROTOCOL, ProtocolError } from "./frames.js";
export {
  ReliableCloseEvent,
  ReliableErrorEvent,
  ReliableMessageEvent,
  ResetEvent,
  SessionEvent,
  StateEvent,
} from "./events.js";
