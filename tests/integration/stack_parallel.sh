#!/usr/bin/env bash
# Two local stacks started at the same time in two directories come up on
# different ports, both work, and both stop without leaving anything behind.
# Usage: stack_parallel.sh REPO_ROOT WORK_DIR
set -uo pipefail
root=$1 work=$2
. "$root/tests/integration/stack_lib.sh"

rm -rf "$work"
mkdir -p "$work"
a=$work/a b=$work/b
cleanup() { "$root/scripts/stack-down" "$a" >/dev/null 2>&1; "$root/scripts/stack-down" "$b" >/dev/null 2>&1; }
trap cleanup EXIT

start=$(date +%s.%N)
"$root/scripts/stack-up" "$a" > "$work/a.out" 2>&1 & pa=$!
"$root/scripts/stack-up" "$b" > "$work/b.out" 2>&1 & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
echo "two stacks started side by side in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
check "first stack starts" test "$ra" -eq 0
check "second stack starts" test "$rb" -eq 0
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || { cat "$work"/*.out; finish; exit 1; }

ports() { . "$1/stack.env"; echo "${SOURCE_RPC_URL##*:} ${EXEC_RPC_URL##*:} $PG_PORT $REDIS_PORT"; }
all_ports="$(ports "$a") $(ports "$b")"
check "the eight service ports are all different" \
        test "$(echo "$all_ports" | tr ' ' '\n' | sort -u | wc -l)" -eq 8

for d in "$a" "$b"; do
        ( . "$d/stack.env"
          check "$(basename "$d"): source chain answers with its chain id" \
                test "$(chain_id_of "$SOURCE_RPC_URL")" = "$(printf '0x%x' "$SOURCE_CHAIN_ID")"
          check "$(basename "$d"): execution chain answers with its chain id" \
                test "$(chain_id_of "$EXEC_RPC_URL")" = "$(printf '0x%x' "$EXEC_CHAIN_ID")"
          check "$(basename "$d"): PostgreSQL answers" \
                test "$(psql -X -qtA "$DATABASE_URL" -c 'SELECT 1' 2>&1)" = 1
          check "$(basename "$d"): Redis answers" \
                test "$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1)" = PONG
          exit "$failed" )
        check "$(basename "$d"): all its services answer" test $? -eq 0
done

"$root/scripts/stack-down" "$a" >/dev/null 2>&1
check "stopping the first stack leaves the second running" \
        test "$(. "$b/stack.env"; chain_id_of "$SOURCE_RPC_URL")" = "$(printf '0x%x' 31337)"
"$root/scripts/stack-down" "$b" >/dev/null 2>&1
check "nothing of the first stack is left" stack_is_gone "$a"
check "nothing of the second stack is left" stack_is_gone "$b"
check "stack-down is safe to run twice" "$root/scripts/stack-down" "$a"
finish
