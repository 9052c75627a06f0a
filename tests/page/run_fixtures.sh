#!/usr/bin/env bash
# run_fixtures.sh SOURCE_DIR OUT_DIR: the oncall_page_fixtures test.
#
# For each fixture in tests/page/fixtures/ the page is substituted as the
# server does (substitute.mjs), written to OUT_DIR/NAME/oncall.html and
# checked through file:// by page_check.sh with the state it must show;
# OUT_DIR/NAME/*.png are the screenshots (kept as artifacts). Then the
# refresh, through a stand-in server (serve.mjs): a page embedding the
# healthy status whose `status` answers the halted one (only with the token
# carried over as ?token= and as a Bearer header) must show HALTED after
# one refresh; one whose `status` fails must keep its data and show #stale.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: ${0##*/} SOURCE_DIR OUT_DIR" >&2; exit 64; }
src=$1 out=$2
here=$src/tests/page
page=$src/watchdog/http/oncall_page.html
fixtures=$here/fixtures
mkdir -p "$out"
failures=()

# check NAME STATE INVARIANT HEADLINE_REGEX STALE: one fixture; its output
# in OUT_DIR/NAME.log, its exit status in OUT_DIR/NAME.rc
check() {
        local name=$1 state=$2 inv=$3 re=$4 stale=$5 dir=$out/$1 rc=0
        mkdir -p "$dir"
        {
                echo "--- $name: expect $state${inv:+ on $inv}"
                if ! node "$here/substitute.mjs" "$page" "$fixtures/$name.json" "$dir/oncall.html"; then
                        rc=3
                elif ! PAGE_CHECK_HEADLINE=$re PAGE_CHECK_STALE=$stale \
                        bash "$here/page_check.sh" "file://$dir/oncall.html" "$dir" "$state" ${inv:+"$inv"}; then
                        rc=1
                fi
        } > "$out/$name.log" 2>&1
        echo $rc > "$out/$name.rc"
}

# fixture | state | invariant | the headline must match | #stale
# The fixtures carry fixed times: the page writes a time of another day with
# its date, so a headline's "since" may or may not carry one.
cases=(
        "healthy|RUNNING||All invariants hold|hidden"
        "halted|HALTED|SUPPLY_MISMATCH|^RELAYER HALTED: SUPPLY_MISMATCH on .* since ([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2} UTC — acknowledged by relayer|hidden"
        "halted_live|HALTED|SUPPLY_MISMATCH|^RELAYER HALTED: SUPPLY_MISMATCH on SIGIL backing since .* — acknowledged by relayer$|hidden"
        "no_cycle|RUNNING||no cycle completed yet|hidden"
        "older_daemon|RUNNING||All invariants hold|hidden"
        "redis_down|UNKNOWN||^CANNOT TELL .*Redis is unreachable|hidden"
        "blind|RUNNING||^WATCHDOG BLIND for |hidden"
        "daemon_stopped|RUNNING||^WATCHDOG NOT REPORTING for |visible"
        "malformed|UNKNOWN|||"
)
running=0
names=()
for c in "${cases[@]}"; do
        IFS='|' read -r name state inv re stale <<< "$c"
        names+=("$name")
        check "$name" "$state" "$inv" "$re" "$stale" &
        running=$((running + 1))
        if [ $running -ge "${PAGE_CHECK_JOBS:-2}" ]; then wait -n; running=$((running - 1)); fi
done
wait
for name in "${names[@]}"; do
        cat "$out/$name.log"
        case "$(cat "$out/$name.rc" 2>/dev/null)" in
        0) ;;
        3) failures+=("$name (substitution)") ;;
        *) failures+=("$name") ;;
        esac
done

# Every fixture is in the table above.
for f in "$fixtures"/*.json; do
        n=$(basename "$f" .json)
        [ -f "$out/$n.rc" ] || failures+=("$n (a fixture with no expectation in run_fixtures.sh)")
done

# The refresh, over HTTP.
token='t0k&en/=+x'
enc='t0k%26en%2F%3D%2Bx'
log=$out/serve.log
coproc SERVER { exec node "$here/serve.mjs" "$page" "$fixtures/healthy.json" "$fixtures/halted.json" "$token" 2> "$log"; }
# shellcheck disable=SC2153 # SERVER_PID is set by coproc
server_pid=$SERVER_PID
trap 'kill "$server_pid" 2>/dev/null' EXIT
port=
read -r -t 10 word port <&"${SERVER[0]}" || true
if [ "${word:-}" != port ] || [ -z "$port" ]; then
        failures+=("serve.mjs did not start (log: $log)")
else
        echo "--- refresh: embedded healthy, status answers halted (token carried over)"
        PAGE_CHECK_BUDGET=9000 PAGE_CHECK_STALE=hidden PAGE_CHECK_HEADLINE="^RELAYER HALTED: SUPPLY_MISMATCH" \
                bash "$here/page_check.sh" "http://127.0.0.1:$port/ok/?token=$enc" "$out/refresh_ok" HALTED SUPPLY_MISMATCH ||
                failures+=("refresh_ok")
        grep -q "^GET /ok/status auth=yes query_token=yes 200" "$log" ||
                failures+=("refresh_ok: no GET status with the token as both header and query (log: $log)")
        grep -o 'href="runbooks/SUPPLY_MISMATCH.md?token=[^"]*"' "$out/refresh_ok/oncall.dom.html" | grep -qF "?token=$enc" ||
                failures+=("refresh_ok: the runbook links do not carry ?token=")
        echo "--- refresh failing: embedded healthy, status answers 503: the data stays, #stale says so"
        PAGE_CHECK_BUDGET=9000 PAGE_CHECK_STALE=visible PAGE_CHECK_HEADLINE="All invariants hold" \
                bash "$here/page_check.sh" "http://127.0.0.1:$port/fail/" "$out/refresh_fail" RUNNING ||
                failures+=("refresh_fail")
fi

if [ ${#failures[@]} -gt 0 ]; then
        echo "oncall_page_fixtures: FAILED: ${failures[*]}" >&2
        echo "artifacts (DOM dumps, screenshots, Chromium logs): $out" >&2
        exit 1
fi
echo "oncall_page_fixtures: all pages hold; screenshots in $out/*/"
