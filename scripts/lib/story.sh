# The pieces of an incident's story on a local stack, shared by scripts/demo
# and scripts/faults: a local pager, the waits, and what the pager and the
# control stream received. Source it after scripts/lib/common.sh, with $rw
# (the relaywatch binary) and, once the stack is up, $conf (its config),
# $log (relaywatch run's log) and $pager_log set.

# until_ok SECONDS COMMAND...: runs COMMAND every second until it succeeds.
until_ok() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" > /dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 1
        done
}

# start_pager DIR [PORT]: starts the local stand-in for PagerDuty and Slack
# (tests/support/alert_receiver.mjs: the real ones cannot be reached from
# here), which checks each payload's documented format and logs it to
# DIR/pager/pages.jsonl (appended to), on PORT (default: a free one); sets
# pager_pid and pager_port. (Once the stack is up, record the pid in
# DIR/run/pager.pid: scripts/stack-down then stops it with the rest.)
start_pager() {
        local dir=$1 out
        mkdir -p "$dir/pager"
        out=$dir/pager/receiver.out
        : > "$out"
        setsid node "$RELAYWATCH_ROOT/tests/support/alert_receiver.mjs" --port "${2:-0}" \
                --log "$dir/pager/pages.jsonl" > "$out" 2>> "$dir/pager/receiver.log" < /dev/null &
        pager_pid=$!
        pager_port=
        for _ in $(seq 1 100); do
                pager_port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$out")
                [ -n "$pager_port" ] && break
                alive "$pager_pid" || break
                sleep 0.1
        done
        [ -n "$pager_port" ] || die "the pager stand-in did not start (see $dir/pager/receiver.log)"
        return 0
}

# pager_config DIR: writes DIR/pager/alerting.conf, the [alerting] and [alert]
# sections that page the stand-in started by start_pager, for
# STACK_EXTRA_CONFIG.
pager_config() {
        cat > "$1/pager/alerting.conf" <<CONF
[alerting]
flap_window_s = 5

[alert pager]
type = pagerduty
url = http://127.0.0.1:$pager_port
routing_key = R0123456789abcdef0123456789abcde
; this pager takes ERROR too, so every page of the story shows (a real
; routing sends ERROR to email and Slack only)
severities = CRITICAL, ERROR

[alert chat]
type = slack
url = http://127.0.0.1:$pager_port/slack/T000/B000
CONF
}

# the last log line of EVENT for the halt in $halt_id (any halt when empty)
log_has() { grep -F "\"event\":\"$1\"" "$log" | grep -qF "${halt_id:-}"; }

# pages: what the pager stand-in received from relaywatch, one line each
pages() {
        jq -r 'select(.kind == "pagerduty") | "  PAGE " + (.body.event_action // "?") + "  "
                + ((.body.payload.severity // "") | ascii_upcase) + "  " + (.body.payload.summary // .body.dedup_key // "")
                + (if .valid then "" else "   (payload INVALID: " + (.errors | join("; ")) + ")" end)' "$pager_log"
}

# paged ALERT ACTION [FROM_LINE]: the pager got ACTION (trigger, resolve) for
# ALERT, in its log from line FROM_LINE on (default 1)
paged() {
        tail -n +"${3:-1}" "$pager_log" | jq -se --arg a "$1" --arg e "$2" 'any(.[]; .kind == "pagerduty"
                and .body.event_action == $e
                and ((.body.dedup_key // "") | . == $a or startswith($a + "/")))' > /dev/null
}

# validated_past '{"s":S,"e":E}': validate says valid, pinned at or past S and E
validated_past() {
        "$rw" validate -c "$conf" --json | jq -e --argjson m "$1" '.result == "valid"
                and .heights.source.pinned >= $m.s and .heights.execution.pinned >= $m.e' > /dev/null
}

# chain_heads: the chains' heads now, as validated_past takes them; the
# blocks before them may hold a violation just mended.
chain_heads() {
        { "$rw" validate -c "$conf" --json || true; } | jq -c '{s: .heights.source.head, e: .heights.execution.head}'
}

# signed_halts: the HALTs on the control stream signed with a key relaywatch
# trusts, one JSON line each ({halt_id, invariant, id}); a HALT published
# twice (a replay of an accepted one) shows twice.
signed_halts() {
        { "$rw" control tail -c "$conf" --json --count 10000 2>/dev/null || true; } |
                jq -c 'select((.verified or .rejection == "replay") and .msg.type == "HALT")
                        | {halt_id: .msg.halt_id, invariant: .msg.invariant, id: .id}'
}
