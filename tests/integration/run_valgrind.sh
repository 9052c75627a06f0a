#!/bin/bash
# run_valgrind.sh STACK_ENV CYCLES: `relaywatch run` for CYCLES cycles under
# valgrind on the shared stack (interval mode, 50 ms apart, a state
# directory of its own): no invalid access, no leak, a clean stop.
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
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --track-fds=no -q "$RELAYWATCH_BIN" run -c "$work/relaywatch.conf" --max-cycles "$cycles" \
        2>"$work/run.log"
rc=$?
if [ $rc -ne 0 ] || ! grep -q "\"event\":\"stop\",.*stopped after $cycles cycles" "$work/run.log"; then
        echo "relaywatch run under valgrind exited $rc:" >&2
        grep -v '"level":"debug"' "$work/run.log" | tail -n 40 >&2
        exit 1
fi
echo "relaywatch run: $cycles cycles under valgrind, clean"
