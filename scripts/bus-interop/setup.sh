#!/usr/bin/env bash
# Create (idempotently) a venv holding DECNET's real bus server for the
# interop tests, and print its python path. Usage:
#   export DECNET_BUS_PYTHON="$(scripts/bus-interop/setup.sh [VENV_DIR])"
# Default VENV_DIR: target/bus-interop-venv. Needs python3 (with venv) and PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/../../target/bus-interop-venv}"
py="$venv/bin/python"
check() { DECNET_CONFIG=/nonexistent "$py" -c 'import orjson, decnet.bus.worker, decnet.bus.unix_client' 2>/dev/null; }
if [ ! -x "$py" ] || ! check; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check orjson >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps decnet==1.0.0 >&2
    check || { echo "setup.sh: venv at $venv cannot import decnet.bus" >&2; exit 1; }
fi
cd "$(dirname "$py")" && echo "$(pwd)/$(basename "$py")"
