#!/bin/bash
# validate_violations.sh SOURCE_DIR WORK_DIR
#
# Every Tier 1 violation made real on a local stack of its own, with the
# relayer simulator running, and detected by `relaywatch validate`:
#   normal traffic                       -> INVARIANT VALID, every time
#   a ledger deposit edited              -> SUPPLY_MISMATCH (ledger locked)
#   a withdrawal proof tampered          -> PROOF_VERIFICATION_FAIL
#   a batch signed by an unknown key     -> PROOF_VERIFICATION_FAIL
#   bSIGIL minted outside the bridge     -> SUPPLY_MISMATCH (minted)
#   the lockbox drained (setStorageAt)   -> SUPPLY_MISMATCH (locked, minted <= locked)
#   ... with the relayer stopped         -> SUPPLY_MISMATCH (minted <= locked, at the tips)
#   anvil_setNonce on the relayer        -> NONCE_DESYNC
#   a known root anchored again          -> DUPLICATE_BATCH (last: it cannot be undone)
# Each one that can be undone is undone and validate must pass again.
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

check "simulated traffic reaches two released withdrawals" wait_traffic

normal_runs() {
        local i
        for i in 1 2 3 4 5; do
                validate
                if [ "$code" -ne 0 ]; then
                        jq -c '.checks[] | select(.status != "ok")' "$out" >&2
                        return 1
                fi
                sleep 1
        done
}
check "normal traffic: 5 validates in a row are valid (exit 0)" normal_runs
check "the table ends in INVARIANT VALID" \
        bash -c "'$RELAYWATCH_BIN' validate -c '$conf' | tail -n 1 | grep -qx 'INVARIANT VALID'"

# --- the ledger edited: one deposit worth one wei more, seen with a tolerance of 0
exact=$dir/relaywatch-exact.conf
sed '/^\[asset SIGIL\]/a tolerance = 0' "$conf" >"$exact"
chmod 600 "$exact"
conf_default=$conf
conf=$exact
dep=$(sql "SELECT min(deposit_id) FROM relayer.deposits")
sql "UPDATE relayer.deposits SET amount = amount + 1 WHERE deposit_id = $dep"
check "ledger deposit +1 wei, tolerance 0: SUPPLY_MISMATCH violated" until_violated SUPPLY_MISMATCH 20
check "  evidence: locked comparison off by exactly 1 wei" \
        has '.checks[] | select(.check == "SUPPLY_MISMATCH") | .evidence.assets[0].comparisons[] | select(.comparison == "locked") | .status == "violated" and .delta.base == "1"'
conf=$conf_default
check "  the same edit within the default tolerance of 0.001 SIGIL: valid" until_code 0 5
sql "UPDATE relayer.deposits SET amount = amount - 1 WHERE deposit_id = $dep"
check "  undone: valid again" until_code 0 20

# --- a withdrawal proof tampered in the ledger
inject_proof
read -r wid _ <"$dir/proof"
check "proof of withdrawal $wid tampered: PROOF_VERIFICATION_FAIL violated" until_violated PROOF_VERIFICATION_FAIL 20
check "  summary names the withdrawal" \
        has ".checks[] | select(.check == \"PROOF_VERIFICATION_FAIL\") | .summary | test(\"$wid\")"
undo_proof
check "  undone: valid again" until_code 0 20

# --- a batch signed by a key that is not the relayer's
batch=$(sql "SELECT max(batch_number) FROM relayer.settlement_batch WHERE status = 'anchored'")
root=$(sql "SELECT '0x' || encode(merkle_root, 'hex') FROM relayer.settlement_batch WHERE batch_number = $batch")
osig=$(sql "SELECT encode(relayer_signature, 'hex') FROM relayer.settlement_batch WHERE batch_number = $batch")
# anvil's account 2: a valid signature, from the wrong key
badsig=$("$cast" wallet sign --private-key 0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a "$root")
sql "UPDATE relayer.settlement_batch SET relayer_signature = decode('${badsig#0x}', 'hex') WHERE batch_number = $batch"
check "batch $batch signed by an unknown key: PROOF_VERIFICATION_FAIL violated" until_violated PROOF_VERIFICATION_FAIL 20
check "  summary names the batch" \
        has ".checks[] | select(.check == \"PROOF_VERIFICATION_FAIL\") | .summary | test(\"$batch\")"
sql "UPDATE relayer.settlement_batch SET relayer_signature = decode('$osig', 'hex') WHERE batch_number = $batch"
check "  undone: valid again" until_code 0 20

# --- bSIGIL minted outside the bridge: totalSupply and a holder's balance raised
# to a holder the simulator never moves, so no burn can spend the extra tokens
inject_mint
check "1000 bSIGIL minted outside the bridge: SUPPLY_MISMATCH violated" until_violated SUPPLY_MISMATCH 30
# the backing at the tips sees it first; the ledger comparison once the pinned height passes it
check "  the minted comparison: 1000 SIGIL above the ledger, in token units" \
        until_has '.checks[] | select(.check == "SUPPLY_MISMATCH") | .evidence.assets[0].comparisons[] | select(.comparison == "minted") | .status == "violated" and .delta.units == "1000 SIGIL"' 30
undo_mint
check "  undone: valid again" until_code 0 30

# --- the lockbox drained through anvil_setStorageAt: its whole balance gone
inject_drain
check "lockbox drained: SUPPLY_MISMATCH violated" until_violated SUPPLY_MISMATCH 30
check "  minted <= locked from chain data alone is violated too" \
        has '.checks[] | select(.check == "SUPPLY_MISMATCH") | .evidence.assets[0].comparisons[] | select(.comparison == "backing") | .status == "violated"'
undo_drain
check "  undone: valid again" until_code 0 30

# --- the same with the relayer stopped: its ledger stands still and the
# pinned heights with it, but the chain-only backing is read at the tips
sim stop
inject_drain
check "lockbox drained, relayer stopped: SUPPLY_MISMATCH violated all the same" until_violated SUPPLY_MISMATCH 30
check "  by the chain-only backing, read at the tip" \
        has '.checks[] | select(.check == "SUPPLY_MISMATCH") | .evidence.assets[0] | (.comparisons[] | select(.comparison == "backing") | .status == "violated") and has("lockbox_balance_at_tip")'
undo_drain
sim start
check "  undone: valid again" until_code 0 30

# --- anvil_setNonce: the relayer's key used behind the ledger's back. The
# simulator is stopped and its last transaction mined first, so moving the
# nonce back afterwards leaves it nothing to trip over.
sim stop
check "relayer transactions on the execution chain all mined" wait_settled
inject_nonce
check "relayer nonce +3 on the execution chain: NONCE_DESYNC violated" until_violated NONCE_DESYNC 30
check "  evidence names the relayer account" \
        has ".checks[] | select(.check == \"NONCE_DESYNC\") | .evidence | tostring | ascii_downcase | test(\"${RELAYER_ADDRESS,,}\")"
undo_nonce
sim start
check "  undone: valid again" until_code 0 30

# --- a root the ledger knows under one batch anchored again under another
sim stop
inject_duplicate
sim start
check "known root anchored again as batch 999999: DUPLICATE_BATCH violated" until_violated DUPLICATE_BATCH 60
check "  summary names batch 999999" \
        has '.checks[] | select(.check == "DUPLICATE_BATCH") | .summary | test("999999")'
check "  the table ends in INVARIANT VIOLATED: ... DUPLICATE_BATCH" \
        bash -c "'$RELAYWATCH_BIN' validate -c '$conf' | tail -n 1 | grep -q '^INVARIANT VIOLATED: .*DUPLICATE_BATCH'"

finish
