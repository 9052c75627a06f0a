#!/bin/bash
# validate_quorum.sh SOURCE_DIR WORK_DIR
#
# `relaywatch validate` on a local stack of its own, with the relayer
# simulator running, when endpoints lie, when it is blind, and for the Tier 2
# alerts:
#   1. one lying endpoint cannot halt a bridge: rpc_fault.mjs lie answers every
#      balanceOf with 32 tokens
#      a. liar, anvil; quorum 2   -> exit 2, SUPPLY_MISMATCH could-not-evaluate,
#                                    ENDPOINT_DISAGREEMENT names both endpoints
#      b. anvil, liar; quorum 2   -> exit 0 (view 0 is honest)
#      c. liar alone; quorum 1    -> exit 1, SUPPLY_MISMATCH violated, names the liar
#      d. liar, liar2; quorum 2   -> exit 1, both agree
#   2. blind is never violated: the source endpoint a closed port, PostgreSQL
#      stopped -> exit 2, could-not-evaluate, and valid again after a restart
#   3. Tier 2 alerts never fail validate (exit 0): GAS_ESTIMATE_MISS,
#      QUEUE_BUILDUP from a Redis stream at its cap (and caught up, and
#      missing), HIGH_LATENCY
#   4. shadow mode: 1c with SUPPLY_MISMATCH in shadow -> violated, exit 0,
#      INVARIANT VALID
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses node, psql, redis-cli and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
own_stack

liar_pids=()
teardown() {
        local pid
        for pid in "${liar_pids[@]}"; do
                kill "$pid" 2>/dev/null
        done
        stack_teardown
}
trap teardown EXIT

# code_is CODE: the last validate exited with CODE.
code_is() {
        [ "$code" -eq "$1" ] && return 0
        echo "validate exited $code, expected $1:" >&2
        show_last
        return 1
}

# status_is CHECK STATUS: CHECK had STATUS in the last validate.
status_is() {
        local got
        got=$(status_of "$1")
        [ "$got" = "$2" ] && return 0
        echo "$1 is '$got', expected '$2':" >&2
        show_last
        return 1
}

# no_tier1_violated: no Tier 1 check says violated, in enforce or shadow mode.
no_tier1_violated() { has '[.checks[] | select(.tier == 1 and .status == "violated")] | length == 0'; }

redis() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"; }

# conf_with NAME ENDPOINTS QUORUM [EXTRA]: writes $dir/NAME.conf, the stack's
# configuration with the source chain's endpoints and quorum replaced and
# EXTRA (sections) appended, and prints its path. The file must pass
# check-config.
conf_with() {
        local file=$dir/$1.conf
        (
                umask 077
                sed "/^\[chain source\]/,/^\[/ s|^endpoints = .*|endpoints = $2\nquorum = $3|" \
                        "$RELAYWATCH_CONFIG"
                [ -n "${4:-}" ] && printf '\n%b\n' "$4"
        ) >"$file"
        if ! "$RELAYWATCH_BIN" check-config -c "$file" >"$dir/check-config.out" 2>&1; then
                echo "the generated $file does not pass check-config:" >&2
                cat "$dir/check-config.out" >&2
                return 1
        fi
        echo "$file"
}

# start_liar NAME VAR: starts rpc_fault.mjs lie in front of the source chain and,
# once it listens, sets VAR to its URL.
start_liar() {
        local log=$dir/$1 port="" i
        node "$src/tests/support/rpc_fault.mjs" lie "$SOURCE_RPC_URL" >"$log.out" 2>"$log.err" &
        liar_pids+=($!)
        for i in $(seq 1 100); do
                port=$(sed -n 's/^listening on //p' "$log.out")
                [ -n "$port" ] && break
                sleep 0.1
        done
        [ -n "$port" ] || return 1
        printf -v "$2" 'http://127.0.0.1:%s' "$port"
}
lied() { grep -q 'balanceOf answered with 32 tokens' "$dir/$1.err"; }

check "simulated traffic reaches two released withdrawals" wait_traffic
check "normal traffic, the stack's configuration: valid (exit 0)" until_code 0 20

# ------------------------------------------------------------ 1. one liar
liar="" liar2=""
if ! start_liar liar1 liar || ! start_liar liar2 liar2; then
        echo "rpc_fault.mjs lie did not start:" >&2
        cat "$dir"/liar*.err >&2
        exit 1
fi
honest=$SOURCE_RPC_URL
echo "liars at $liar and $liar2, anvil at $honest"

# a. the liar first, quorum 2: the honest endpoint is read and contradicts it
conf=$(conf_with liar-first "$liar, $honest" 2) || exit 1
validate
check "1a liar, anvil; quorum 2: exit 2 (could not evaluate)" code_is 2
check "1a   SUPPLY_MISMATCH could-not-evaluate, not violated" \
        status_is SUPPLY_MISMATCH could-not-evaluate
check "1a   no Tier 1 check violated" no_tier1_violated
check "1a   the liar was asked (balanceOf lied)" lied liar1
check "1a   the other endpoint was read (confirmed_through_other_endpoints)" \
        has '.confirmed_through_other_endpoints == true'
check "1a   ENDPOINT_DISAGREEMENT reported (violated, not ok)" \
        status_is ENDPOINT_DISAGREEMENT violated
check "1a   ENDPOINT_DISAGREEMENT names both endpoints" \
        has --arg a "$liar" --arg b "$honest" \
        '.checks[] | select(.check == "ENDPOINT_DISAGREEMENT") | .summary |
                contains("(" + $a + ")") and contains("(" + $b + ")")'
check "1a   its evidence: the liar says violated, anvil says ok" \
        has --arg a "$liar" --arg b "$honest" \
        '[.checks[] | select(.check == "ENDPOINT_DISAGREEMENT") | .evidence.disagreements[] |
                select(.invariant == "SUPPLY_MISMATCH") | .views[] |
                {ep: .endpoints.source, status}] as $v |
         ($v | map(select(.ep | contains($a))) | .[0].status == "violated") and
         ($v | map(select(.ep | contains($b))) | .[0].status == "ok")'
check "1a   the table ends in INVARIANT NOT EVALUATED: SUPPLY_MISMATCH ..." \
        bash -c "'$RELAYWATCH_BIN' validate -c '$conf' | tail -n 1 |
                grep -q '^INVARIANT NOT EVALUATED: SUPPLY_MISMATCH'"
never_violated() {
        local i
        for i in 1 2 3; do
                validate
                [ "$code" -eq 1 ] && { show_last; return 1; }
                [ "$(status_of SUPPLY_MISMATCH)" = violated ] && { show_last; return 1; }
        done
        return 0
}
check "1a   3 more validates: never exit 1, never violated" never_violated

# b. the honest endpoint first: view 0 is right, nothing to confirm
conf=$(conf_with honest-first "$honest, $liar" 2) || exit 1
validate
check "1b anvil, liar; quorum 2: valid (exit 0)" code_is 0
check "1b   SUPPLY_MISMATCH ok, read through anvil" \
        has --arg b "$honest" '.checks[] | select(.check == "SUPPLY_MISMATCH") |
                .status == "ok" and (.evidence.source.endpoint | contains("(" + $b + ")"))'
check "1b   no confirmation was needed" has '.confirmed_through_other_endpoints == false'
check "1b   ENDPOINT_DISAGREEMENT ok" status_is ENDPOINT_DISAGREEMENT ok

# c. the liar alone: the operator chose one endpoint, its word is all there is
liar_only=$(conf_with liar-only "$liar" 1) || exit 1
conf=$liar_only
validate
check "1c liar alone; quorum 1: exit 1" code_is 1
check "1c   SUPPLY_MISMATCH violated" status_is SUPPLY_MISMATCH violated
check "1c   the evidence names the liar's endpoint" \
        has --arg a "$liar" '.checks[] | select(.check == "SUPPLY_MISMATCH") |
                (.evidence.source.endpoint | contains("(" + $a + ")")) and
                (.evidence.views[0].endpoints.source | contains("(" + $a + ")"))'
check "1c   the evidence shows the 32-token lockbox the liar reported" \
        has '.checks[] | select(.check == "SUPPLY_MISMATCH") |
                .evidence.assets[0].lockbox_balance.base == "32000000000000000000"'

# d. two liars agree: the quorum is met
conf=$(conf_with two-liars "$liar, $liar2" 2) || exit 1
validate
check "1d liar, liar2; quorum 2: exit 1" code_is 1
check "1d   SUPPLY_MISMATCH violated" status_is SUPPLY_MISMATCH violated
check "1d   both liars were read and agree (2 of 2)" \
        has '.confirmed_through_other_endpoints == true and
             (.checks[] | select(.check == "SUPPLY_MISMATCH") | .evidence.quorum.source.agreeing == 2)'
check "1d   the second liar was asked" lied liar2

# --------------------------------------------------------------- 2. blind
closed=""
for _ in $(seq 1 100); do
        p=$(shuf -i 20000-32000 -n 1)
        port_listening "$p" || { closed=$p; break; }
done
conf=$(conf_with blind "http://127.0.0.1:$closed" 1) || exit 1
validate
check "2  source endpoint a closed port ($closed): exit 2" code_is 2
check "2    every Tier 1 check could-not-evaluate" \
        has '[.checks[] | select(.tier == 1) | .status] as $s |
             ($s | length) >= 4 and all($s[]; . == "could-not-evaluate")'
check "2    no Tier 1 check violated" no_tier1_violated
check "2    every Tier 1 summary names the endpoint" \
        has --arg p "127.0.0.1:$closed" \
        'all(.checks[] | select(.tier == 1); .summary | contains($p))'
check "2    heights: the source chain not read, the error names the endpoint" \
        has --arg p "127.0.0.1:$closed" '.heights.source.read == false and (.heights.source.error | contains($p))'

conf=$RELAYWATCH_CONFIG
pg_stopped=0
if "$src/scripts/stack-service" "$dir" postgres stop >/dev/null; then
        pg_stopped=1
fi
check "2  PostgreSQL stopped" test "$pg_stopped" = 1
validate
check "2    PostgreSQL stopped: exit 2" code_is 2
check "2    every Tier 1 check could-not-evaluate, naming the ledger" \
        has '[.checks[] | select(.tier == 1)] as $t | ($t | length) >= 4 and
             all($t[]; .status == "could-not-evaluate" and (.summary | test("ledger not read")))'
check "2    HIGH_LATENCY, GAS_ESTIMATE_MISS, QUEUE_BUILDUP could-not-evaluate" \
        has '[.checks[] | select(.check | IN("HIGH_LATENCY", "GAS_ESTIMATE_MISS", "QUEUE_BUILDUP")) |
                .status] | length == 3 and all(.[]; . == "could-not-evaluate")'
check "2    no check violated" has '[.checks[] | select(.status == "violated")] | length == 0'
"$src/scripts/stack-service" "$dir" postgres start >/dev/null
check "2    PostgreSQL started again: valid (exit 0) within 20 s" until_code 0 20

# --------------------------------------------------- 3. Tier 2 on the stack
# GAS_ESTIMATE_MISS: the newest confirmed operation estimated at half what it used
op=$(sql "SELECT max(op_id) FROM relayer.operations WHERE status = 'confirmed' AND gas_used > 1")
est=$(sql "SELECT gas_estimate FROM relayer.operations WHERE op_id = $op")
sql "UPDATE relayer.operations SET gas_estimate = gas_used / 2 WHERE op_id = $op"
check "3  op $op estimated at gas_used / 2: GAS_ESTIMATE_MISS violated" \
        until_status GAS_ESTIMATE_MISS violated 20
check "3    exit 0: Tier 2 never fails validate" code_is 0
check "3    the summary and the evidence name operation $op" \
        has --argjson op "$op" '.checks[] | select(.check == "GAS_ESTIMATE_MISS") |
                (.summary | test("operation \($op) ")) and any(.evidence.misses[]; .op_id == $op)'
sql "UPDATE relayer.operations SET gas_estimate = $est WHERE op_id = $op"
check "3    restored: GAS_ESTIMATE_MISS ok" until_status GAS_ESTIMATE_MISS ok 20

# QUEUE_BUILDUP: a relayer stream at its cap of 50 with a group that read nothing
conf=$(conf_with stream "$SOURCE_RPC_URL" 1 '[stream relayer:jobs]\nmaxlen = 50') || exit 1
redis DEL relayer:jobs >/dev/null
redis XGROUP CREATE relayer:jobs workers '$' MKSTREAM >/dev/null
for i in $(seq 1 200); do echo "XADD relayer:jobs MAXLEN = 50 * job $i"; done | redis >/dev/null
check "3  relayer:jobs holds 50 entries after 200 XADDs" test "$(redis XLEN relayer:jobs)" = 50
check "3  the group lags at the cap: QUEUE_BUILDUP violated" until_status QUEUE_BUILDUP violated 20
check "3    exit 0: Tier 2 never fails validate" code_is 0
check "3    the summary says messages are being lost" \
        has '.checks[] | select(.check == "QUEUE_BUILDUP") |
                .summary | test("relayer:jobs") and test("messages are being lost")'
check "3    the evidence: length 50 of 50, group workers lags by 50" \
        has '.checks[] | select(.check == "QUEUE_BUILDUP") | .evidence.streams[] |
                select(.stream == "relayer:jobs") | .length == 50 and .maxlen == 50 and
                (.groups[] | select(.group == "workers") | .lag == 50 and (.problem | test("lost")))'

redis XREADGROUP GROUP workers c1 COUNT 1000 STREAMS relayer:jobs '>' >/dev/null
# shellcheck disable=SC2046
redis XACK relayer:jobs workers $(redis XRANGE relayer:jobs - + | grep -E '^[0-9]+-[0-9]+$') >/dev/null
check "3  the group caught up (read and acknowledged): QUEUE_BUILDUP ok" \
        until_status QUEUE_BUILDUP ok 20
check "3    the evidence: lag 0, nothing pending" \
        has '.checks[] | select(.check == "QUEUE_BUILDUP") | .evidence.streams[] |
                select(.stream == "relayer:jobs") | .groups[] | select(.group == "workers") |
                .lag == 0 and .pending == 0'

conf=$(conf_with no-stream "$SOURCE_RPC_URL" 1 '[stream relayer:missing]\nmaxlen = 50') || exit 1
redis DEL relayer:missing >/dev/null
validate
check "3  a stream that does not exist: QUEUE_BUILDUP could-not-evaluate" \
        status_is QUEUE_BUILDUP could-not-evaluate
check "3    exit 0" code_is 0
check "3    the summary names the stream and the reason" \
        has '.checks[] | select(.check == "QUEUE_BUILDUP") |
                .summary | test("relayer:missing") and test("no such key")'

# HIGH_LATENCY: a relayer cycle of 9 s (the stack's limit is 5 s)
conf=$RELAYWATCH_CONFIG
cycle=$(sql "INSERT INTO relayer.cycle_timings (started_at, duration_ms) VALUES (now(), 9000) RETURNING cycle_id")
check "3  relayer cycle $cycle took 9000 ms: HIGH_LATENCY violated" \
        until_status HIGH_LATENCY violated 20
check "3    exit 0: Tier 2 never fails validate" code_is 0
check "3    the evidence lists cycle $cycle at 9000 ms against the 5000 ms limit" \
        has --argjson c "$cycle" '.checks[] | select(.check == "HIGH_LATENCY") |
                .evidence.relayer_cycle_ms_limit == 5000 and
                any(.evidence.slow_cycles[]; .cycle_id == $c and .duration_ms == 9000) and
                (.summary | test("9000 ms"))'
sql "DELETE FROM relayer.cycle_timings WHERE cycle_id = $cycle"
validate
check "3    deleted: cycle $cycle no longer listed" \
        has --argjson c "$cycle" '.checks[] | select(.check == "HIGH_LATENCY") |
                all(.evidence.slow_cycles[]; .cycle_id != $c)'

# ------------------------------------------------------------- 4. shadow
conf=$(conf_with shadow "$liar" 1 '[invariant SUPPLY_MISMATCH]\nmode = shadow') || exit 1
validate
check "4  liar alone, SUPPLY_MISMATCH in shadow mode: exit 0" code_is 0
check "4    SUPPLY_MISMATCH violated, mode shadow" \
        has '.checks[] | select(.check == "SUPPLY_MISMATCH") | .status == "violated" and .mode == "shadow"'
check "4    result valid, no Tier 1 name listed" has '.result == "valid" and .tier1 == ""'
table=$dir/shadow.table
"$RELAYWATCH_BIN" validate -c "$conf" >"$table" 2>"$dir/validate.err"
tcode=$?
check "4    the table: exit 0" test "$tcode" -eq 0
check "4    the table shows SUPPLY_MISMATCH shadow VIOLATED" \
        grep -Eq '^SUPPLY_MISMATCH +1 +shadow +VIOLATED ' "$table"
check "4    the table ends in INVARIANT VALID" bash -c "tail -n 1 '$table' | grep -qx 'INVARIANT VALID'"

# Under -DRELAYWATCH_SANITIZE=ON binaries: no report from any validate above.
no_sanitizer_report() {
        ! grep -E -A20 'Sanitizer|runtime error' "$dir/validate-stderr.log" "$dir/validate.err" >&2
}
check "no sanitizer report on relaywatch's stderr" no_sanitizer_report

finish
