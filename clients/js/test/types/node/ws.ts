// Compiled (never run) by `tsc -p test/types/node`: the ws package's
// WebSocket class is a WebSocket the client takes, as Node 20 needs.

import { ReliableClient } from "@wsgate/client";
import { WebSocket } from "ws";

const client = new ReliableClient("ws://localhost:8080/", { WebSocket });
client.close();
