#!/bin/sh
# Builds {{name}}.wasm from handler.c (needs clang, wasm-ld, wasi-libc,
# wit-bindgen and wasm-component-ld: see README.md).
set -eu
cd "$(dirname "$0")"
# The linker that makes a component: on PATH, else the one Rust's
# wasm32-wasip2 target carries.
linker=$(command -v wasm-component-ld) ||
    linker=$(ls "$(rustc --print sysroot 2>/dev/null)"/lib/rustlib/*/bin/wasm-component-ld 2>/dev/null) || {
    echo "no wasm-component-ld: rustup target add wasm32-wasip2 (or cargo install --locked wasm-component-ld)" >&2
    exit 1
}
wit-bindgen c --autodrop-borrows yes --world route-handler --out-dir bindings wit
# Compiling and linking apart: an optimising link would have clang run any
# `wasm-opt` on PATH over the output, which is a component by then.
clang --target=wasm32-wasi -O2 -Wall -Wextra -I bindings -c handler.c -o bindings/handler.o
clang --target=wasm32-wasi -O2 -c bindings/route_handler.c -o bindings/route_handler.o
clang --target=wasm32-wasi -mexec-model=reactor -fuse-ld="$linker" -o {{name}}.wasm \
    bindings/handler.o bindings/route_handler.o bindings/route_handler_component_type.o
