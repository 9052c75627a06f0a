#!/usr/bin/env bash
# A stack whose start fails half-way, or is interrupted, stops everything it
# had started and writes no stack.env.
# Usage: stack_failed_start.sh REPO_ROOT WORK_DIR
set -uo pipefail
root=$1 work=$2
. "$root/tests/integration/stack_lib.sh"

rm -rf "$work"
mkdir -p "$work"
trap 'for d in "$work"/*/; do "$root/scripts/stack-down" "$d" >/dev/null 2>&1; done' EXIT

# 1. A contract that does not compile: the chains, PostgreSQL and Redis are
#    already up when the deployment fails.
broken=$work/broken-contracts
mkdir -p "$broken"
cp "$root"/tests/contracts/*.sol "$broken/"
printf '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Broken { function f( }\n' > "$broken/Broken.sol"
STACK_CONTRACTS_DIR=$broken "$root/scripts/stack-up" "$work/compile" > "$work/compile.out" 2>&1
rc=$?
check "a failing deployment makes stack-up fail" test "$rc" -ne 0
check "the failure names the deployment and its log" grep -q 'contract deployment failed; see .*deploy.log' "$work/compile.out"
check "the compiler error is in the log" grep -q 'Broken.sol' "$work/compile/logs/deploy.log"
check "services had started before the failure" test -n "$(logged_ports "$work/compile")"
check "nothing of the failed stack is left running" stack_is_gone "$work/compile"

# 2. SIGTERM while the stack is starting.
"$root/scripts/stack-up" "$work/interrupted" > "$work/interrupted.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
        grep -q 'Listening on' "$work/interrupted/logs/anvil-source.log" 2>/dev/null && break
        sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "an interrupted stack-up exits non-zero" test "$rc" -ne 0
check "nothing of the interrupted stack is left running" stack_is_gone "$work/interrupted"

# 3. A second stack-up into a directory whose stack is running is refused.
if "$root/scripts/stack-up" "$work/twice" > "$work/twice.out" 2>&1; then
        "$root/scripts/stack-up" "$work/twice" > "$work/twice2.out" 2>&1
        rc=$?
        check "starting a second stack in a running stack's directory is refused" test "$rc" -ne 0
        check "the refusal says how to stop the running one" grep -q 'stack-down' "$work/twice2.out"
        check "the running stack survives the refused start" test -s "$work/twice/stack.env"
        "$root/scripts/stack-down" "$work/twice" >/dev/null 2>&1
        check "nothing of that stack is left" stack_is_gone "$work/twice"
else
        check "a clean stack starts" false
        cat "$work/twice.out"
fi
finish
