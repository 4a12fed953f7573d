#!/bin/sh
# Builds {{name}}.wasm from app.py (needs `pip install -r requirements.txt`).
set -eu
cd "$(dirname "$0")"
componentize-py --wit-path wit --world route-handler componentize app -o {{name}}.wasm
