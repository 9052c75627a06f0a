# Helpers for the shell tests that drive `relaywatch validate` on a local
# stack of their own. Source it after stack_lib.sh, with $src (the source
# tree) and $dir (the stack's directory) set.

# own_stack: a fresh stack in $dir with the relayer simulator; loads its
# stack.env and sets $conf (the stack's configuration) and $out (where the
# last validate's JSON goes). The caller tears it down (stack_teardown).
own_stack() {
        "$src/scripts/stack-down" "$dir" --purge >/dev/null 2>&1 || true
        if ! "$src/scripts/stack-up" "$dir"; then
                echo "stack-up failed" >&2
                exit 1
        fi
        # shellcheck disable=SC1091
        . "$dir/stack.env"
        conf=$RELAYWATCH_CONFIG
        out=$dir/validate.json
}
stack_teardown() { "$src/scripts/stack-down" "$dir" --purge >/dev/null 2>&1; }

# validate: runs `relaywatch validate --json` with $conf, keeps the JSON in
# $out, sets $code. Its stderr is kept in $dir/validate-stderr.log.
validate() {
        "$RELAYWATCH_BIN" validate -c "$conf" --json >"$out" 2>"$dir/validate.err"
        code=$?
        cat "$dir/validate.err" >>"$dir/validate-stderr.log"
}

# show_last: what was not ok in the last validate, on stderr.
show_last() {
        jq -c '{result, confirmed_through_other_endpoints,
                checks: [.checks[] | select(.status != "ok") | {check, status, summary}]}' \
                "$out" >&2 || cat "$out" "$dir/validate.err" >&2
}

# status_of CHECK: the status of one check in the last validate.
status_of() { jq -r --arg c "$1" '.checks[] | select(.check == $c) | .status' "$out"; }
violated() { [ "$(status_of "$1")" = violated ]; }

# has JQ_FILTER: the filter holds on the last validate's JSON.
has() {
        jq -e "$@" "$out" >/dev/null && return 0
        echo "not true of the last validate: $*" >&2
        show_last
        return 1
}

# until_code CODE SECONDS: validates until the exit code is CODE (a change
# is seen once the pinned height passes the block that made it).
until_code() {
        local want=$1 deadline=$((SECONDS + $2))
        while :; do
                validate
                [ "$code" -eq "$want" ] && return 0
                [ $SECONDS -ge $deadline ] && break
                sleep 1
        done
        echo "validate exited $code, expected $want after $2 s:" >&2
        show_last
        return 1
}

# until_status CHECK STATUS SECONDS: validates until CHECK has STATUS.
until_status() {
        local deadline=$((SECONDS + $3))
        while :; do
                validate
                [ "$(status_of "$1")" = "$2" ] && return 0
                [ $SECONDS -ge $deadline ] && break
                sleep 1
        done
        echo "$1 is not $2 after $3 s (exit $code):" >&2
        show_last
        return 1
}

# until_has JQ_FILTER SECONDS: validates until the filter holds.
until_has() {
        local deadline=$((SECONDS + $2))
        while :; do
                validate
                jq -e "$1" "$out" >/dev/null && return 0
                [ $SECONDS -ge $deadline ] && break
                sleep 1
        done
        echo "not true after $2 s: $1" >&2
        show_last
        return 1
}

# until_violated CHECK SECONDS: CHECK violated and validate exiting 1.
until_violated() { until_status "$1" violated "$2" && [ "$code" -eq 1 ]; }

sql() { psql "$RELAYER_DATABASE_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }

# wait_traffic: the simulator has released two withdrawals (so there are
# deposits, mints, burns, anchored batches and proofs to check).
wait_traffic() {
        local deadline=$((SECONDS + 90)) n
        while [ $SECONDS -lt $deadline ]; do
                n=$(sql "SELECT count(*) FROM relayer.withdrawals WHERE status = 'released'")
                [ "${n:-0}" -ge 2 ] && return 0
                sleep 1
        done
        return 1
}
