// {{name}}: a wsgate route handler that greets every text message and echoes
// binary ones.

// The `handler` interface of the `route-handler` world (wit/): one method per
// kind of event. The context's methods ask the gateway (`ctx.connectionId()`). To
// fail an event, throw a handler error: `throw { tag: "bad-request", val: "why" }`
// (or "forbidden", "too-many-requests", "unavailable", "internal").
//
// The world also offers the route's configuration (`get` and `getAll` from
// "wasi:config/store@0.2.0-rc.1"), the key-value store (`open` from
// "wasi:keyvalue/store@0.2.0-draft") and `fetch()` to the hosts the route's
// `http.allowed_hosts` lists; a method that awaits `fetch` is `async`.
export const handler = {
  onConnect(ctx, request) {
    // stdout and stderr go to the gateway's log, tagged with route and connection.
    console.log(`${ctx.connectionId()} connected from ${ctx.sourceIp()}`);
    return { tag: "accept", val: { subprotocol: undefined, connectionContext: [], headers: [] } };
  },

  onMessage(ctx, payload) {
    // The return value is the route response, sent back to the sender.
    return payload.tag === "text" ? { tag: "text", val: `hello, ${payload.val}` } : payload;
  },

  onDisconnect(ctx, info) {
    console.log(`${ctx.connectionId()} left: ${info.code} ${info.reason}`);
  },
};
