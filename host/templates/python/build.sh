#!/bin/sh
# Builds {{name}}.wasm from app.py with componentize-py: the one on PATH if
# there is one, else the version requirements.txt pins, installed into .venv.
set -eu
cd "$(dirname "$0")"
if ! command -v componentize-py >/dev/null 2>&1; then
    if [ ! -x .venv/bin/componentize-py ]; then
        echo "installing componentize-py (requirements.txt) into .venv" >&2
        python3 -m venv .venv
        .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    fi
    PATH="$PWD/.venv/bin:$PATH"
fi
componentize-py --wit-path wit --world route-handler componentize app -o {{name}}.wasm
