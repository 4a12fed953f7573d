// {{name}}: a wsgate route handler that greets every text message and echoes
// binary ones.

// The `handler` interface of the `gateway` world (wit/).
export const handler = {
  handle({ context, kind }) {
    let body;
    if (kind.tag === "connect") {
      // stdout and stderr go to the gateway's log, tagged with route and connection.
      console.log(`${context.connectionId} connected`);
    } else if (kind.tag === "message") {
      const message = kind.val;
      body = message.tag === "text" ? { tag: "text", val: `hello, ${message.val}` } : message;
    }
    // Status 200 accepts a $connect; body is a message's route response.
    return { status: 200, body, subprotocol: undefined, context: [] };
  },
};
