"""Calculator: the `calc` route does arithmetic on JSON requests.

    > {"action": "calc", "op": "add", "args": [1, 2, 3]}
    < {"result": 6}
    > {"action": "calc", "op": "div", "args": [1, 0]}
    < {"error": "division by zero"}

The module defines class `Handler`, which implements the `handler` interface
of the `route-handler` world; `componentize-py` makes it a component.
"""

import json
import math
import operator
from functools import reduce

from wit_world import exports
from wit_world.imports.wsgate_gateway_types import Event, EventKind_Message, Payload_Text, Response

OPERATIONS = {
    "add": sum,
    "sub": lambda args: reduce(operator.sub, args),
    "mul": math.prod,
    "div": lambda args: reduce(operator.truediv, args),
}


class Handler(exports.Handler):
    def handle(self, event: Event) -> Response:
        body = None
        if isinstance(event.kind, EventKind_Message):
            # Text or binary: json.loads reads both.
            answer = calculate(event.kind.value.value)
            body = Payload_Text(json.dumps(answer))
        # $connect and $disconnect get a plain 200: accepted, nothing to say.
        return Response(status=200, body=body, subprotocol=None, context=[])


def calculate(message: str | bytes) -> dict:
    try:
        request = json.loads(message)
        op, args = request["op"], request["args"]
    except (ValueError, TypeError, KeyError):
        return {"error": 'send {"action": "calc", "op": "add", "args": [1, 2]}'}
    if op not in OPERATIONS:
        return {"error": f"unknown op {op!r}; try one of {', '.join(OPERATIONS)}"}
    if not isinstance(args, list) or not args or not all(map(is_number, args)):
        return {"error": "args must be a non-empty list of numbers"}
    try:
        result = OPERATIONS[op](args)
    except ZeroDivisionError:
        return {"error": "division by zero"}
    # stdout goes to the gateway's log, tagged with route and connection.
    print(f"calc {op} {args} = {result}")
    return {"result": result}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
