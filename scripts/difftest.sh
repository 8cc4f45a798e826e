#!/usr/bin/env bash
# Differential test of our extractor against the reference Python engine.
#
#   scripts/difftest.sh [BIN] [difftest.py options...]
#
# BIN defaults to target/release/decnet-profiler (or $CARGO_TARGET_DIR/release/...).
# The oracle venv is $ORACLE_VENV (default .venv-ref); it is built with
# scripts/oracle/setup.sh when missing. See scripts/difftest.py --help.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ORACLE_VENV="${ORACLE_VENV:-$ROOT/.venv-ref}"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    BIN="$1"; shift
else
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/decnet-profiler"
fi
if [ ! -f "$ORACLE_VENV/shim/decnet/profiler/behave_shell/__init__.py" ]; then
    "$ROOT/scripts/oracle/setup.sh" "$ORACLE_VENV"
fi
exec python3 "$ROOT/scripts/difftest.py" --bin "$BIN" "$@"
