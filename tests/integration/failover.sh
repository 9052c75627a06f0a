#!/bin/bash
# failover.sh SOURCE_DIR WORK_DIR
#
# One bad RPC provider costs relaywatch a hedge delay, never its heartbeat
# or a halt. On a local stack of its own, with tests/support/rpc_fault.mjs
# in front of the source chain's anvil as the FIRST endpoint and anvil
# itself as the second:
#   1. for each way a provider goes bad (hang, garbage, truncate,
#      wrongchain), on the source chain and then the execution chain:
#      `relaywatch validate` reads through the healthy endpoint and is valid,
#      within the 2 s hedge delay plus a round trip (under 3.5 s in all)
#   2. `relaywatch run` with the hung provider first on the source chain:
#      the heartbeat never lapses (sampled 4 times a second for 20 s), and a
#      Tier 1 violation on the execution chain (bSIGIL minted outside the
#      bridge) is halted no slower than with both endpoints healthy (within
#      2.5 s of that baseline, measured side by side); and so with three
#      source endpoints and quorum 2 (the violation confirmed through the
#      two that answer, not after the hung one's 10 s timeout)
#   3. `relaywatch run` whose only source endpoint hangs, with a 10 s RPC
#      timeout: SIGTERM ends the process within 1 s
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses node, redis-cli and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
own_stack
. "$src/scripts/lib/common.sh"
. "$src/scripts/lib/violations.sh"

rw_pid=
teardown() {
        local pid
        [ -n "$rw_pid" ] && kill -KILL "$rw_pid" 2>/dev/null
        # bad() runs in a command substitution's subshell: its pids are in a file
        if [ -f "$dir/bad_rpc.pids" ]; then
                while read -r pid; do kill "$pid" 2>/dev/null; done < "$dir/bad_rpc.pids"
        fi
        if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi
}
trap teardown EXIT

ms_now() { date +%s%3N; }

# bad MODE UPSTREAM: starts a bad provider; prints its URL. Called as $(bad ...),
# in a subshell: the pid goes to a file for teardown to stop it.
bad() {
        local out=$dir/bad-$1-$RANDOM.out port
        node "$src/tests/support/rpc_fault.mjs" "$1" "$2" >"$out" 2>>"$dir/logs/bad_rpc.log" &
        echo $! >> "$dir/bad_rpc.pids"
        for _ in $(seq 50); do
                port=$(sed -n 's/^listening on //p' "$out")
                [ -n "$port" ] && { echo "http://127.0.0.1:$port"; return 0; }
                sleep 0.1
        done
        echo "rpc_fault $1 did not start" >&2
        return 1
}

# config NAME SOURCE_ENDPOINTS EXEC_ENDPOINTS [KEY=VALUE...]: the stack's
# config with these endpoints, its own state directory and control keys
# (NAME:control, ...), and KEY=VALUE lines added to both chain sections
# (an endpoint given twice is written the second time as URL/?second, which
# anvil serves alike but the config does not refuse as a repeat)
# (quorum, timeout_ms). Prints its path.
config() {
        local name=$1 src_eps=$2 exec_eps=$3 out=$dir/$1.conf
        shift 3
        awk -v s="$src_eps" -v e="$exec_eps" -v state="$dir/state-$name" -v extra="$*" '
                /^\[chain source\]/ { sec = "s" } /^\[chain execution\]/ { sec = "e" }
                /^\[/ && !/^\[chain / { sec = "" }
                /^endpoints = / && sec == "s" { print "endpoints = " s; next }
                /^endpoints = / && sec == "e" { print "endpoints = " e; next }
                /^state_dir = / { print "state_dir = " state; next }
                { print }
                /^\[chain (source|execution)\]/ && extra != "" {
                        n = split(extra, kv, " ")
                        for (i = 1; i <= n; i++) { sub("=", " = ", kv[i]); print kv[i] } }
        ' "$conf" > "$out"
        printf 'stream = %s:control\nhalt_key = %s:halt\nheartbeat_key = %s:heartbeat\n' \
                "$name" "$name" "$name" >> "$out"
        echo "$out"
}

# timed_validate CONF: validates, sets $code and $took_ms.
timed_validate() {
        local t0
        t0=$(ms_now)
        "$RELAYWATCH_BIN" validate -c "$1" --json >"$out" 2>"$dir/validate.err"
        code=$?
        took_ms=$(($(ms_now) - t0))
}
valid_within() {
        [ "$code" -eq 0 ] && [ "$took_ms" -lt "$1" ] && return 0
        echo "validate exited $code after $took_ms ms" >&2
        show_last
        return 1
}

wait_traffic || { echo "no traffic on the stack" >&2; exit 1; }

# --- 1. validate reads through the healthy endpoint
for mode in hang garbage truncate wrongchain; do
        url=$(bad "$mode" "$SOURCE_RPC_URL") || exit 1
        c=$(config "v-src-$mode" "$url, $SOURCE_RPC_URL" "$EXEC_RPC_URL")
        timed_validate "$c"
        check "source chain, first endpoint $mode: valid within 3.5 s ($took_ms ms)" valid_within 3500
        url=$(bad "$mode" "$EXEC_RPC_URL") || exit 1
        c=$(config "v-exec-$mode" "$SOURCE_RPC_URL" "$url, $EXEC_RPC_URL")
        timed_validate "$c"
        check "execution chain, first endpoint $mode: valid within 3.5 s ($took_ms ms)" valid_within 3500
done

# --- 2. relaywatch run with the hung provider first
start_run() {
        "$RELAYWATCH_BIN" run -c "$1" 2>"$2" &
        rw_pid=$!
}
stop_run() {
        kill -TERM "$rw_pid" 2>/dev/null
        wait "$rw_pid" 2>/dev/null
        rw_pid=
}
published() { grep -q '"event":"halt_published"' "$1"; }

# halt_latency NAME CONF: ms from a mint outside the bridge to the HALT
# relaywatch publishes for it; the mint is undone afterwards.
halt_latency() {
        local log=$dir/logs/run-$1.log t0 ms
        start_run "$2" "$log"
        wait_for 30 key_up "$1:heartbeat" || { echo "$1: no heartbeat" >&2; stop_run; return 1; }
        sleep 3 # a few cycles: the hung endpoint has been hedged around and demoted
        t0=$(ms_now)
        inject_mint
        if wait_for 30 published "$log"; then
                ms=$(($(ms_now) - t0))
        else
                ms=
        fi
        undo_mint
        stop_run
        [ -n "$ms" ] || { echo "$1: no halt within 30 s" >&2; return 1; }
        echo "$ms"
}

hung=$(bad hang "$SOURCE_RPC_URL") || exit 1
c_hung=$(config fo-hung "$hung, $SOURCE_RPC_URL" "$EXEC_RPC_URL, $EXEC_RPC_URL/?second" quorum=1)
sed -i '/^\[chain execution\]/,/^\[/ s/^quorum = 1$/quorum = 2/' "$c_hung"
start_run "$c_hung" "$dir/logs/run-fo-hung-heartbeat.log"
check "run, hung first source endpoint: the heartbeat is set" wait_for 30 key_up fo-hung:heartbeat
check "  and never lapses for 20 s" key_holds fo-hung:heartbeat 20
stop_run
redis del fo-hung:heartbeat >/dev/null

c_good=$(config fo-good "$SOURCE_RPC_URL, $SOURCE_RPC_URL/?second" "$EXEC_RPC_URL, $EXEC_RPC_URL/?second" quorum=1)
sed -i '/^\[chain execution\]/,/^\[/ s/^quorum = 1$/quorum = 2/' "$c_good"
c_hung2=$(config fo-hung2 "$hung, $SOURCE_RPC_URL" "$EXEC_RPC_URL, $EXEC_RPC_URL/?second" quorum=1)
sed -i '/^\[chain execution\]/,/^\[/ s/^quorum = 1$/quorum = 2/' "$c_hung2"
good_ms=$(halt_latency fo-good "$c_good")
check "run, both endpoints healthy: a mint outside the bridge is halted (${good_ms:-?} ms)" [ -n "$good_ms" ]
sleep 2
hung_ms=$(halt_latency fo-hung2 "$c_hung2")
check "run, hung first source endpoint: halted too (${hung_ms:-?} ms)" [ -n "$hung_ms" ]
no_slower() { [ -n "$hung_ms" ] && [ -n "$good_ms" ] && [ "$hung_ms" -le $((good_ms + 2500)) ]; }
check "  no slower than healthy + 2.5 s (${hung_ms:-?} vs ${good_ms:-?} ms)" no_slower
# three source endpoints, two to agree, the hung one first: the violation is
# confirmed through the two that answer, never waiting out the hung one's
# 10 s timeout
sleep 2
c_hung3=$(config fo-hung3 "$hung, $SOURCE_RPC_URL, $SOURCE_RPC_URL/?second" \
        "$EXEC_RPC_URL, $EXEC_RPC_URL/?second" quorum=2 timeout_ms=10000)
hung3_ms=$(halt_latency fo-hung3 "$c_hung3")
check "run, hung first of three source endpoints, quorum 2: halted (${hung3_ms:-?} ms)" [ -n "$hung3_ms" ]
no_slower3() { [ -n "$hung3_ms" ] && [ -n "$good_ms" ] && [ "$hung3_ms" -le $((good_ms + 2500)) ]; }
check "  no slower than healthy + 2.5 s, not the hung one's timeout (${hung3_ms:-?} vs ${good_ms:-?} ms)" no_slower3
echo "detection-to-halt: healthy ${good_ms:-?} ms, hung first source endpoint ${hung_ms:-?} ms, hung first of three ${hung3_ms:-?} ms"

# --- 3. SIGTERM while a read hangs on the only source endpoint
c_only=$(config fo-only "$hung" "$EXEC_RPC_URL" timeout_ms=10000)
start_run "$c_only" "$dir/logs/run-fo-only.log"
sleep 3 # its first cycle waits on the hung endpoint now
t0=$(ms_now)
kill -TERM "$rw_pid"
wait "$rw_pid"
code=$?
took_ms=$(($(ms_now) - t0))
rw_pid=
quick_clean_exit() { [ "$code" -eq 0 ] && [ "$took_ms" -lt 1000 ]; }
check "SIGTERM with a read hanging for 10 s: exit 0 within 1 s ($code, $took_ms ms)" quick_clean_exit
check "  and its log ends with a stop line" bash -c "tail -n 3 '$dir/logs/run-fo-only.log' | grep -q '\"event\":\"stop\"'"

check "no sanitizer report" bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' '$dir'/logs/run-*.log '$dir/validate.err'"
finish
