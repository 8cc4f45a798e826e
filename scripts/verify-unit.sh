#!/usr/bin/env bash
# Tests deploy/decnet-profiler.service and the coexistence recipe in
# deploy/README.md against a real systemd.
#
# 1. Static: `systemd-analyze verify` on the unit with ExecStart pointing at
#    the built binary; any warning fails the check.
# 2. Live, in a throw-away systemd: a private PID/mount/UTS/cgroup namespace
#    (unshare) runs /lib/systemd/systemd as its PID 1 over a unit directory of
#    our own, with users and groups from a private copy of /etc/passwd and
#    /etc/group. Nothing on the host is started, stopped or installed, and
#    killing that PID 1 ends everything inside. Checks:
#    a. DECNET 1.2's fleet unit (Conflicts=decnet-profiler.service) stops our
#       unit when it starts, and an empty `Conflicts=` drop-in does not help;
#    b. with deploy/coexist-fleet-heavy.sh's override both stay active, and
#       its --check notices a changed source;
#    c. the real daemon under the real unit (hardening, User=, Type=notify,
#       WatchdogSec=) becomes active, stays up past several watchdog periods,
#       and stops cleanly (skip with DECNET_VERIFY_UNIT_DAEMON=0).
#
# Environment:
#   DECNET_PROFILER_BIN   the built binary (default: target/{release,debug}/
#                         decnet-profiler under $CARGO_TARGET_DIR or ./target;
#                         built with cargo when absent)
#   CI=true               missing tools are installed (apt-get) or fail the
#                         run instead of skipping the live part
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
unit_src="$root/deploy/decnet-profiler.service"
ci=${CI:-false}
fails=0
passes=0

say() { printf 'verify-unit: %s\n' "$*"; }
ok() { passes=$((passes + 1)); say "ok: $*"; }
bad() { fails=$((fails + 1)); say "FAIL: $*"; }

need_systemd_tools() {
    if command -v systemd-analyze >/dev/null 2>&1 && [ -x /lib/systemd/systemd ]; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing systemd (for systemd-analyze and a sandboxed PID 1)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd >/dev/null; }
    fi
    command -v systemd-analyze >/dev/null 2>&1
}

find_binary() {
    if [ -n "${DECNET_PROFILER_BIN:-}" ]; then
        printf '%s\n' "$DECNET_PROFILER_BIN"
        return
    fi
    local tdir=${CARGO_TARGET_DIR:-$root/target}
    for p in "$tdir/release/decnet-profiler" "$tdir/debug/decnet-profiler"; do
        if [ -x "$p" ]; then
            printf '%s\n' "$p"
            return
        fi
    done
    (cd "$root" && cargo build -q -p decnet-profiler >&2)
    printf '%s\n' "$tdir/debug/decnet-profiler"
}

if ! need_systemd_tools; then
    if [ "$ci" = true ]; then
        say "FAIL: systemd-analyze unavailable and could not be installed"
        exit 1
    fi
    say "skipped: systemd-analyze unavailable"
    exit 0
fi

bin=$(find_binary)
[ -x "$bin" ] || { say "FAIL: no executable at $bin"; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
say "binary: $bin"

work=$(mktemp -d /tmp/verify-unit.XXXXXX)
sd_pid=""
cleanup() {
    if [ -n "$sd_pid" ]; then
        kill -KILL "$sd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- 1. static verification -------------------------------------------------
mkdir -p "$work/static"
sed "s#^ExecStart=/usr/local/bin/decnet-profiler #ExecStart=$bin #" \
    "$unit_src" >"$work/static/decnet-profiler.service"
if ! grep -q "^ExecStart=$bin run" "$work/static/decnet-profiler.service"; then
    bad "ExecStart line not in the expected form"
fi
out=$(cd "$work/static" && systemd-analyze verify --man=no ./decnet-profiler.service 2>&1) \
    && rc=0 || rc=$?
if [ "$rc" = 0 ] && [ -z "$out" ]; then
    ok "systemd-analyze verify: clean"
else
    bad "systemd-analyze verify (rc=$rc): $out"
fi
# Required settings, so a later edit cannot silently drop one.
for key in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'TimeoutStopSec=' \
    'User=decnet-profiler' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
    'Environment=DECNET_BUS_SOCKET=/run/decnet/bus.sock' 'SupplementaryGroups=' \
    'ReadOnlyPaths=/var/lib/decnet/artifacts' 'StateDirectory='; do
    if grep -q "^$key" "$unit_src"; then ok "unit has $key"; else bad "unit lacks $key"; fi
done
if grep -q '^Conflicts=' "$unit_src"; then bad "unit must not declare Conflicts="; fi

# --- 2. live checks in a sandboxed systemd ------------------------------------
can_sandbox() {
    [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1 \
        && unshare -fpmuC --mount-proc true 2>/dev/null
}
if ! can_sandbox; then
    if [ "$ci" = true ]; then
        bad "cannot start a sandboxed systemd (needs root and unshare)"
    else
        say "skipped live checks: needs root and unshare"
    fi
    say "$passes passed, $fails failed"
    [ "$fails" = 0 ]
    exit
fi

control="$work/system.control"   # outranks $system, like /etc/systemd/system.control
system="$work/system"            # stands for /etc/systemd/system
mkdir -p "$control" "$system" "$work/etc"

# Stub targets: the sandbox must not pull in the host's real units.
for t in sandbox sysinit basic shutdown local-fs local-fs-pre swap umount \
    network network-online multi-user timers sockets paths slices; do
    printf '[Unit]\nDescription=sandbox stub %s\n' "$t" >"$system/$t.target"
done

# DECNET 1.2's fleet unit, reduced to what matters here: its [Unit] relations
# as shipped, and a stand-in process.
cat >"$system/decnet-fleet-heavy.service" <<'EOF'
[Unit]
Description=DECNET Heavy Fleet (stand-in)
After=network-online.target decnet-bus.service
Wants=network-online.target decnet-bus.service
Conflicts=decnet-profiler.service decnet-ttp.service

[Service]
Type=simple
ExecStart=/bin/sleep infinity
Restart=on-failure
TimeoutStopSec=25

[Install]
WantedBy=multi-user.target
EOF
cat >"$system/decnet-bus.service" <<'EOF'
[Unit]
Description=DECNET bus (stand-in)
[Service]
ExecStart=/bin/sleep infinity
EOF

cp "$unit_src" "$system/decnet-profiler.service"
sed -i "s#^ExecStart=/usr/local/bin/decnet-profiler #ExecStart=$bin #" "$system/decnet-profiler.service"
# For checks a/b the daemon itself is replaced by a stand-in process; the
# unit's hardening, user and groups stay as shipped.
mkdir -p "$system/decnet-profiler.service.d"
cat >"$system/decnet-profiler.service.d/standin.conf" <<'EOF'
[Service]
Type=simple
ExecStart=
ExecStart=/bin/sleep infinity
WatchdogSec=0
EOF

# Private users and groups for User=/Group=/SupplementaryGroups=.
cp /etc/passwd "$work/etc/passwd"
cp /etc/group "$work/etc/group"
echo 'decnet-profiler:x:990:990:decnet-profiler:/nonexistent:/usr/sbin/nologin' >>"$work/etc/passwd"
{
    echo 'decnet-profiler:x:990:'
    grep -q '^decnet:' /etc/group || echo 'decnet:x:991:'
    grep -q '^decnet-shards:' /etc/group || echo 'decnet-shards:x:992:'
} >>"$work/etc/group"
mkdir -p "$work/artifacts"

# The sandbox's mount namespace gets the private passwd/group and an
# artifacts root (ReadOnlyPaths= must exist), then execs systemd as PID 1.
cat >"$work/pid1.sh" <<EOF
#!/bin/sh
set -e
mount --bind "$work/etc/passwd" /etc/passwd
mount --bind "$work/etc/group" /etc/group
mount -t tmpfs tmpfs /var/lib
mkdir -p /var/lib/decnet/artifacts
mkdir -p /run/decnet
exec env SYSTEMD_UNIT_PATH="$control:$system" /lib/systemd/systemd --system --unit=sandbox.target
EOF
chmod +x "$work/pid1.sh"
unshare -fpmuC --mount-proc --propagation private "$work/pid1.sh" >"$work/pid1.log" 2>&1 &
unshare_pid=$!
for _ in $(seq 1 50); do
    sd_pid=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
    if [ -n "$sd_pid" ] && nsenter -t "$sd_pid" -m -p systemctl is-system-running >/dev/null 2>&1; then
        break
    fi
    state=$(nsenter -t "${sd_pid:-0}" -m -p systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 0.2
done
sctl() { nsenter -t "$sd_pid" -m -p systemctl "$@"; }
if [ -z "$sd_pid" ] || ! sctl --version >/dev/null 2>&1; then
    bad "sandboxed systemd did not come up: $(cat "$work/pid1.log")"
    say "$passes passed, $fails failed"
    exit 1
fi
say "sandboxed systemd is up (pid $sd_pid)"

active() { [ "$(sctl is-active "$1" 2>/dev/null || true)" = active ]; }
wait_active() {
    for _ in $(seq 1 50); do active "$1" && return 0; sleep 0.1; done
    return 1
}

# a. the conflict as DECNET ships it
if sctl start decnet-profiler.service && wait_active decnet-profiler.service; then
    # Right after the fork the child is still systemd's (uid 0) until it execs.
    uids="" groups=""
    for _ in $(seq 1 30); do
        main_pid=$(sctl show -p MainPID --value decnet-profiler.service)
        uids=$(nsenter -t "$sd_pid" -m -p awk '/^Uid:/ {print $2}' "/proc/$main_pid/status" 2>/dev/null || true)
        groups=$(nsenter -t "$sd_pid" -m -p awk '/^Groups:/ {$1=""; print}' "/proc/$main_pid/status" 2>/dev/null || true)
        [ "$uids" = 990 ] && break
        sleep 0.1
    done
    if [ "$uids" = 990 ]; then
        ok "hardened unit starts as User=decnet-profiler (uid $uids, groups$groups)"
    else
        bad "unit process runs as uid '$uids', not decnet-profiler"
    fi
else
    bad "unit did not start: $(sctl status decnet-profiler.service 2>&1 | tail -n 5)"
fi
sctl start decnet-fleet-heavy.service || true
if active decnet-fleet-heavy.service && ! active decnet-profiler.service; then
    ok "without the override, starting the fleet unit stops decnet-profiler"
else
    bad "expected the shipped Conflicts= to stop decnet-profiler"
fi
mkdir -p "$system/decnet-fleet-heavy.service.d"
printf '[Unit]\nConflicts=\n' >"$system/decnet-fleet-heavy.service.d/reset.conf"
sctl daemon-reload
sctl start decnet-profiler.service || true
if active decnet-profiler.service && ! active decnet-fleet-heavy.service; then
    ok "an empty Conflicts= drop-in does not lift the conflict (systemd keeps dependency lists)"
else
    bad "unexpected: empty Conflicts= drop-in changed the conflict"
fi
rm -rf "$system/decnet-fleet-heavy.service.d"

# b. the override from deploy/coexist-fleet-heavy.sh
if sh "$root/deploy/coexist-fleet-heavy.sh" --no-reload \
    "$system/decnet-fleet-heavy.service" "$control" >/dev/null; then
    ok "coexist-fleet-heavy.sh wrote the override"
else
    bad "coexist-fleet-heavy.sh failed"
fi
sctl daemon-reload
sctl start decnet-fleet-heavy.service decnet-profiler.service || true
sleep 0.5
if active decnet-fleet-heavy.service && active decnet-profiler.service; then
    ok "with the override, decnet-fleet-heavy and decnet-profiler run side by side"
else
    bad "override did not lift the conflict: fleet=$(sctl is-active decnet-fleet-heavy.service) profiler=$(sctl is-active decnet-profiler.service)"
fi
conf=$(sctl show -p Conflicts --value decnet-fleet-heavy.service)
case " $conf " in
    *" decnet-profiler.service "*) bad "fleet unit still lists decnet-profiler.service: $conf" ;;
    *" decnet-ttp.service "*) ok "override keeps the fleet's other conflicts ($conf)" ;;
    *) bad "override lost decnet-ttp.service from Conflicts=: $conf" ;;
esac
if sh "$root/deploy/coexist-fleet-heavy.sh" --check "$system/decnet-fleet-heavy.service" "$control" >/dev/null; then
    ok "--check accepts a current override"
else
    bad "--check rejected a current override"
fi
echo "# DECNET update" >>"$system/decnet-fleet-heavy.service"
if sh "$root/deploy/coexist-fleet-heavy.sh" --check "$system/decnet-fleet-heavy.service" "$control" >/dev/null 2>&1; then
    bad "--check missed a changed source"
else
    ok "--check notices that DECNET changed its fleet unit"
fi
sctl stop decnet-fleet-heavy.service decnet-profiler.service || true

# c. the real daemon under the real unit: see verify_daemon below.
verify_daemon() {
    rm -f "$system/decnet-profiler.service.d/standin.conf"
    # Standalone SQLite in the StateDirectory, poll only (no bus in the
    # sandbox), and a short watchdog so a few periods pass quickly.
    cat >"$system/decnet-profiler.service.d/test.conf" <<'EOF2'
[Service]
Environment=DECNET_PROFILER__DATABASE__URL=sqlite:///var/lib/decnet-profiler/profiler.db
Environment=DECNET_BUS_ENABLED=false
Environment=DECNET_PROFILER__POLL__INTERVAL_S=1
WatchdogSec=2s
TimeoutStartSec=40s
EOF2
    sctl daemon-reload
    if sctl start decnet-profiler.service; then
        ok "real daemon reached READY=1 under Type=notify"
    else
        bad "real daemon did not start: $(sctl status decnet-profiler.service 2>&1 | tail -n 15)"
        return
    fi
    sleep "${VERIFY_UNIT_SOAK:-8}"
    local restarts
    restarts=$(sctl show -p NRestarts --value decnet-profiler.service)
    if active decnet-profiler.service && [ "$restarts" = 0 ]; then
        ok "real daemon stays active past the watchdog period (NRestarts=0)"
    else
        bad "daemon not healthy: active=$(sctl is-active decnet-profiler.service) restarts=$restarts"
    fi
    sctl stop decnet-profiler.service || true
    local result
    result=$(sctl show -p Result --value decnet-profiler.service)
    if [ "$result" = success ]; then
        ok "real daemon stops cleanly (Result=success)"
    else
        bad "stop result: $result"
    fi
}
if [ "${DECNET_VERIFY_UNIT_DAEMON:-1}" = 1 ]; then
    verify_daemon
fi

say "$passes passed, $fails failed"
[ "$fails" = 0 ]
