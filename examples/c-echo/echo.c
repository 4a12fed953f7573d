// Echo with rooms, in C: a route handler for `$connect` and `$default`.
//
//   ws://localhost:8080/?room=kitchen    joins the group `kitchen` (without
//                                        `room`, the `default_room` of the
//                                        configuration)
//   > hello                              < hello  (the route response: every
//                                        text or binary message comes back)
//   > /shout dinner is ready             every member of `kitchen` gets
//                                        < kitchen #1: dinner is ready
//
// The `#1` counts the room's shouts in the key-value store, so every gateway
// sharing the store counts together.
//
// `route_handler.h` is generated from the `route-handler` world of wit/ by
// `wit-bindgen c --autodrop-borrows yes`. Who frees what (the rules of
// wit-bindgen's C bindings):
//
// - what an export is handed (a payload, a disconnect's reason) is the
//   export's: free it, or hand it back in the result;
// - what an export returns is freed with free() after the gateway read it, so
//   every string, list and byte buffer in a result is malloc'ed;
// - what an import returns is the caller's to free; what it is passed stays
//   the caller's (the import copies it);
// - the borrowed `ctx` and `request` are dropped after the export returns
//   (`--autodrop-borrows yes`), and are valid only during the call.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_handler.h"

// The marker of a message for the whole room.
#define SHOUT "/shout "
// The store bucket of the shout counters.
#define BUCKET "c-echo"

typedef route_handler_string_t string_t;

// Fails the event with a handler error of `kind` (a
// WSGATE_GATEWAY_TYPES_HANDLER_ERROR_* constant): the text is copied, since
// the bindings free it once the gateway has read it.
static bool fail(exports_wsgate_gateway_handler_handler_error_t *err, uint8_t kind, const char *text) {
    err->tag = kind;
    // Every case of `handler-error` holds one string, at the same place.
    route_handler_string_dup(&err->val.bad_request, text);
    return false;
}

// A configuration value from `wsgate.toml` (the route's `config` table over
// `[config]`), or false when it is not set or cannot be read.
static bool config_value(const char *key, string_t *value) {
    string_t name;
    route_handler_string_set(&name, key);
    route_handler_option_string_t found;
    wasi_config_store_error_t error;
    if (!wasi_config_store_get(&name, &found, &error)) {
        wasi_config_store_error_free(&error);
        return false;
    }
    *value = found.val;
    return found.is_some;
}

// Counts one more shout in `room`; 0 when the store cannot be reached (the
// shout goes out all the same).
static uint64_t count_shout(const string_t *room) {
    string_t bucket_name;
    route_handler_string_set(&bucket_name, BUCKET);
    wasi_keyvalue_store_own_bucket_t bucket;
    wasi_keyvalue_store_error_t open_error;
    if (!wasi_keyvalue_store_open(&bucket_name, &bucket, &open_error)) {
        wasi_keyvalue_store_error_free(&open_error);
        return 0;
    }
    string_t key;
    route_handler_string_dup_n(&key, (const char *)room->ptr, room->len);
    uint64_t count = 0;
    wasi_keyvalue_atomics_error_t error;
    if (!wasi_keyvalue_atomics_increment(wasi_keyvalue_store_borrow_bucket(bucket), &key, 1, &count,
                                         &error)) {
        wasi_keyvalue_atomics_error_free(&error);
        count = 0;
    }
    route_handler_string_free(&key);
    wasi_keyvalue_store_bucket_drop_own(bucket);
    return count;
}

bool exports_wsgate_gateway_handler_on_connect(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                               exports_wsgate_gateway_handler_borrow_connect_request_t request,
                                               exports_wsgate_gateway_handler_connect_decision_t *ret,
                                               exports_wsgate_gateway_handler_handler_error_t *err) {
    // The room: `?room=`, else the configured default, else `lobby`. Each
    // getter hands over a string of ours, which the connection context
    // below takes over.
    string_t param;
    route_handler_string_set(&param, "room");
    string_t room;
    if (!wsgate_gateway_event_method_connect_request_query_param(request, &param, &room) &&
        !config_value("default_room", &room)) {
        route_handler_string_dup(&room, "lobby");
    }
    if (room.len == 0) {
        route_handler_string_free(&room);
        return fail(err, WSGATE_GATEWAY_TYPES_HANDLER_ERROR_BAD_REQUEST, "the room needs a name");
    }

    string_t id;
    wsgate_gateway_event_method_request_context_connection_id(ctx, &id);
    wsgate_gateway_groups_send_error_t send_error;
    bool joined = wsgate_gateway_groups_join(&room, &id, &send_error);
    // stdout goes to the gateway's log, tagged with route and connection;
    // it is not a terminal, so it is flushed by hand.
    printf("%.*s joined %.*s\n", (int)id.len, id.ptr, (int)room.len, room.ptr);
    fflush(stdout);
    route_handler_string_free(&id);
    if (!joined) {
        route_handler_string_free(&room);
        return fail(err, WSGATE_GATEWAY_TYPES_HANDLER_ERROR_UNAVAILABLE, "cannot join the room now");
    }

    // Accept, remembering the room in the connection context: one malloc'ed
    // key/value pair, freed by the bindings after the gateway read it.
    route_handler_tuple2_string_string_t *context = malloc(sizeof *context);
    route_handler_string_dup(&context->f0, "room");
    context->f1 = room;
    ret->tag = EXPORTS_WSGATE_GATEWAY_HANDLER_CONNECT_DECISION_ACCEPT;
    ret->val.accept = (exports_wsgate_gateway_handler_accept_t){
        .subprotocol = {.is_some = false},
        .connection_context = {.ptr = context, .len = 1},
        .headers = {.ptr = NULL, .len = 0},
    };
    return true;
}

// Sends `text` (without the marker) to every member of the sender's room as
// `ROOM #N: text`.
static bool shout(exports_wsgate_gateway_handler_borrow_request_context_t ctx, const string_t *text,
                  exports_wsgate_gateway_handler_handler_error_t *err) {
    size_t marker = strlen(SHOUT);
    if (text->len == marker) {
        return fail(err, WSGATE_GATEWAY_TYPES_HANDLER_ERROR_BAD_REQUEST, "nothing to shout");
    }
    string_t key;
    route_handler_string_set(&key, "room");
    string_t room;
    if (!wsgate_gateway_event_method_request_context_connection_context_value(ctx, &key, &room)) {
        // Bound to `$default` alone, the handler never saw the `$connect`.
        return fail(err, WSGATE_GATEWAY_TYPES_HANDLER_ERROR_BAD_REQUEST, "connect through this handler to shout");
    }
    uint64_t count = count_shout(&room);

    int size = snprintf(NULL, 0, "%.*s #%llu: %.*s", (int)room.len, room.ptr, (unsigned long long)count,
                        (int)(text->len - marker), text->ptr + marker);
    char *line = malloc((size_t)size + 1);
    snprintf(line, (size_t)size + 1, "%.*s #%llu: %.*s", (int)room.len, room.ptr, (unsigned long long)count,
             (int)(text->len - marker), text->ptr + marker);
    wsgate_gateway_groups_payload_t message = {.tag = WSGATE_GATEWAY_TYPES_PAYLOAD_TEXT};
    route_handler_string_set(&message.val.text, line);

    wsgate_gateway_groups_send_error_t send_error;
    bool sent = wsgate_gateway_groups_send(&room, &message, NULL, &send_error);
    free(line);
    route_handler_string_free(&room);
    if (!sent) {
        return fail(err, WSGATE_GATEWAY_TYPES_HANDLER_ERROR_UNAVAILABLE, "the room cannot be reached now");
    }
    return true;
}

bool exports_wsgate_gateway_handler_on_message(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                               exports_wsgate_gateway_handler_payload_t *payload,
                                               exports_wsgate_gateway_handler_option_payload_t *ret,
                                               exports_wsgate_gateway_handler_handler_error_t *err) {
    const string_t *text = &payload->val.text;
    if (payload->tag == WSGATE_GATEWAY_TYPES_PAYLOAD_TEXT && text->len >= strlen(SHOUT) &&
        memcmp(text->ptr, SHOUT, strlen(SHOUT)) == 0) {
        bool shouted = shout(ctx, text, err);
        // The payload is ours and goes nowhere: free it. No route response.
        exports_wsgate_gateway_handler_payload_free(payload);
        ret->is_some = false;
        return shouted;
    }
    // The echo: the payload itself is the route response, text or binary.
    // The bindings free it after the gateway has sent it.
    ret->is_some = true;
    ret->val = *payload;
    return true;
}

bool exports_wsgate_gateway_handler_on_disconnect(exports_wsgate_gateway_handler_borrow_request_context_t ctx,
                                                  exports_wsgate_gateway_handler_disconnect_info_t *info,
                                                  exports_wsgate_gateway_handler_handler_error_t *err) {
    // The gateway takes the connection out of its groups; only the reason,
    // which is ours, needs freeing.
    (void)ctx;
    (void)err;
    exports_wsgate_gateway_handler_disconnect_info_free(info);
    return true;
}
