// {{name}}: a wsgate route handler that greets every text message and
// echoes binary ones.
//
// It implements the `handler` interface of the `route-handler` world in wit/,
// whose C bindings build.sh generates into bindings/ (`route_handler.h`).
// Who frees what:
//
// - what an export is handed (a payload, a disconnect's reason) is the
//   export's: free it, or hand it back in the result;
// - what an export returns is freed with free() once the gateway has read
//   it, so every string, list and byte buffer in a result is malloc'ed;
// - what an import returns is the caller's to free; what it is passed stays
//   the caller's;
// - `ctx` and `request` are lent for the one call, and dropped after it.
//
// To fail an event, set `*err` and return false:
//
//   err->tag = WSGATE_GATEWAY_TYPES_HANDLER_ERROR_BAD_REQUEST;  // or _FORBIDDEN,
//   route_handler_string_dup(&err->val.bad_request, "why");     // _INTERNAL, …
//   return false;

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_handler.h"

bool exports_wsgate_gateway_handler_on_connect(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                               exports_wsgate_gateway_handler_borrow_connect_request_t request,
                                               exports_wsgate_gateway_handler_connect_decision_t *ret,
                                               exports_wsgate_gateway_handler_handler_error_t *err) {
    (void)request;
    (void)err;
    route_handler_string_t id, ip;
    wsgate_gateway_event_method_request_context_connection_id(ctx, &id);
    wsgate_gateway_event_method_request_context_source_ip(ctx, &ip);
    // stdout goes to the gateway's log, tagged with route and connection;
    // it is not a terminal, so flush it by hand.
    printf("%.*s connected from %.*s\n", (int)id.len, id.ptr, (int)ip.len, ip.ptr);
    fflush(stdout);
    route_handler_string_free(&id);
    route_handler_string_free(&ip);
    // Accept: no subprotocol, no connection context, no extra headers.
    ret->tag = EXPORTS_WSGATE_GATEWAY_HANDLER_CONNECT_DECISION_ACCEPT;
    ret->val.accept = (exports_wsgate_gateway_handler_accept_t){0};
    return true;
}

bool exports_wsgate_gateway_handler_on_message(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                               exports_wsgate_gateway_handler_payload_t *payload,
                                               exports_wsgate_gateway_handler_option_payload_t *ret,
                                               exports_wsgate_gateway_handler_handler_error_t *err) {
    (void)ctx;
    (void)err;
    // The result is the route response, sent back to the sender.
    ret->is_some = true;
    if (payload->tag == WSGATE_GATEWAY_TYPES_PAYLOAD_BINARY) {
        // Binary: the payload itself, freed by the bindings once sent.
        ret->val = *payload;
        return true;
    }
    const char *hello = "hello, ";
    route_handler_string_t *name = &payload->val.text;
    size_t length = strlen(hello) + name->len;
    uint8_t *greeting = malloc(length);
    memcpy(greeting, hello, strlen(hello));
    memcpy(greeting + strlen(hello), name->ptr, name->len);
    exports_wsgate_gateway_handler_payload_free(payload);
    ret->val.tag = WSGATE_GATEWAY_TYPES_PAYLOAD_TEXT;
    ret->val.val.text = (route_handler_string_t){.ptr = greeting, .len = length};
    return true;
}

bool exports_wsgate_gateway_handler_on_disconnect(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                                  exports_wsgate_gateway_handler_disconnect_info_t *info,
                                                  exports_wsgate_gateway_handler_handler_error_t *err) {
    (void)err;
    route_handler_string_t id;
    wsgate_gateway_event_method_request_context_connection_id(ctx, &id);
    printf("%.*s left: %u %.*s\n", (int)id.len, id.ptr, info->code, (int)info->reason.len, info->reason.ptr);
    fflush(stdout);
    route_handler_string_free(&id);
    exports_wsgate_gateway_handler_disconnect_info_free(info);
    return true;
}
