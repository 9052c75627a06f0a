#!/bin/bash
# clock_step.sh SOURCE_DIR WORK_DIR
#
# `relaywatch run` times nothing with the wall clock. On a local stack of
# its own, relaywatch runs with tests/support/clockshift (LD_PRELOAD), which
# moves its wall clock by what a file says, while:
#   the wall clock steps an hour forward, then an hour back  -> the heartbeat
#        never lapses, no WATCHDOG_BLIND, no HALT_NOT_ACKNOWLEDGED, cycles go on
#   Redis stops, the clock steps back an hour, Redis returns  -> relaywatch
#        reconnects within its backoff (at most 5 s), not an hour later
#   a Tier 1 violation with the clock an hour back            -> halted as usual
# Needs RELAYWATCH_BIN, RELAYER_SIM_BIN and CLOCKSHIFT_LIB; uses redis-cli and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
own_stack
. "$src/scripts/lib/common.sh"
. "$src/scripts/lib/violations.sh"

rw_pid=
teardown() {
        [ -n "$rw_pid" ] && kill "$rw_pid" 2>/dev/null && wait "$rw_pid" 2>/dev/null
        if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi
}
trap teardown EXIT

service() { "$src/scripts/stack-service" "$dir" "$1" "$2" >/dev/null; }

shift_file=$dir/clockshift
log=$dir/logs/relaywatch-clock.log
echo 0 > "$shift_file"
# a short heartbeat and blind limit, so a wall-clock timer would show within seconds
conf2=$dir/relaywatch-clock.conf
sed -e 's/^heartbeat_ttl_ms = .*/heartbeat_ttl_ms = 3000/' \
    -e 's/^full_sweep_s = .*/full_sweep_s = 10\nblind_limit_ms = 8000/' "$conf" > "$conf2"
sed -i 's/^\[control\]$/[control]\nack_timeout_ms = 8000/' "$conf2"

CLOCKSHIFT_FILE=$shift_file LD_PRELOAD=$CLOCKSHIFT_LIB ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
        "$RELAYWATCH_BIN" run -c "$conf2" --log-level debug 2>"$log" &
rw_pid=$!

cycles() { grep -c '"event":"cycle"' "$log"; }
no_event() { ! grep -q "\"$1\"" "$log" || { grep "\"$1\"" "$log" >&2; return 1; }; }
shows_clock() { grep -q "\"ts\":\"$1" "$log"; }

check "relaywatch runs and sets its heartbeat" wait_for 20 key_up relayer:watchdog:heartbeat
echo 3600000 > "$shift_file"
check "its wall clock is an hour ahead (log timestamps)" wait_for 5 shows_clock "$(date -u -d '+1 hour' +%Y-%m-%dT%H)"
before=$(cycles)
check "an hour forward: the heartbeat never lapses for 12 s" key_holds relayer:watchdog:heartbeat 12
echo -3600000 > "$shift_file"
check "an hour back: the heartbeat never lapses for 12 s" key_holds relayer:watchdog:heartbeat 12
check "  cycles went on" [ "$(cycles)" -gt "$before" ]
check "  no WATCHDOG_BLIND" no_event WATCHDOG_BLIND
check "  no HALT_PATH_DOWN" no_event HALT_PATH_DOWN

# The Redis reconnect backoff is monotonic: a step back while Redis is away
# must not postpone the reconnection by an hour.
service redis stop
check "Redis away: HALT_PATH_DOWN" wait_for 10 grep -q '"kind":"HALT_PATH_DOWN"' "$log"
sleep 3
echo -7200000 > "$shift_file" # two hours back, while reconnecting
service redis start
t0=$SECONDS
check "Redis back: relaywatch reconnects within its backoff (under 8 s)" wait_for 8 key_up relayer:watchdog:heartbeat
echo "  reconnected after $((SECONDS - t0)) s"

# A violation with the clock two hours back is halted as always, and the
# ack deadline runs on the monotonic clock: with the relayer gone, the
# HALT_NOT_ACKNOWLEDGED page comes after ack_timeout_ms, not two hours late.
wait_traffic
pkill -f -- "relayer_sim.*$dir" 2>/dev/null
inject_mint
check "a Tier 1 violation is halted with the clock stepped back" \
        wait_for 30 grep -q '"event":"halt_published"' "$log"
t0=$SECONDS
check "  with the relayer gone, HALT_NOT_ACKNOWLEDGED after the 8 s deadline, not later" \
        wait_for 16 grep -q '"kind":"HALT_NOT_ACKNOWLEDGED"' "$log"
echo "  HALT_NOT_ACKNOWLEDGED $((SECONDS - t0)) s after the halt was seen"
undo_mint

kill -TERM "$rw_pid"
wait "$rw_pid"
code=$?
rw_pid=
check "relaywatch stops cleanly (exit $code)" [ "$code" -eq 0 ]
check "no sanitizer report" bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:' '$log'"
finish
