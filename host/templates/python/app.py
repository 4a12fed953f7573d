"""{{name}}: a wsgate route handler that greets every text message and
echoes binary ones."""

from wit_world import exports
from wit_world.imports.wsgate_gateway_types import (
    Event,
    EventKind_Connect,
    EventKind_Message,
    Payload_Text,
    Response,
)


class Handler(exports.Handler):
    """The `handler` interface of the `route-handler` world (wit/)."""

    def handle(self, event: Event) -> Response:
        body = None
        if isinstance(event.kind, EventKind_Connect):
            # stdout and stderr go to the gateway's log, tagged with route and
            # connection.
            print(f"{event.context.connection_id} connected")
        elif isinstance(event.kind, EventKind_Message):
            message = event.kind.value
            if isinstance(message, Payload_Text):
                body = Payload_Text(f"hello, {message.value}")
            else:
                body = message
        # Status 200 accepts a $connect; body is a message's route response.
        return Response(status=200, body=body, subprotocol=None, context=[])
