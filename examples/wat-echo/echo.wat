;; Echo in hand-written WebAssembly: answers every message with itself, text
;; or binary, like plugins/echo (Rust). It shows what every toolchain generates
;; for the `route-handler` world: the canonical ABI of `handler.handle`.
;;
;; The core module exports the function under its interface's name, its memory
;; and an allocator; `jco embed` attaches the WIT world and `jco new` wraps it
;; into a component (see README.md).
(module
  (memory (export "memory") 1)

  ;; Where `handle` writes its result: a `result<response, string>`.
  (global $result i32 (i32.const 16))

  ;; Allocations start here and are all released after each call.
  (global $heap_start i32 (i32.const 64))
  (global $heap (mut i32) (i32.const 64))

  ;; The gateway calls this to place the event (and its strings and lists) in
  ;; this memory before each call. A bump allocator: never asked to grow an
  ;; old block when lowering arguments, so `old` and `old_size` go unused.
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

  ;; handle: func(event: event) -> result<response, string>
  ;;
  ;; The event is too big to pass in registers, so it arrives as a pointer to
  ;; its record; the offsets below follow from the field types in
  ;; wit/types.wit. The answer is written at $result and its address returned.
  (func (export "wsgate:gateway/handler@0.1.0#handle") (param $event i32) (result i32)
    ;; ok(response { status: 200, body: none, subprotocol: none, context: [] })
    (memory.fill (global.get $result) (i32.const 0) (i32.const 44))
    (i32.store16 offset=4 (global.get $result) (i32.const 200))
    ;; event.kind (offset 96) is `message` (case 1): body = some(payload),
    ;; pointing at the event's own bytes.
    (if (i32.eq (i32.load8_u offset=96 (local.get $event)) (i32.const 1))
      (then
        ;; option tag: some
        (i32.store8 offset=8 (global.get $result) (i32.const 1))
        ;; payload tag (text or binary), pointer and length
        (i32.store8 offset=12 (global.get $result) (i32.load8_u offset=100 (local.get $event)))
        (i32.store offset=16 (global.get $result) (i32.load offset=104 (local.get $event)))
        (i32.store offset=20 (global.get $result) (i32.load offset=108 (local.get $event)))))
    (global.get $result))

  ;; Called once the gateway has read the result: the event is done with.
  (func (export "cabi_post_wsgate:gateway/handler@0.1.0#handle") (param i32)
    (global.set $heap (global.get $heap_start)))
)
