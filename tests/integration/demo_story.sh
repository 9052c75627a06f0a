#!/usr/bin/env bash
# demo_story.sh SOURCE_DIR WORK_DIR: the README's first command, telling the
# whole story by itself (scripts/demo --inject supply --no-wait), on a stack
# of its own in WORK_DIR/stack: the violation, the signed HALT, the relayer's
# acknowledgement, the page at the PagerDuty stand-in, the audit record
# proved under a signed checkpoint, the mend, validate, resume, and the page
# resolved; then Redis, then PostgreSQL, stopped and started again
# (--inject redis-down, db-down): the page, no HALT, the resolve.
# scripts/demo stops with an error at any step that does not happen, so its
# exit status is the verdict; the steps are also looked for in its output.
# After each, scripts/stack-down must leave nothing running, the pager
# stand-in included.
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN (no build, no install: DEMO_NO_BUILD).
set -uo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
dir=$work/stack
out=$work/demo.out
failures=0
ok() { echo "ok      $*"; }
bad() { echo "FAIL    $*"; failures=$((failures + 1)); }

cd "$src" || exit 1
# stopped DIR: scripts/stack-down leaves none of DIR's processes running
stopped() {
        local pids p st left=
        pids=$(cat "$1"/run/*.pid 2>/dev/null)
        "$src/scripts/stack-down" "$1" > /dev/null 2>&1
        for p in $pids; do
                st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
                case "$st" in Z*) ;; *) left="$left $p" ;; esac
        done
        [ -z "$left" ] && ok "  scripts/stack-down left nothing running (pager included)" ||
                bad "  still running after stack-down:$left"
}

# --- a Tier 1 violation, the whole story
dir=$work/supply
out=$work/supply.out
DEMO_NO_BUILD=1 timeout 600 scripts/demo --no-wait --inject supply "$dir" > "$out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "scripts/demo --inject supply ran every step (exit 0)" ||
        bad "scripts/demo --inject supply: exit $rc (its output: $out)"
for step in "1/9 the violation" "2/9 relaywatch sees it" "3/9 the relayer reads it" "4/9 the page" \
        "5/9 the audit record" "6/9 the mend" "7/9 relaywatch validate" "8/9 relaywatch resume" \
        "9/9 the relayer runs again"; do
        grep -qF -- "---- $step" "$out" && ok "  step $step" || bad "  step $step not reached"
done
grep -q "PAGE trigger  CRITICAL" "$out" && ok "  the page was shown" || bad "  no page shown"
grep -q "PAGE resolve" "$out" && ok "  its resolve was shown" || bad "  no resolve shown"
grep -q "^AUDIT LOG INTACT" "$out" && ok "  the audit log verified" || bad "  no AUDIT LOG INTACT"
grep -q "^RESUME published" "$out" && ok "  the RESUME was published" || bad "  no RESUME published"
# every page the stand-in got had the documented payload
if jq -se 'length > 0 and all(.[]; .valid)' "$dir/pager/pages.jsonl" > /dev/null 2>&1; then
        ok "  every page's payload was valid"
else
        bad "  a page with an invalid payload (or none): $dir/pager/pages.jsonl"
fi
n=$(grep -c '"event":"halt_published"' "$dir/logs/relaywatch.log")
[ "$n" = 1 ] && ok "  exactly one HALT (none again after the resume)" || bad "  $n HALTs published"
stopped "$dir"

# --- a service gone and back: a page, no HALT, the resolve
for kind in redis-down db-down; do
        dir=$work/$kind
        out=$work/$kind.out
        DEMO_NO_BUILD=1 timeout 600 scripts/demo --no-wait --inject "$kind" "$dir" > "$out" 2>&1
        rc=$?
        [ $rc -eq 0 ] && ok "scripts/demo --inject $kind: paged and resolved (exit 0)" ||
                bad "scripts/demo --inject $kind: exit $rc (its output: $out)"
        grep -q "^demo: no HALT was published" "$out" && ok "  no HALT for it" || bad "  a HALT, or no word on it"
        stopped "$dir"
done

[ $failures -eq 0 ] || { echo "demo_story: $failures failure(s); the demo's output: $out"; exit 1; }
echo "demo_story: the whole story holds"
