"""Calculator: the `calc` route does arithmetic on JSON requests.

    > {"action": "calc", "op": "add", "args": [1, 2, 3]}
    < {"result": 6}
    > {"action": "calc", "op": "div", "args": [1, 0]}
    < {"message": "division by zero", "connectionId": "…", "requestId": "…"}

The module defines class `Handler`, which implements the `handler` interface
of the `route-handler` world (wit/, wsgate:gateway@0.2.0); `componentize-py`
makes it a component.
"""

import json
import math
import operator
from functools import reduce

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.handler import Accept, ConnectDecision, ConnectDecision_Accept
from wit_world.imports.event import ConnectRequest, RequestContext
from wit_world.imports.wsgate_gateway_types import (
    DisconnectInfo,
    HandlerError_BadRequest,
    Payload,
    Payload_Text,
)

OPERATIONS = {
    "add": sum,
    "sub": lambda args: reduce(operator.sub, args),
    "mul": math.prod,
    "div": lambda args: reduce(operator.truediv, args),
}


class Handler(exports.Handler):
    def on_message(self, ctx: RequestContext, payload: Payload) -> Payload | None:
        # Text or binary: json.loads reads both.
        return Payload_Text(json.dumps({"result": calculate(payload.value)}))

    # Bound to `calc` alone, the calculator never sees the other two events;
    # every export must exist all the same.
    def on_connect(self, ctx: RequestContext, request: ConnectRequest) -> ConnectDecision:
        return ConnectDecision_Accept(Accept(subprotocol=None, connection_context=[], headers=[]))

    def on_disconnect(self, ctx: RequestContext, info: DisconnectInfo) -> None:
        pass


def calculate(message: str | bytes) -> float:
    """The result of a request, or `bad-request`: the sender gets the text in
    an error frame and stays connected."""
    try:
        request = json.loads(message)
        op, args = request["op"], request["args"]
    except (ValueError, TypeError, KeyError):
        raise Err(HandlerError_BadRequest('send {"action": "calc", "op": "add", "args": [1, 2]}'))
    if op not in OPERATIONS:
        raise Err(HandlerError_BadRequest(f"unknown op {op!r}; try one of {', '.join(OPERATIONS)}"))
    if not isinstance(args, list) or not args or not all(map(is_number, args)):
        raise Err(HandlerError_BadRequest("args must be a non-empty list of numbers"))
    try:
        result = OPERATIONS[op](args)
    except ZeroDivisionError:
        raise Err(HandlerError_BadRequest("division by zero"))
    # stdout goes to the gateway's log, tagged with route and connection.
    print(f"calc {op} {args} = {result}")
    return result


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
