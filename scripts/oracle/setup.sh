#!/usr/bin/env bash
# Build the reference oracle: a venv holding DECNET's Python BEHAVE-SHELL
# engine (PyPI decnet==1.0.0 + behave-core 0.1.1 + behave-shell 0.1.4) and a
# shim directory that makes `import decnet.profiler.behave_shell` work without
# DECNET's worker stack (engine.md §10).
#
#   scripts/oracle/setup.sh [VENV_DIR]        (default: .venv-ref in the repo root)
#
# Layout produced:
#   $V/                 the venv
#   $V/shim/decnet/...  the shim package; put $V/shim first on PYTHONPATH
#
# Idempotent: re-running re-checks the install and rebuilds the shim.
# PYTHON selects the interpreter that creates the venv (default python3.11 when
# on PATH, else python3; the reference is pinned to Python 3.11, engine.md §8).
set -euo pipefail

die() { echo "oracle/setup: ERROR: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
V="${1:-$ROOT/.venv-ref}"
if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif command -v python3.11 >/dev/null; then PY=python3.11
else PY=python3
fi

command -v "$PY" >/dev/null || die "no $PY on PATH"
pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$pyver" != "3.11" ]; then
    echo "oracle/setup: WARNING: $PY is Python $pyver; the reference was pinned on 3.11 (engine.md §8)" >&2
fi

if [ ! -x "$V/bin/python" ]; then
    echo "oracle/setup: creating venv $V"
    "$PY" -m venv "$V" || die "python -m venv $V failed"
fi
V="$(cd "$V" && pwd)"

# The two install commands. pip's resolver prints ERROR lines about decnet's
# other (unneeded) requirements on the second one; that is expected, so only
# the exit codes are checked, and `pip check` is deliberately not run.
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$V/bin/pip" install --no-deps decnet==1.0.0 \
    || die "pip install --no-deps decnet==1.0.0 failed"
"$V/bin/pip" install 'pydantic>=2.6' behave-core==0.1.1 behave-shell==0.1.4 \
    || die "pip install pydantic/behave-core/behave-shell failed"

purelib="$("$V/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
[ -d "$purelib/decnet/profiler/behave_shell" ] || die "decnet/profiler/behave_shell missing under $purelib"
[ -d "$purelib/decnet/util" ] || die "decnet/util missing under $purelib"

# Shim: empty package inits, a logging stub with get_logger(), and links to
# the two real directories the engine needs.
S="$V/shim"
rm -rf "$S"
mkdir -p "$S/decnet/profiler" "$S/decnet/logging"
: > "$S/decnet/__init__.py"
: > "$S/decnet/profiler/__init__.py"
cat > "$S/decnet/logging/__init__.py" <<'EOF'
"""Shim for the reference oracle: DECNET's logging package pulls in its
forwarder stack; the engine only needs get_logger()."""
import logging


def get_logger(name):
    return logging.getLogger(name)
EOF
ln -s "$purelib/decnet/profiler/behave_shell" "$S/decnet/profiler/behave_shell"
ln -s "$purelib/decnet/util" "$S/decnet/util"

# Smoke: the engine imports through the shim, not through the real package.
PYTHONPATH="$S" "$V/bin/python" - <<'EOF' || die "engine import through the shim failed"
import decnet.profiler.behave_shell as bs
from decnet.profiler.behave_shell._parse import parse_shard_line
import decnet
assert bs.extract_session and parse_shard_line
assert "shim" in decnet.__file__, decnet.__file__
obs = list(bs.extract_session([(0.0, "i", "ls\r"), (0.5, "o", "x\r\n")], sid="smoke"))
assert obs, "reference produced no observations on the smoke session"
EOF
echo "oracle/setup: ok  venv=$V  PYTHONPATH=$S"
