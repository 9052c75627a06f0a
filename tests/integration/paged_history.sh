#!/bin/bash
# paged_history.sh SOURCE_DIR WORK_DIR
#
# The history read in pages (a page of page_batches ledger batches and of
# 4 x log_chunk_blocks source blocks of events at a time, all at the same
# pinned heights, in the same ledger transaction), on a local stack of its
# own with the relayer simulator's traffic, then quiet:
#   page_batches = 2, log_chunk_blocks = 3 -> many pages; every batch,
#        withdrawal and anchor of the one-page validate is read, and the
#        result is the same (valid)
#   a withdrawal proof broken in a batch of a later page -> PROOF_VERIFICATION_FAIL
#        violated with that batch as its subject, paged or not
#   an old root anchored again on chain under a new batch id (the event on
#        the last page of events, the root's first anchor on the first; the
#        known-anchors index plays no part in validate) -> DUPLICATE_BATCH
#        violated, paged or not
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

one_page=$conf
paged=$dir/relaywatch-paged.conf
sed -e 's/^\[watchdog\]$/[watchdog]\npage_batches = 2/' \
    -e 's/^\[chain source\]$/[chain source]\nlog_chunk_blocks = 3/' "$one_page" > "$paged"
grep -q '^page_batches = 2$' "$paged" && grep -q '^log_chunk_blocks = 3$' "$paged" ||
        { echo "could not write $paged" >&2; exit 1; }

# validate_with CONF: validate with that configuration ($out, $code).
validate_with() { conf=$1 validate; conf=$one_page; }
batches_of() { jq '.checks[] | select(.check == "PROOF_VERIFICATION_FAIL") | .evidence.pages.batches // empty' "$out"; }
anchored_batches() { sql "SELECT count(*) FROM relayer.settlement_batch WHERE status = 'anchored'"; }
enough_history() { [ "$(anchored_batches)" -ge 8 ] 2>/dev/null; }

check "the simulator anchors 8 batches" wait_for 240 enough_history
"$src/scripts/stack-service" "$dir" relayer-sim stop >/dev/null
check "  and settles once stopped" wait_settled
sleep 3 # the last blocks past the confirmation depth

validate_with "$one_page"
check "one page: valid" test "$code" = 0
batches=$(jq -r '.checks[] | select(.check == "PROOF_VERIFICATION_FAIL") | .summary' "$out" |
        sed -n 's/^\([0-9]*\) batches after batch 0.*/\1/p')
withdrawals=$(jq '.checks[] | select(.check == "PROOF_SUCCESS_RATE") | .evidence.withdrawals' "$out")
check "  it read every batch ($batches)" test "${batches:-0}" -ge 8
[ "$code" = 0 ] || show_last

validate_with "$paged"
check "in pages of 2 batches and 12 blocks: valid" test "$code" = 0
[ "$code" = 0 ] || show_last
pages=$(jq '.checks[] | select(.check == "PROOF_VERIFICATION_FAIL") | .evidence.pages.pages // 0' "$out")
check "  in $pages pages (at least ${batches:-?} / 2)" test "$pages" -ge $(((${batches:-8} + 1) / 2))
check "  the same batches in all" test "$(batches_of)" = "$batches"
check "  the same withdrawals in all" \
        test "$(jq '.checks[] | select(.check == "PROOF_VERIFICATION_FAIL") | .evidence.pages.withdrawals' "$out")" = "$withdrawals"
check "  the summary says so" has '.checks[] | select(.check == "PROOF_VERIFICATION_FAIL") | .summary | test("^[0-9]+ pages \\(")'

# --- a proof broken in the 5th batch (the 3rd page)
fifth=$(sql "SELECT batch_number FROM relayer.settlement_batch ORDER BY batch_number OFFSET 4 LIMIT 1")
wid=$(sql "SELECT withdrawal_id FROM relayer.withdrawal_proofs WHERE batch_number = $fifth AND length(proof) > 0 LIMIT 1")
if [ -n "$wid" ]; then
        orig=$(sql "SELECT encode(proof, 'hex') FROM relayer.withdrawal_proofs WHERE withdrawal_id = $wid")
        sql "UPDATE relayer.withdrawal_proofs SET proof = set_byte(proof, 0, get_byte(proof, 0) # 1) WHERE withdrawal_id = $wid" >/dev/null
        validate_with "$paged"
        check "a proof broken in batch $fifth (page 3): violated in pages" test "$code" = 1
        check "  PROOF_VERIFICATION_FAIL names batch $fifth" \
                has ".checks[] | select(.check == \"PROOF_VERIFICATION_FAIL\") | .status == \"violated\" and (.evidence.subjects | index(\"batch $fifth\"))"
        validate_with "$one_page"
        check "  and in one page" violated PROOF_VERIFICATION_FAIL
        sql "UPDATE relayer.withdrawal_proofs SET proof = decode('$orig', 'hex') WHERE withdrawal_id = $wid" >/dev/null
        validate_with "$paged"
        check "  mended: valid again" test "$code" = 0
else
        check "batch $fifth has a withdrawal with a proof to break" false
fi

# --- the first batch's root anchored again under a new batch id (its event
# at the tip, on the last page of events; the root's first anchor on the
# first page), with the ledger's nonce kept in step; the simulator runs
# again so the ledger indexes past the event's block
check "an old root anchored again on chain (as batch 999999)" inject_duplicate
"$src/scripts/stack-service" "$dir" relayer-sim start >/dev/null
seen_in_pages() { validate_with "$paged"; violated DUPLICATE_BATCH; }
check "  paged: DUPLICATE_BATCH violated once the event is under the pinned height" \
        wait_for 120 seen_in_pages
check "  only DUPLICATE_BATCH of the Tier 1 checks" \
        has '[.checks[] | select(.tier == 1 and .status != "ok") | .check] == ["DUPLICATE_BATCH"]'
validate_with "$one_page"
check "  and in one page" violated DUPLICATE_BATCH

finish
