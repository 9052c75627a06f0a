#!/bin/bash
# cursors.sh SOURCE_DIR WORK_DIR
#
# The incremental cursors and the known-anchors index, on a local stack of
# its own with the relayer simulator running, `relaywatch run` started and
# stopped as a restart would (--max-cycles):
#   a first start                     -> no cursors: the first cycle is a full
#        sweep; after it the cursors are saved (keyed by chain, registry and
#        deploy block) and the anchors it checked are in relaywatch_state.anchors
#   a restart                         -> the cursors are loaded and the first
#        cycle is incremental (full_sweep false), and ok
#   the totals' checkpoints           -> saved under each side's chain, loaded at
#        a restart; a deposit moved past the checkpoint's block while no
#        watchdog ran -> ledger_totals_changed at the first cycle, tier 1 ok
#   a restart with another deploy block -> the saved cursors are not read: a
#        full sweep first
#   a known root anchored again       -> the next incremental cycle (a restart
#        each cycle, so every cycle is the first after a restart) finds it
#        against the index: DUPLICATE_BATCH violated, root_anchored_again
#        naming both anchors; the restart after it sweeps first
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses cast (node_modules), psql and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
cast=$src/node_modules/.bin/cast

own_stack
trap stack_teardown EXIT
. "$src/scripts/lib/violations.sh"

sim() { "$src/scripts/stack-service" "$dir" relayer-sim "$1" >/dev/null; }
state_sql() { psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }

# cycles every second, and no scheduled full sweep within the test
conf2=$dir/relaywatch-cursors.conf
sed -e 's/^mode = .*/mode = interval/' -e 's/^interval_ms = .*/interval_ms = 1000/' \
    -e 's/^full_sweep_s = .*/full_sweep_s = 3600/' "$conf" > "$conf2"

n=0
# run_cycles COUNT: one `relaywatch run` of COUNT cycles; its log in $log.
run_cycles() {
        n=$((n + 1))
        log=$dir/logs/relaywatch-cursors-$n.log
        "$RELAYWATCH_BIN" run -c "$conf2" --max-cycles "$1" --log-level debug 2>"$log"
}
# logged EVENT: the run's log has a line with that event.
logged() { jq -se --arg e "$1" 'any(.[]; .event == $e)' "$log" >/dev/null; }
# cycles_are JQ: every cycle line of the run holds JQ.
cycles_are() { jq -se "[.[] | select(.event == \"cycle\")] | length > 0 and all($1)" "$log" >/dev/null; }
# the watchdog reads an anchor at its pinned height (validate changes nothing)
anchor_seen() {
        validate
        [ "$(jq '.checks[] | select(.check == "DUPLICATE_BATCH") | .evidence.anchors' "$out")" -ge 1 ] 2>/dev/null
}

check "the simulator anchors a batch, and the watchdog can read it" wait_for 120 anchor_seen

# --- a first start: a full sweep, then the cursors are saved
run_cycles 2
check "first start: no cursors saved yet (cursors_not_found)" logged cursors_not_found
first_full_any() { jq -se '[.[] | select(.event == "cycle")][0] | .full_sweep == true' "$log" >/dev/null; }
first_full() { jq -se '[.[] | select(.event == "cycle")][0] | .full_sweep == true and .tier1 == "ok"' "$log" >/dev/null; }
check "  its first cycle is a full sweep, tier 1 ok" first_full
check "  every cycle ok" cycles_are '.tier1 == "ok"'
registry=$(printf '%s' "$ROOT_REGISTRY_ADDRESS" | tr 'A-F' 'a-f')
key="source=$(sql "SELECT chain_id FROM relayer.chains WHERE role = 'source'")/registry=$registry"
check "  both cursors saved under the chain id and the registry" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.cursors WHERE name LIKE 'batches_after/$key/deploy=%' OR name LIKE 'anchors_after/$key/deploy=%'")" = 2
check "  the anchors cursor is a block, not 'sweep first'" \
        test "$(state_sql "SELECT value FROM relaywatch_state.cursors WHERE name LIKE 'anchors_after/$key/%'")" -gt 0
check "  the checked anchors are indexed" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.anchors")" -ge 1
check "  no other configuration's cursor is read (nothing else saved)" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.cursors")" = 2

# --- a restart: the cursors are loaded, the first cycle is incremental
run_cycles 1
check "restart: cursors_loaded" logged cursors_loaded
check "  the first cycle after the restart is incremental and ok" \
        cycles_are '.full_sweep == false and .tier1 == "ok"'

# --- the running totals' checkpoints: saved after a passing cycle that summed in full,
# under the chain each side counts blocks on, and loaded at a restart
src_id=$(sql "SELECT chain_id FROM relayer.chains WHERE role = 'source'")
exe_id=$(sql "SELECT chain_id FROM relayer.chains WHERE role = 'execution'")
check "  the running totals' checkpoints are saved, locked under the source chain" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.checkpoints WHERE scope = 'source=$src_id' AND side = 'locked'")" -ge 1
check "  and minted under the execution chain" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.checkpoints WHERE scope = 'execution=$exe_id' AND side = 'minted'")" -ge 1
loaded_both() { [ "$(jq -s '[.[] | select(.event == "totals_checkpoint_loaded")] | length' "$log")" = 2 ]; }
check "  the restart loaded both (totals_checkpoint_loaded)" loaded_both
check "  and no history change was reported" eval '! logged ledger_totals_changed'

# --- history changed while no watchdog ran: a deposit already counted moved past the
# checkpoint's block (no total changes at the head, so no check fails): the first
# cycle after the restart sums in full, compares with the checkpoint, and says so
through=$(state_sql "SELECT max(through_block) FROM relaywatch_state.checkpoints WHERE scope = 'source=$src_id'")
moved=$(sql "SELECT deposit_id FROM relayer.deposits WHERE block_number <= $through ORDER BY deposit_id LIMIT 1")
moved_from=$(sql "SELECT block_number FROM relayer.deposits WHERE deposit_id = $moved")
head_past() { [ "$(rpc "$SOURCE_RPC_URL" eth_blockNumber | tr -d '"' | xargs printf '%d')" -ge $((through + 10)) ]; }
check "  (a deposit at or below block $through to move, and the source head 10 blocks past it)" \
        eval 'test -n "$moved" && wait_for 60 head_past'
sql "UPDATE relayer.deposits SET block_number = $((through + 1)) WHERE deposit_id = $moved"
run_cycles 1
check "history changed while down: ledger_totals_changed at the first cycle" logged ledger_totals_changed
check "  and its verdicts stand on the full sums (tier 1 ok)" cycles_are '.tier1 == "ok" and .totals == "summed"'
sql "UPDATE relayer.deposits SET block_number = $moved_from WHERE deposit_id = $moved"

# --- another configuration (the source's deploy block): its own cursors, none yet
conf3=$dir/relaywatch-cursors-other.conf
awk '/^\[chain source\]/ { s = 1 } /^\[/ && !/^\[chain source\]/ { s = 0 }
     s && /^deploy_block = / { print "deploy_block = 0"; next } { print }' "$conf2" > "$conf3"
check "  (the other configuration differs in its source deploy block)" \
        test "$(grep -c '^deploy_block = 0$' "$conf3")" -ge 1
saved=$conf2
conf2=$conf3
run_cycles 1
conf2=$saved
check "another deploy block: the saved cursors are not read (cursors_not_found)" logged cursors_not_found
check "  and its first cycle is a full sweep" first_full

# --- a known root anchored again: caught by the next incremental cycle
root=$(sql "SELECT '0x' || encode(merkle_root, 'hex') FROM relayer.settlement_batch WHERE status = 'anchored' ORDER BY batch_number LIMIT 1")
check "the root to anchor again is in the index" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.anchors WHERE root = decode('${root#0x}', 'hex')")" = 1
sim stop
check "a known root anchored again on chain (as batch 999999)" inject_duplicate
sim start
caught=0
for ((i = 0; i < 30 && !caught; i++)); do
        run_cycles 1
        if jq -se 'any(.[]; .event == "verdict" and .invariant == "DUPLICATE_BATCH" and .status == "violated")' "$log" >/dev/null; then
                caught=1
        fi
done
check "DUPLICATE_BATCH violated within 30 restarts" test "$caught" = 1
check "  in an incremental cycle (the first after a restart)" cycles_are '.full_sweep == false'
again_found() {
        jq -se --arg r "$root" 'any(.[] | select(.event == "verdict" and .invariant == "DUPLICATE_BATCH")
                | .evidence.findings[] | select(.kind == "root_anchored_again");
                (.anchors | length == 2) and .anchors[0].root == $r and .anchors[1].batch_id == 999999)' "$log" >/dev/null
}
check "  the finding is root_anchored_again, against the index" again_found
check "  the violating cycle's anchors were not indexed" \
        test "$(state_sql "SELECT count(*) FROM relaywatch_state.anchors WHERE batch_number = 999999")" = 0

run_cycles 1
check "the restart after the violation: a full sweep first" first_full_any
finish
