#!/usr/bin/env bash
# The audit log's witness end to end: a redis-server of its own, a primary
# played by this script (it publishes, as docs/AUDIT.md "Witnesses" says, the
# checkpoint and key chain of a log written by audit_gen, and consistency
# proofs from `relaywatch audit consistency` for the sizes the witnesses
# cosigned), and the one-shot `relaywatch audit witness` through: nothing
# published, first accept, unchanged, grown without a proof yet, grown and
# accepted (across key epochs), rolled back, forked, Redis down.
#
#   audit_witness.sh RELAYWATCH AUDIT_GEN
#
# Exit 77 (skipped) when redis-server or redis-cli is not installed.
set -euo pipefail

RW=$1
GEN=$2
WORK=$(mktemp -d)
REDIS_PID=

cleanup() {
        if [[ -n $REDIS_PID ]]; then
                kill "$REDIS_PID" 2>/dev/null || true
                wait "$REDIS_PID" 2>/dev/null || true
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT

for tool in redis-server redis-cli jq; do
        if ! command -v "$tool" >/dev/null; then
                echo "SKIP: $tool is not installed"
                exit 77
        fi
done

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# A redis-server of our own on a free loopback port.
mkdir -p "$WORK/redis"
PORT=
for _ in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
                --dir "$WORK/redis" >"$WORK/redis/log" 2>&1 &
        REDIS_PID=$!
        for _ in $(seq 1 50); do
                if redis-cli -p "$port" ping >/dev/null 2>&1; then
                        PORT=$port
                        break
                fi
                kill -0 "$REDIS_PID" 2>/dev/null || break
                sleep 0.1
        done
        [[ -n $PORT ]] && break
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
done
if [[ -z $PORT ]]; then
        echo "FAIL: no redis-server could be started" >&2
        cat "$WORK/redis/log" >&2 || true
        exit 1
fi
echo "redis-server on 127.0.0.1:$PORT"

K=relaywatch:audit:primary-1
NAME=relaywatch/witness-1
R() { redis-cli -p "$PORT" "$@"; }

"$RW" keygen --out "$WORK/witness.key" >/dev/null

# publish DIR: the primary's publication of the log in DIR/audit (checkpoint and keys).
publish() {
        "$GEN" publish "$1" >"$WORK/pub.json"
        jq -j .checkpoint "$WORK/pub.json" >"$WORK/checkpoint.note"
        R HSET "$K" keys "$(jq -c .keys "$WORK/pub.json")" >/dev/null
        R -x HSET "$K" checkpoint <"$WORK/checkpoint.note" >/dev/null
}

# prove DIR: a consistency proof to the log's last checkpoint from every size cosigned.
prove() {
        local name size
        R DEL "$K:proofs" >/dev/null
        for name in $(R HKEYS "$K:cosigned"); do
                size=$(R HGET "$K:cosigned" "$name" | sed -n 2p)
                if "$RW" audit consistency --dir "$1/audit" --pubkey "$1/audit.key.pub" \
                        --from "$size" --json >"$WORK/proof.json" 2>/dev/null; then
                        R HSET "$K:proofs" "$size" "$(jq -c '{from, to, proof}' "$WORK/proof.json")" \
                                >/dev/null
                fi
        done
}

# witness NAME WANT_EXIT WANT_TEXT [ARGS...]: one poll of the witness
witness() {
        local name=$1 want=$2 text=$3 out rc=0
        shift 3
        out=$("$RW" audit witness --log "$K" --pubkey "$WORK/p/audit.key.pub" \
                --key "$WORK/witness.key" --name "$NAME" --state "$WORK/state" \
                --redis "redis://127.0.0.1:$PORT/0" "$@" 2>&1) || rc=$?
        echo "$out" >"$WORK/last.out"
        if [[ $rc -ne $want ]]; then
                bad "$name: exit $rc, expected $want: $out"
        elif [[ -n $text && $out != *"$text"* ]]; then
                bad "$name: the output does not say \"$text\": $out"
        else
                ok "$name (exit $rc)"
        fi
}

cosigned_size() { R HGET "$K:cosigned" "$NAME" | sed -n 2p; }

# 1. nothing published yet
mkdir -p "$WORK/p"
"$GEN" "$WORK/p" --records 25 --checkpoint-every 10 --epoch-s 30 \
        --start-ms 1700000000000 >/dev/null
witness "nothing published" 2 "nothing published"

# 2. the first checkpoint: accepted on the pinned key alone, cosigned back
publish "$WORK/p"
cp "$WORK/checkpoint.note" "$WORK/first.note"
first_size=$(sed -n 2p "$WORK/first.note")
witness "first checkpoint" 0 "trust on first use"
[[ $(cosigned_size) == "$first_size" ]] && ok "cosigned note stored at $K:cosigned" \
        || bad "no cosigned note of size $first_size at $K:cosigned"
[[ $(R HGET "$K:cosigned" "$NAME" | grep -c "^— $NAME ") -eq 1 ]] \
        && ok "the cosigned note carries the witness's line" \
        || bad "the cosigned note has no line by $NAME"
ls "$WORK/state"/witness-*.json >/dev/null 2>&1 && ok "the state file is kept" \
        || bad "no state file in $WORK/state"

# 3. unchanged: cosigned again
witness "unchanged" 0 "unchanged"

# 4. grown, no proof published yet: cannot tell yet
"$GEN" "$WORK/p" --records 40 --checkpoint-every 10 --epoch-s 30 \
        --start-ms 1700000100000 >/dev/null
publish "$WORK/p"
witness "grown, no proof yet" 2 "no consistency proof"
[[ $(cosigned_size) == "$first_size" ]] && ok "waiting re-publishes the accepted size" \
        || bad "waiting did not keep the accepted size at $K:cosigned"

# 5. the primary proves from the cosigned size: accepted, across key epochs
prove "$WORK/p"
witness "grown and proved" 0 "consistent with the $first_size accepted before"
second_size=$(sed -n 2p "$WORK/checkpoint.note")
[[ $(cosigned_size) == "$second_size" ]] && ok "cosigned size moved to $second_size" \
        || bad "cosigned size is $(cosigned_size), expected $second_size"
[[ $(jq '.keys | length' "$WORK/pub.json") -gt 1 ]] && ok "the key evolved meanwhile" \
        || bad "the key did not evolve"

# 6. rolled back: the first checkpoint published again
R -x HSET "$K" checkpoint <"$WORK/first.note" >/dev/null
witness "rolled back" 1 "AUDIT_LOG_INCONSISTENT (CRITICAL)"
grep -q "rolled back" "$WORK/last.out" && grep -q "checkpoint accepted before ($second_size records)" \
        "$WORK/last.out" && grep -q "checkpoint published now ($first_size records)" \
        "$WORK/last.out" && ok "the rollback prints both checkpoints" \
        || bad "the rollback output lacks a checkpoint: $(cat "$WORK/last.out")"

# 7. forked: one copy grown two ways to the same size (the key kept)
publish "$WORK/p"
witness "back to the accepted checkpoint" 0 "unchanged"
cp -a "$WORK/p" "$WORK/q"
"$GEN" "$WORK/p" --records 12 --checkpoint-every 10 --start-ms 1700000200000 >/dev/null
"$GEN" "$WORK/q" --records 12 --checkpoint-every 10 --start-ms 1700000300000 >/dev/null
publish "$WORK/p"
prove "$WORK/p"
witness "one branch grown and proved" 0 "consistent with"
publish "$WORK/q"
prove "$WORK/q"
witness "the other branch, same size" 1 "forked"
witness "the other branch, as JSON" 1 "" --json
jq -e '.outcome == "inconsistent" and .finding == "AUDIT_LOG_INCONSISTENT" and
        .severity == "CRITICAL" and .evidence.reason == "fork" and
        (.evidence.accepted.note | length) > 0 and (.evidence.published.note | length) > 0' \
        "$WORK/last.out" >/dev/null && ok "the JSON carries the finding and both checkpoints" \
        || bad "the JSON lacks the finding or a checkpoint: $(cat "$WORK/last.out")"

# 8. the fork grows on; its proof from the accepted size does not verify
"$GEN" "$WORK/q" --records 7 --checkpoint-every 10 --start-ms 1700000400000 >/dev/null
publish "$WORK/q"
prove "$WORK/q"
witness "the fork grown on" 1 "does not verify"

# 9. both branches evolve their key: two keys certified for one epoch
"$GEN" "$WORK/p" --records 40 --checkpoint-every 10 --epoch-s 30 \
        --start-ms 1700000500000 >/dev/null
publish "$WORK/p"
prove "$WORK/p"
witness "the accepted branch grown into a new key epoch" 0 "consistent with"
"$GEN" "$WORK/q" --records 40 --checkpoint-every 10 --epoch-s 30 \
        --start-ms 1700000600000 >/dev/null
publish "$WORK/q"
prove "$WORK/q"
witness "the other branch's key chain" 1 "two keys were certified for one epoch"

# 10. Redis down: cannot tell
out=$("$RW" audit witness --log "$K" --pubkey "$WORK/p/audit.key.pub" --key "$WORK/witness.key" \
        --name "$NAME" --state "$WORK/state" --redis "redis://127.0.0.1:1/0" 2>&1) && rc=0 || rc=$?
[[ $rc -eq 2 ]] && ok "Redis down (exit 2)" || bad "Redis down: exit $rc: $out"

# 11. the defaults from a configuration: another witness, by its [audit] origin
mkdir -p "$WORK/w2"
cat >"$WORK/w2/relaywatch.conf" <<CONF
[watchdog]
id = witness-2
state_dir = $WORK/w2
[database]
url = postgres://rw@127.0.0.1:5432/bridge
[redis]
url = redis://127.0.0.1:$PORT/0
[asset SIGIL]
source_token = 0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0
bridged_token = 0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9
decimals = 18
[relayer]
accounts = 0x70997970c51812dc3a010c7d01b50e0d17dc79c8
[chain source]
chain_id = 31337
endpoints = http://127.0.0.1:8545
lockbox = 0x5fbdb2315678afecb367f032d93f642f64180aa3
root_registry = 0xe7f1725e7734ce288f8367e1bb143e90bb3f0512
[chain execution]
chain_id = 31338
endpoints = http://127.0.0.1:8546
[audit]
witness_log = $K
witness_log_pubkey = $WORK/p/audit.key.pub
witness_signing_key = $WORK/witness.key
CONF
publish "$WORK/p"
out=$("$RW" audit witness -c "$WORK/w2/relaywatch.conf" 2>&1) && rc=0 || rc=$?
[[ $rc -eq 0 && $out == *"trust on first use"* ]] && ok "-c: defaults from the configuration (exit 0)" \
        || bad "-c: exit $rc: $out"
R HGET "$K:cosigned" relaywatch/witness-2 | grep -q "^— relaywatch/witness-2 " \
        && ok "-c: cosigned under [audit] origin" || bad "-c: no cosignature by relaywatch/witness-2"
ls "$WORK/w2/witness"/witness-*.json >/dev/null 2>&1 && ok "-c: state in STATE_DIR/witness" \
        || bad "-c: no state file in $WORK/w2/witness"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
