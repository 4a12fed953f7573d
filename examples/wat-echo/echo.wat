;; Echo in hand-written WebAssembly: answers every message with itself, text
;; or binary, like plugins/echo (Rust), and accepts every connection. It shows
;; what every toolchain generates for wsgate:gateway@0.2.0: the canonical ABI
;; of the `handler` exports.
;;
;; The gateway lends the request context (and, for `$connect`, the upgrade
;; request) as handles, plain i32s. A borrowed handle must be dropped before
;; the call returns, or the call traps ("borrow handles still remain at the
;; end of the call"). `cargo xtask plugins` embeds the `gateway` world of
;; wit/ and makes it a component (`wat-echo.wasm`, installed as
;; examples/wat-echo/plugins/$default.wasm); see README.md for wasm-tools.
(module
  (import "wsgate:gateway/event@0.2.0" "[resource-drop]request-context"
    (func $drop_context (param i32)))
  (import "wsgate:gateway/event@0.2.0" "[resource-drop]connect-request"
    (func $drop_request (param i32)))
  (memory (export "memory") 1)

  ;; Where each export writes its result (all are returned in memory).
  (global $result i32 (i32.const 16))

  ;; Allocations start here and are all released after each call.
  (global $heap_start i32 (i32.const 64))
  (global $heap (mut i32) (i32.const 64))

  ;; The gateway calls this to place the payload (or the close reason) in this
  ;; memory. A bump allocator, growing the memory by as many pages as needed.
  (func (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
    (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.sub
                  (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1))
                  (memory.size)))
              (i32.const -1))
          (then unreachable))))
    (local.get $ptr))

  ;; on-connect: func(ctx, request) -> result<connect-decision, handler-error>
  ;; ok(accept { subprotocol: none, connection-context: [], headers: [] }) is
  ;; all zeros.
  (func (export "wsgate:gateway/handler@0.2.0#on-connect")
    (param $context i32) (param $request i32) (result i32)
    (call $drop_context (local.get $context))
    (call $drop_request (local.get $request))
    (memory.fill (global.get $result) (i32.const 0) (i32.const 36))
    (global.get $result))

  ;; on-message: func(ctx, payload) -> result<option<payload>, handler-error>
  ;; The payload arrives flattened (case, pointer, length); the answer is
  ;; ok(some(payload)), pointing at the bytes the gateway placed here.
  (func (export "wsgate:gateway/handler@0.2.0#on-message")
    (param $context i32) (param $case i32) (param $ptr i32) (param $len i32) (result i32)
    (call $drop_context (local.get $context))
    (i32.store8 offset=0 (global.get $result) (i32.const 0))
    (i32.store8 offset=4 (global.get $result) (i32.const 1))
    (i32.store8 offset=8 (global.get $result) (local.get $case))
    (i32.store offset=12 (global.get $result) (local.get $ptr))
    (i32.store offset=16 (global.get $result) (local.get $len))
    (global.get $result))

  ;; on-disconnect: func(ctx, info) -> result<_, handler-error>; info arrives
  ;; flattened (code, reason pointer, reason length, initiator). ok.
  (func (export "wsgate:gateway/handler@0.2.0#on-disconnect")
    (param $context i32) (param $code i32) (param $reason i32) (param $reason_len i32)
    (param $initiator i32) (result i32)
    (call $drop_context (local.get $context))
    (i32.store8 (global.get $result) (i32.const 0))
    (global.get $result))

  ;; Called once the gateway has read a result: the call is done with.
  (func $release (param i32) (global.set $heap (global.get $heap_start)))
  (export "cabi_post_wsgate:gateway/handler@0.2.0#on-connect" (func $release))
  (export "cabi_post_wsgate:gateway/handler@0.2.0#on-message" (func $release))
  (export "cabi_post_wsgate:gateway/handler@0.2.0#on-disconnect" (func $release))
)
