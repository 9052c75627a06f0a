#!/bin/bash
# run_valgrind.sh STACK_ENV CYCLES: `relaywatch run` for CYCLES cycles under
# valgrind on the shared stack (interval mode, 50 ms apart, a state
# directory of its own): no invalid access, no leak, a clean stop; and
# systemd's notify protocol (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) seen
# on a stand-in socket ($NOTIFY_LISTEN).
set -u
env_file=$1
cycles=$2
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
work=$(mktemp -d /tmp/relaywatch-run-valgrind-XXXXXX)
trap 'rm -rf "$work"' EXIT
sed -e "s|^state_dir = .*|state_dir = $work/state|" -e 's|^mode = .*|mode = interval|' \
        -e 's|^interval_ms = .*|interval_ms = 50|' "$RELAYWATCH_CONFIG" >"$work/relaywatch.conf"
chmod 600 "$work/relaywatch.conf"
"$NOTIFY_LISTEN" "$work/notify.sock" 60 >"$work/notify.log" &
listener=$!
for _ in $(seq 1 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=30000000 \
        valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --track-fds=no -q "$RELAYWATCH_BIN" run -c "$work/relaywatch.conf" --max-cycles "$cycles" \
        2>"$work/run.log"
rc=$?
wait "$listener"
for want in '^READY=1' '^STATUS=cycle 1: tier 1' '^WATCHDOG=1$' '^STOPPING=1'; do
        if ! grep -q "$want" "$work/notify.log"; then
                echo "no '$want' on the notify socket; it got:" >&2
                head -n 20 "$work/notify.log" >&2
                exit 1
        fi
done
if [ $rc -ne 0 ] || ! grep -q "\"event\":\"stop\",.*stopped after $cycles cycles" "$work/run.log"; then
        echo "relaywatch run under valgrind exited $rc:" >&2
        grep -v '"level":"debug"' "$work/run.log" | tail -n 40 >&2
        exit 1
fi
echo "relaywatch run: $cycles cycles under valgrind, clean; notify: $(grep -c "^WATCHDOG=1" "$work/notify.log") keep-alives"
