#!/bin/bash
# control_forgery.sh SOURCE_DIR WORK_DIR
#
# `relaywatch run` on a local stack of its own reads the control stream as a
# relayer does (docs/PROTOCOL.md section 6). Entries someone else wrote:
#   each kind of forged entry (signed for real where the check needs it,
#   a copy of a real RESUME, an entry without sig, a forged halt key)
#                                 -> CONTROL_STREAM_FORGERY naming the entry and
#                                    the rejection; the simulated relayer rejects it
#                                    too and keeps working
#   relaywatch restarted          -> the same entries are not reported again
#   a valid HALT signed by hand with the operator key, not by relaywatch
#                                 -> no forgery; the relayer stops and acknowledges
#                                    it by name; `status` says HALTED (exit 1);
#                                    `resume` lifts it
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses node, redis-cli and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
export STACK_WATCHDOG=1
own_stack
trap 'if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi' EXIT
export RELAYWATCH_OPERATOR_KEY

log=$dir/logs/relaywatch.log
simlog=$dir/logs/relayer-sim.log
keys=$dir/keys
rw() { "$RELAYWATCH_BIN" "$@"; }
stream=relayer:control

"$RELAYWATCH_BIN" keygen --out "$keys/stranger.key" >/dev/null
# forge KIND [LIFTS]: XADDs a forged entry (fields sig, then msg: redis-cli -x
# appends the bytes it reads as the last argument); prints its entry id.
forge() {
        local out msg_b64 sig
        out=$(node "$src/tests/support/forge_control.mjs" "$1" "$keys/watchdog.key" \
                "$keys/operator.key" "$keys/stranger.key" "${2:-}") || return 1
        msg_b64=$(sed -n 1p <<<"$out")
        sig=$(sed -n 2p <<<"$out")
        base64 -d <<<"$msg_b64" | redis -x XADD "$stream" '*' sig "$sig" msg
}
# forgery_reported ENTRY REJECTION: relaywatch's log has the finding.
# (jq -s and any: jq 1.6's -e looks at the last input only)
forgery_reported() {
        grep '"kind":"CONTROL_STREAM_FORGERY"' "$log" |
                jq -se --arg e "$1" --arg r "$2" \
                        'any(.[]; .subject == $e and .evidence.rejection == $r and .severity == "CRITICAL")' \
                        >/dev/null
}
forgeries() { grep -c '"event":"finding","[^}]*"kind":"CONTROL_STREAM_FORGERY"' "$log" || true; }
sim_events() { grep -c "\"event\":\"$1\"" "$simlog" || true; }
newest_op() { psql "$RELAYER_DATABASE_URL" -qAtc 'SELECT coalesce(max(op_id), 0) FROM relayer.operations'; }
moves_on() {
        local a
        a=$(newest_op)
        wait_for 40 bash -c "[ \"\$(psql '$RELAYER_DATABASE_URL' -qAtc 'SELECT coalesce(max(op_id), 0) FROM relayer.operations')\" -gt $a ]"
}
status_code() { rw status -c "$conf" >"$dir/status.out" 2>&1; echo $?; }

check "simulated traffic reaches two released withdrawals" wait_traffic
check "relaywatch run is cycling and healthy (status exit 0)" \
        wait_for 30 bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1"
check "a clean stream: no CONTROL_STREAM_FORGERY" bash -c "[ $(forgeries) -eq 0 ]"

# A real HALT and RESUME first, so there is a RESUME to replay.
check "a manual HALT by relaywatch" bash -c "'$RELAYWATCH_BIN' halt -c '$conf' --reason 'forgery test: a real halt' >/dev/null 2>&1"
check "  resumed by the operator" wait_for 30 bash -c "'$RELAYWATCH_BIN' resume -c '$conf' --from-last-checkpoint >'$dir/resume1.out' 2>&1"
real_resume=$(redis XREVRANGE "$stream" + - COUNT 1 | sed -n 1p)
check "  the RESUME is on the stream" bash -c "[ -n '$real_resume' ]"
check "  the relayer works again" moves_on
h=$(sim_events halted)

declare -A expect=()
for kind in bad_signature stranger not_utf8 duplicate_key too_long missing_field \
        unknown_version key_id_mismatch; do
        id=$(forge "$kind")
        reason=$kind
        [ "$kind" = stranger ] && reason=bad_signature
        expect[$id]=$reason
done
id=$(forge resume_by_watchdog_key "halt-0123456789abcdef0123456789abcdef")
expect[$id]=resume_by_watchdog_key
# a copy of the real RESUME, byte for byte
redis XRANGE "$stream" "$real_resume" "$real_resume" >"$dir/real_resume.txt"
id=$(redis XADD "$stream" '*' msg "$(sed -n 3p "$dir/real_resume.txt")" sig "$(sed -n 5p "$dir/real_resume.txt")")
expect[$id]=replay
id=$(redis XADD "$stream" '*' msg '{"v":1}')
expect[$id]=bad_entry

sim_rejected() { grep -q "entry $1: $2" "$simlog"; } # the reference consumer's log line
for id in "${!expect[@]}"; do
        check "entry $id (${expect[$id]}): CONTROL_STREAM_FORGERY" wait_for 20 forgery_reported "$id" "${expect[$id]}"
        check "  and the relayer rejected it for the same reason" wait_for 20 sim_rejected "$id" "${expect[$id]}"
done
check "  the relayer rejected them all and did not stop" bash -c "sleep 2; [ $(sim_events halted) -eq $h ]"
check "  and keeps working" moves_on

# The halt key holding something that does not verify.
redis HSET relayer:halt msg '{"v":1,"type":"HALT"}' sig "$(printf 'x%.0s' {1..86})==" >/dev/null
halt_key_reported() {
        grep '"kind":"CONTROL_STREAM_FORGERY"' "$log" | jq -se 'any(.[]; .evidence.halt_key == "relayer:halt")' >/dev/null
}
check "a forged halt key: CONTROL_STREAM_FORGERY" wait_for 20 halt_key_reported
redis DEL relayer:halt >/dev/null

n=$(forgeries)
"$src/scripts/stack-service" "$dir" relaywatch restart >/dev/null
check "relaywatch restarted and healthy again" wait_for 60 bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1; [ \$? -ne 2 ]"
check "  nothing reported twice after the restart" bash -c "sleep 3; [ \$(grep -c '\"event\":\"finding\",[^}]*\"kind\":\"CONTROL_STREAM_FORGERY\"' '$log') -eq $n ]"

# A HALT that relaywatch did not publish, signed with the operator key by hand.
h=$(sim_events halted)
op_halt=$(forge operator_halt)
check "an operator's hand-signed HALT is no forgery" bash -c "sleep 3; ! grep '\"kind\":\"CONTROL_STREAM_FORGERY\"' '$log' | grep -q '$op_halt'"
check "  the relayer stopped" wait_for 20 bash -c "[ \$(grep -c '\"event\":\"halted\"' '$simlog') -gt $h ]"
ack_for() { # the HALT id of the entry, and its acknowledgement by the relayer's group
        local hid
        hid=$(redis XRANGE "$stream" "$op_halt" "$op_halt" | awk 'prev == "msg" { print; exit } { prev = $0 }' | jq -r .id)
        [ -n "$(redis HGET "$stream:ack:$hid" relayer)" ]
}
check "  and acknowledged it by name in $stream:ack:HALT_ID" wait_for 30 ack_for
check "  relaywatch status says HALTED (exit 1)" bash -c "[ \$('$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1; echo \$?) -eq 1 ]"
check "  relaywatch resume lifts it" wait_for 30 bash -c "'$RELAYWATCH_BIN' resume -c '$conf' --from-last-checkpoint >'$dir/resume2.out' 2>&1"
check "  the relayer works again" moves_on

check "no sanitizer report in relaywatch's log" bash -c "! grep -q 'Sanitizer\|runtime error:' '$log'"
finish
