"""{{name}}: a wsgate route handler that greets every text message and
echoes binary ones."""

from wit_world import exports
from wit_world.exports.handler import Accept, ConnectDecision, ConnectDecision_Accept
from wit_world.imports.event import ConnectRequest, RequestContext
from wit_world.imports.wsgate_gateway_types import DisconnectInfo, Payload, Payload_Text


class Handler(exports.Handler):
    """The `handler` interface of the `route-handler` world (wit/): one method
    per kind of event. To fail an event, raise
    `componentize_py_types.Err(HandlerError_BadRequest("why"))` (or
    `Forbidden`, `TooManyRequests`, `Unavailable`, `Internal`)."""

    def on_connect(self, ctx: RequestContext, request: ConnectRequest) -> ConnectDecision:
        # stdout and stderr go to the gateway's log, tagged with route and
        # connection.
        print(f"{ctx.connection_id()} connected from {ctx.source_ip()}")
        return ConnectDecision_Accept(Accept(subprotocol=None, connection_context=[], headers=[]))

    def on_message(self, ctx: RequestContext, payload: Payload) -> Payload | None:
        # The return value is the route response, sent back to the sender.
        if isinstance(payload, Payload_Text):
            return Payload_Text(f"hello, {payload.value}")
        return payload

    def on_disconnect(self, ctx: RequestContext, info: DisconnectInfo) -> None:
        print(f"{ctx.connection_id()} left: {info.code} {info.reason}")
