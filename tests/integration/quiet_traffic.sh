#!/usr/bin/env bash
# quiet_traffic.sh SOURCE_DIR WORK_DIR [SECONDS]: normal traffic must raise
# nothing. The README's first command's stack (scripts/demo --no-wait: the
# simulated relayer moving tokens both ways, batches anchored, `relaywatch
# run` paging a PagerDuty/Slack stand-in) runs for SECONDS (default
# QUIET_SECONDS, else 120); then: the relayer did work meanwhile, cycles
# ran, none was violated, could not evaluate or failed, no HALT in the log or
# on the control stream, no page, no CRITICAL or ERROR finding. The ten
# minutes' version: QUIET_SECONDS=600 ctest --test-dir build -R quiet_traffic
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN.
set -uo pipefail
src=$1
work=$2
seconds=${3:-${QUIET_SECONDS:-120}}
rm -rf "$work"
mkdir -p "$work"
dir=$work/stack
failures=0
ok() { echo "ok      $*"; }
bad() { echo "FAIL    $*"; failures=$((failures + 1)); }

cd "$src" || exit 1
if ! STACK_HTTP_PORT=0 DEMO_NO_BUILD=1 timeout 300 scripts/demo --no-wait "$dir" > "$work/demo.out" 2>&1; then
        cat "$work/demo.out"
        "$src/scripts/stack-down" "$dir" > /dev/null 2>&1
        echo "quiet_traffic: the stack did not come up"
        exit 1
fi
trap '"$src/scripts/stack-down" "$dir" > /dev/null 2>&1' EXIT
. "$dir/stack.env"
log=$dir/logs/relaywatch.log
pages=$dir/pager/pages.jsonl
ops_at_start=$(psql "$DATABASE_URL" -X -qAtc "SELECT op_id FROM relaywatch.latest_ids")
echo "quiet_traffic: $seconds s of normal traffic"
sleep "$seconds"
ops_at_end=$(psql "$DATABASE_URL" -X -qAtc "SELECT op_id FROM relaywatch.latest_ids")

# its own watchdog's figures only: the state directory and the log (the
# HTTP port may be another stack's when stacks start side by side)
cycles=$(jq -r '.cycles // 0' "$dir/state/status.json" 2>/dev/null)
[ "${cycles:-0}" -ge $((seconds / 5)) ] && ok "$cycles cycles in $seconds s" ||
        bad "only ${cycles:-0} cycles in $seconds s (see $dir/state/status.json)"
[ "$ops_at_end" -gt "$ops_at_start" ] && ok "the relayer worked: operations $ops_at_start -> $ops_at_end" ||
        bad "the relayer did nothing (operations $ops_at_start -> $ops_at_end): the test proves nothing"
# a cycle whose Tier 1 result is not ok logs its line at info (an ok one at debug)
not_ok=$(jq -s '[.[] | select(.event == "cycle" and .tier1 != "ok")] | length' "$log")
[ "$not_ok" = 0 ] && ok "no cycle violated or could not evaluate" || bad "$not_ok cycles not ok (see $log)"
halts=$(grep -c '"event":"halt_published"' "$log")
[ "$halts" = 0 ] && ok "no HALT published" || bad "$halts HALTs published on normal traffic"
# REDIS_URL is redis://:PASSWORD@127.0.0.1:PORT/0
pass=${REDIS_URL#redis://:}
pass=${pass%@*}
port=${REDIS_URL##*:}
port=${port%%/*}
entries=$(REDISCLI_AUTH=$pass redis-cli -h 127.0.0.1 -p "$port" XLEN relayer:control)
[ "${entries:-0}" = 0 ] && ok "the control stream holds no entry" || bad "the control stream holds $entries entries"
npages=$(jq -s 'length' "$pages")
[ "$npages" = 0 ] && ok "no page" || bad "$npages pages on normal traffic: $(jq -c '.body.payload.summary // .body.text' "$pages" | head -3)"
findings=$(jq -s '[.[] | select(.event == "finding" and (.severity == "CRITICAL" or .severity == "ERROR"))] | length' "$log")
[ "$findings" = 0 ] && ok "no CRITICAL or ERROR finding" || bad "$findings CRITICAL or ERROR findings (see $log)"

[ $failures -eq 0 ] || { echo "quiet_traffic: $failures failure(s)"; exit 1; }
echo "quiet_traffic: $seconds s of traffic, nothing raised"
