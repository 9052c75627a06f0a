# Tier 1 violations made real on a local stack, and undone: for the demo
# (scripts/inject), the tests and the benchmarks. Source it with the stack's
# stack.env loaded and $RELAYWATCH_ROOT set (scripts/lib/common.sh sets it).
#
#   inject_mint / undo_mint        1000 bSIGIL minted outside the bridge   SUPPLY_MISMATCH
#   inject_drain / undo_drain      the lockbox's SIGIL balance taken away  SUPPLY_MISMATCH
#   inject_proof / undo_proof      a withdrawal proof altered in the ledger PROOF_VERIFICATION_FAIL
#   inject_nonce / undo_nonce      the relayer's nonce 3 past all it sent NONCE_DESYNC
#                                  (stop the relayer first: wait_settled)
#   inject_duplicate               a known root anchored again as batch    DUPLICATE_BATCH
#                                  999999 (cannot be undone)
# Storage edits go through anvil_setStorageAt with mining paused, so no
# transaction mined in between is lost.

cast=${cast:-$RELAYWATCH_ROOT/node_modules/.bin/cast}

declare -F sql >/dev/null || sql() { psql "$RELAYER_DATABASE_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }
rpc() { "$cast" rpc --rpc-url "$1" "${@:2}"; }

# storage_slot MAPPING_SLOT ADDRESS: the slot of balances[ADDRESS] in an OZ ERC20.
storage_slot() { "$cast" index address "$2" "$1"; }

# with_mining_paused URL COMMAND...: runs COMMAND while URL mines no block.
with_mining_paused() {
        local url=$1 rc
        shift
        rpc "$url" evm_setIntervalMining 0 >/dev/null
        "$@"
        rc=$?
        rpc "$url" evm_setIntervalMining "$STACK_BLOCK_TIME" >/dev/null
        return $rc
}

# add_to_slot URL CONTRACT SLOT DELTA: adds DELTA (may be negative; u256) to a storage word.
add_to_slot() {
        local now new
        now=$(rpc "$1" eth_getStorageAt "$2" "$3" latest | tr -d '"')
        new=$(node -e 'const v = BigInt(process.argv[1]) + BigInt(process.argv[2]);
                if (v < 0n) process.exit(1);
                console.log("0x" + v.toString(16).padStart(64, "0"));' "$now" "$4") || return 1
        rpc "$1" anvil_setStorageAt "$2" "$3" "$new" >/dev/null
}
slot_value() { node -e 'console.log(BigInt(process.argv[1]).toString())' "$(rpc "$1" eth_getStorageAt "$2" "$3" latest | tr -d '"')"; }

# --- bSIGIL minted outside the bridge, to a holder the simulator never moves
violation_holder=0x000000000000000000000000000000000000dEaD
violation_extra=1000000000000000000000 # 1000 tokens
mint_extra() {
        add_to_slot "$EXEC_RPC_URL" "$BRIDGED_SIGIL_ADDRESS" 2 "$1" &&
                add_to_slot "$EXEC_RPC_URL" "$BRIDGED_SIGIL_ADDRESS" \
                        "$(storage_slot 0 "$violation_holder")" "$1"
}
inject_mint() { with_mining_paused "$EXEC_RPC_URL" mint_extra "$violation_extra"; }
undo_mint() { with_mining_paused "$EXEC_RPC_URL" mint_extra "-$violation_extra"; }

# --- the lockbox drained; the amount is kept in $STACK_DIR/drained for the undo
drain() {
        local slot drained
        slot=$(storage_slot 0 "$LOCKBOX_ADDRESS")
        drained=$(slot_value "$SOURCE_RPC_URL" "$SIGIL_ADDRESS" "$slot") &&
                echo "$drained" >"$STACK_DIR/drained" &&
                add_to_slot "$SOURCE_RPC_URL" "$SIGIL_ADDRESS" "$slot" "-$drained"
}
refill() {
        add_to_slot "$SOURCE_RPC_URL" "$SIGIL_ADDRESS" "$(storage_slot 0 "$LOCKBOX_ADDRESS")" \
                "$(cat "$STACK_DIR/drained")" && rm -f "$STACK_DIR/drained"
}
inject_drain() { with_mining_paused "$SOURCE_RPC_URL" drain; }
undo_drain() { with_mining_paused "$SOURCE_RPC_URL" refill; }

# --- a withdrawal proof altered in the ledger (the original kept for the undo)
inject_proof() {
        local wid orig
        wid=$(sql "SELECT max(withdrawal_id) FROM relayer.withdrawal_proofs WHERE length(proof) > 0")
        [ -n "$wid" ] || return 1
        orig=$(sql "SELECT encode(proof, 'hex') FROM relayer.withdrawal_proofs WHERE withdrawal_id = $wid")
        echo "$wid $orig" >"$STACK_DIR/proof"
        sql "UPDATE relayer.withdrawal_proofs SET proof = set_byte(proof, 0, get_byte(proof, 0) # 1) WHERE withdrawal_id = $wid"
}
undo_proof() {
        local wid orig
        read -r wid orig <"$STACK_DIR/proof" || return 1
        sql "UPDATE relayer.withdrawal_proofs SET proof = decode('$orig', 'hex') WHERE withdrawal_id = $wid" &&
                rm -f "$STACK_DIR/proof"
}

# --- the relayer's key used behind the ledger's back (the relayer must be stopped
# or halted, with its last transaction mined: wait_settled)
# nonce_of BLOCK [RPC_URL]: the relayer account's nonce (default: the execution chain).
nonce_of() { rpc "${2:-$EXEC_RPC_URL}" eth_getTransactionCount "$RELAYER_ADDRESS" "$1" | tr -d '"'; }
# settled: nothing of the relayer's in flight on either chain (anchors go to the source chain)
settled() {
        [ "$(nonce_of latest)" = "$(nonce_of pending)" ] &&
                [ "$(nonce_of latest "$SOURCE_RPC_URL")" = "$(nonce_of pending "$SOURCE_RPC_URL")" ]
}
wait_settled() {
        local deadline=$((SECONDS + 20))
        until settled; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.5
        done
}
# The jump goes 3 past the highest of the chain's latest and pending nonces
# and the ledger's next nonce, so a relayer caught sending (or recording a
# send) at the moment of the injection cannot land the chain's nonce at or
# below the ledger's: the chain is then ahead of the ledger, always.
inject_nonce() {
        local n top p l
        n=$(nonce_of latest)
        p=$(nonce_of pending)
        l=$(sql "SELECT coalesce(max(n.next_nonce), 0) FROM relayer.nonce_state n
                 JOIN relayer.chains c USING (chain_id)
                 WHERE c.role = 'execution' AND n.account = decode('${RELAYER_ADDRESS#0x}', 'hex')")
        top=$((n > p ? n : p))
        top=$((top > l ? top : l))
        echo "$n" >"$STACK_DIR/nonce"
        rpc "$EXEC_RPC_URL" anvil_setNonce "$RELAYER_ADDRESS" "$(printf '0x%x' $((top + 3)))" >/dev/null
}
undo_nonce() {
        rpc "$EXEC_RPC_URL" anvil_setNonce "$RELAYER_ADDRESS" "$(cat "$STACK_DIR/nonce")" >/dev/null &&
                rm -f "$STACK_DIR/nonce"
}

# --- a root the ledger knows under one batch anchored again as batch 999999
# (sent with the relayer's key at the ledger's nonce, and the ledger's nonce
# moved on with it, so only DUPLICATE_BATCH breaks)
inject_duplicate() {
        local root src_id nonce acct
        acct="decode('${RELAYER_ADDRESS#0x}', 'hex')"
        root=$(sql "SELECT '0x' || encode(merkle_root, 'hex') FROM relayer.settlement_batch WHERE status = 'anchored' ORDER BY batch_number LIMIT 1")
        src_id=$(sql "SELECT chain_id FROM relayer.chains WHERE role = 'source'")
        nonce=$(sql "SELECT next_nonce FROM relayer.nonce_state WHERE chain_id = $src_id AND account = $acct")
        [ -n "$root" ] && [ -n "$nonce" ] || return 1
        # the ledger's nonce first: a ledger ahead of the chain is within
        # nonce_gap, a chain ahead of the ledger is NONCE_DESYNC
        sql "UPDATE relayer.nonce_state SET next_nonce = next_nonce + 1 WHERE chain_id = $src_id AND account = $acct" || return 1
        "$cast" send --rpc-url "$SOURCE_RPC_URL" --private-key "$RELAYER_PRIVATE_KEY" --nonce "$nonce" \
                "$ROOT_REGISTRY_ADDRESS" 'anchor(uint256,bytes32)' 999999 "$root" >/dev/null && return 0
        sql "UPDATE relayer.nonce_state SET next_nonce = next_nonce - 1 WHERE chain_id = $src_id AND account = $acct"
        return 1
}
