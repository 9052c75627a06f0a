#!/usr/bin/env bash
# demo_story.sh SOURCE_DIR WORK_DIR: the README's first command, telling the
# whole story by itself (scripts/demo --inject KIND --no-wait), each on a
# stack of its own in WORK_DIR/KIND: for each Tier 1 violation (supply,
# proof, nonce, duplicate), the signed HALT, the relayer's
# acknowledgement, one page at the PagerDuty stand-in, the audit record
# proved under a signed checkpoint, the mend, validate, resume, and the page
# resolved (duplicate cannot be mended: it ends halted); then Redis and
# PostgreSQL stopped and started again, and relaywatch's first source
# endpoint hung and mended (--inject redis-down, db-down, rpc-hang): the
# page, no HALT, the resolve.
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
# a free port for each stack's HTTP endpoints: stacks of other tests may start at the same moment
export STACK_HTTP_PORT=0
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

# --- each Tier 1 violation, the whole story (a root anchored twice cannot
# be mended: that story ends at its audit record, the bridge left halted)
# demo KIND WHAT: scripts/demo --inject KIND on a stack of its own in
# $work/KIND (sets dir and out); ok WHAT when it ran every step
demo() {
        local rc
        dir=$work/$1
        out=$work/$1.out
        DEMO_NO_BUILD=1 timeout 600 scripts/demo --no-wait --inject "$1" "$dir" > "$out" 2>&1
        rc=$?
        [ $rc -eq 0 ] && ok "scripts/demo --inject $1: $2 (exit 0)" ||
                bad "scripts/demo --inject $1: exit $rc (its output: $out)"
}

for kind in supply proof nonce duplicate; do
        demo "$kind" "ran every step"
        steps=("1/9 the violation" "2/9 relaywatch sees it" "3/9 the relayer reads it" "4/9 the page"
                "5/9 the audit record")
        [ "$kind" = duplicate ] || steps+=("6/9 the mend" "7/9 relaywatch validate" "8/9 relaywatch resume"
                "9/9 the relayer runs again")
        for step in "${steps[@]}"; do
                grep -qF -- "---- $step" "$out" && ok "  step $step" || bad "  step $step not reached"
        done
        grep -q "PAGE trigger  CRITICAL" "$out" && ok "  the page was shown" || bad "  no page shown"
        grep -q "^AUDIT LOG INTACT" "$out" && ok "  the audit log verified" || bad "  no AUDIT LOG INTACT"
        if [ "$kind" != duplicate ]; then
                grep -q "PAGE resolve" "$out" && ok "  its resolve was shown" || bad "  no resolve shown"
                grep -q "^RESUME published" "$out" && ok "  the RESUME was published" || bad "  no RESUME published"
        fi
        # every page the stand-in got had the documented payload
        if jq -se 'length > 0 and all(.[]; .valid)' "$dir/pager/pages.jsonl" > /dev/null 2>&1; then
                ok "  every page's payload was valid"
        else
                bad "  a page with an invalid payload (or none): $dir/pager/pages.jsonl"
        fi
        # one trigger for the violation's alert (its updates, such as a re-page
        # while the HALT waits for its acknowledgement, are not pages): none
        # again after the resume
        case "$kind" in
        supply) inv=SUPPLY_MISMATCH ;; proof) inv=PROOF_VERIFICATION_FAIL ;;
        nonce) inv=NONCE_DESYNC ;; duplicate) inv=DUPLICATE_BATCH ;;
        esac
        n=$(jq -s --arg a "$inv" '[.[] | select(.kind == "pagerduty" and .body.event_action == "trigger"
                and .body.payload.custom_details.update != true
                and ((.body.dedup_key // "") | . == $a or startswith($a + "/")))] | length' \
                "$dir/pager/pages.jsonl")
        [ "$n" = 1 ] && ok "  exactly one page for $inv" || bad "  $n pages for $inv"
        n=$(grep -c '"event":"halt_published"' "$dir/logs/relaywatch.log")
        [ "$n" = 1 ] && ok "  exactly one HALT (none again after the resume)" || bad "  $n HALTs published"
        stopped "$dir"
done

# --- a service gone and back: a page, no HALT, the resolve
for kind in redis-down db-down rpc-hang; do
        demo "$kind" "paged and resolved"
        grep -q "^demo: no HALT was published" "$out" && ok "  no HALT for it" || bad "  a HALT, or no word on it"
        stopped "$dir"
done

[ $failures -eq 0 ] || { echo "demo_story: $failures failure(s); the demo's output: $out"; exit 1; }
echo "demo_story: the whole story holds"
