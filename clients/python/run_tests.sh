#!/usr/bin/env bash
# Python client tests against the real driftscope binary.
# Makes a venv ($DRIFTSCOPE_PY_VENV, default clients/python/.venv), installs the client with its
# pandas and arrow extras and pytest, runs pytest; the exit code is pytest's.
# The binary: $DRIFTSCOPE_BIN, default $CARGO_TARGET_DIR/debug/driftscope (build it first,
# e.g. `cargo build --locked`); CARGO_TARGET_DIR defaults to ~/.cache/driftscope-target.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${DRIFTSCOPE_PY_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "--- creating venv $venv"
  "$python" -m venv "$venv"
fi
echo "--- installing driftscope-client[pandas,arrow] and pytest"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$here[pandas,arrow]" pytest

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftscope-target}"
export DRIFTSCOPE_BIN="${DRIFTSCOPE_BIN:-$CARGO_TARGET_DIR/debug/driftscope}"
echo "--- pytest (driftscope binary: $DRIFTSCOPE_BIN)"
cd "$here"
exec "$venv/bin/python" -m pytest "$@"
