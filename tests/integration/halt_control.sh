#!/bin/bash
# halt_control.sh SOURCE_DIR WORK_DIR
#
# `relaywatch run` on a local stack of its own (STACK_WATCHDOG=1), with the
# relayer simulator reading the control stream through the reference
# consumer (tests/consumer) and requiring the watchdog's heartbeat:
#   forged control messages (unknown key, altered msg)   -> rejected, the relayer goes on
#   each Tier 1 violation                                 -> one verified HALT, the relayer
#                                                            stops and acknowledges it (the
#                                                            hash STREAM:ack:HALT_ID, which
#                                                            `relaywatch status` shows per
#                                                            relayer group; an XACK is not one)
#   resume while the violation persists                   -> refused; after the fix: accepted
#   a forged RESUME (not the operator's key)              -> rejected, the relayer stays halted
#   Redis stopped before the violation                    -> outbox, delivered when it is back
#   relaywatch killed (SIGKILL) after publishing, or with
#   the HALT still in its outbox, and restarted           -> exactly one HALT per incident
#   two replicas watching the same bridge                 -> one HALT per incident
#   SIGHUP with a broken config                           -> refused, keeps running
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses cast, psql, redis-cli and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
export STACK_WATCHDOG=1
own_stack
# on a failure the stack is stopped but its logs are kept in $dir/logs
trap 'kill_replica; if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi' EXIT
. "$src/scripts/lib/common.sh"
. "$src/scripts/lib/violations.sh"
export RELAYWATCH_OPERATOR_KEY

log=$dir/logs/relaywatch.log
simlog=$dir/logs/relayer-sim.log
status=$dir/state/status.json
rw() { "$RELAYWATCH_BIN" "$@"; }
service() { "$src/scripts/stack-service" "$dir" "$1" "$2" >/dev/null; }
rw_pid() { cat "$dir/run/relaywatch.pid"; }


# The control stream as `relaywatch control tail --json` prints it.
tail_json() { rw control tail -c "$conf" --json --count 10000 2>/dev/null; }

# The signed HALT entries for INVARIANT on the stream: accepted, or a copy of one
# accepted before (a replay): a HALT published twice counts twice.
signed_halts='[.[] | select((.verified or .rejection == "replay") and .msg.type == "HALT" and .msg.invariant == $i)]'
# halts INVARIANT: how many there are.
halts() { tail_json | jq -s --arg i "$1" "$signed_halts | length"; }
# halts_above INVARIANT N: more than N of them, the newest verified with the watchdog's key.
halts_above() {
        tail_json | jq -se --arg i "$1" --argjson n "$2" \
                "$signed_halts | length > \$n and (last | .verified and .key_role == \"watchdog\")" >/dev/null
}
# status_acked INVARIANT: `relaywatch status` shows its HALT in force, acknowledged by every
# relayer group (the ack hash STREAM:ack:HALT_ID the relayer writes once stopped).
status_acked() {
        rw status -c "$conf" --json 2>/dev/null | jq -e --arg i "$1" \
                '[.halts_in_force[] | select(.invariant == $i)] | length > 0 and
                 all(.acks != null and (.acks | length > 0) and (.acks | all(.)))' >/dev/null
}
# last_resume_lifts N: the newest RESUME on the stream was accepted and lifted N HALTs.
last_resume_lifts() {
        tail_json | jq -se --argjson n "$1" \
                '[.[] | select(.msg.type == "RESUME")] | last | .verified and .lifted == $n and
                 (.msg.lifts | length) == $n and .msg.evidence.lifted == .msg.lifts' >/dev/null
}
# halt_count_is INVARIANT N
halt_count_is() { [ "$(halts "$1")" -eq "$2" ]; }

# incident INVARIANT FILTER: the filter holds for its incident in status.json.
incident() { jq -e --arg i "$1" ".incidents[] | select(.invariant == \$i) | $2" "$status" >/dev/null 2>&1; }
acked() { incident "$1" '.acked_at_ms > 0'; }

newest_op() { sql "SELECT coalesce(max(op_id), 0) FROM relayer.operations"; }
# stands_still: the relayer records no operation for 6 s.
stands_still() {
        local a b
        a=$(newest_op)
        sleep 6
        b=$(newest_op)
        [ "$a" = "$b" ] || { echo "operations moved from $a to $b while halted" >&2; return 1; }
}
moves_on() {
        local a
        a=$(newest_op)
        wait_for 40 bash -c "[ \"\$(psql '$RELAYER_DATABASE_URL' -qAtc 'SELECT coalesce(max(op_id), 0) FROM relayer.operations')\" -gt $a ]"
}
sim_events() { grep -c "\"event\":\"$1\"" "$simlog" || true; }
sim_event_after() { [ "$(sim_events "$1")" -gt "$2" ]; }

resume_refused() {
        rw resume -c "$conf" --from-last-checkpoint >"$dir/resume.out" 2>&1
        local rc=$?
        [ $rc -eq 1 ] || { echo "resume exited $rc, expected 1 (refused):" >&2; cat "$dir/resume.out" >&2; return 1; }
}
resume_ok() { rw resume -c "$conf" --from-last-checkpoint >"$dir/resume.out" 2>&1; }
# closed INVARIANT: relaywatch has seen the RESUME (no open incident for it).
closed() { ! jq -e --arg i "$1" '.incidents[] | select(.invariant == $i)' "$status" >/dev/null 2>&1; }
resumed() { wait_for 40 resume_ok && wait_for 20 closed "$1"; }

# The audit log: the HALT carries the checkpoint that covers its verdict, and
# the log extends it, by relaywatch's verifier and by Go's sumdb note and tlog
# (tests/audit/tlogcheck; TLOGCHECK is set by ctest).
audit_dir() { echo "$(sed -n 's/^state_dir = //p' "$conf")/audit"; }
halt_note() {
        tail_json | jq -sj --arg i "$1" "$signed_halts | last | .msg.audit.checkpoint // empty" \
                >"$dir/halt-$1.note"
        [ -s "$dir/halt-$1.note" ]
}
audit_extends() { rw audit verify --dir "$(audit_dir)" --checkpoint "$dir/halt-$1.note" >/dev/null; }
audit_vkey() { head -n 1 "$(audit_dir)/audit-000000000000.jsonl" | jq -r .content.vkey; }
go_checks() {
        "$TLOGCHECK" note --vkey "$(audit_vkey)" "$dir/halt-$1.note" >/dev/null &&
                "$TLOGCHECK" log --vkey "$(audit_vkey)" "$(audit_dir)" >/dev/null
}
audit_recorded() { grep -q "\"kind\":\"$1\"" "$(audit_dir)"/audit-*.jsonl; }
# the first record of KIND, proved under the last checkpoint through the configuration
audit_provable() {
        local seq
        seq=$(grep -h "\"kind\":\"$1\"" "$(audit_dir)"/audit-*.jsonl | head -n 1 | jq -r .seq)
        rw audit prove -c "$conf" --index "$seq" --json | jq -e --argjson s "$seq" '.index == $s and (.proof | length > 0)' >/dev/null
}

# A full round: inject, a verified HALT, the relayer stops and acknowledges,
# resume refused, mend, resume accepted, the relayer works again.
halt_round() {
        local kind=$1 inv=$2 n h r
        n=$(halts "$inv")
        h=$(sim_events halted)
        "inject_$kind"
        check "$kind: a HALT for $inv on the stream, verified with the watchdog's key" wait_for 30 halts_above "$inv" "$n"
        check "  the simulated relayer stopped" wait_for 20 sim_event_after halted "$h"
        check "  the HALT was acknowledged by the relayer's group" wait_for 20 acked "$inv"
        check "  the HALT carries the audit checkpoint of its verdict" halt_note "$inv"
        check "  the audit log extends it (relaywatch audit verify)" audit_extends "$inv"
        if [[ -n ${TLOGCHECK:-} ]]; then
                check "  and by Go's sumdb note and tlog (tlogcheck)" go_checks "$inv"
        fi
        check "  the audit log records the halt" audit_recorded halt_published
        check "  relaywatch audit prove -c proves its record" wait_for 20 audit_provable halt_published
        check "  and its acknowledgement" audit_recorded halt_acknowledged
        check "  relaywatch status shows the acknowledgement of every relayer group" status_acked "$inv"
        check "  and it took effect: no operation while halted" stands_still
        check "  relaywatch status says HALTED (exit 1)" bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1; [ \$? -eq 1 ]"
        check "  resume refused while $inv is violated" resume_refused
        "undo_$kind"
        r=$(sim_events resumed)
        check "  mended: resume accepted" resumed "$inv"
        check "  the audit log records the RESUME (with the operator's key id)" \
                wait_for 10 audit_recorded resume
        check "  the relayer resumed" wait_for 20 sim_event_after resumed "$r"
        check "  and works again" moves_on
        check "  exactly one HALT for this incident" halt_count_is "$inv" $((n + 1))
}

check "simulated traffic reaches two released withdrawals" wait_traffic
check "relaywatch run is cycling and healthy (status exit 0)" \
        wait_for 30 bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1"
check "  the heartbeat key is set, with a TTL" bash -c "[ \"\$(redis-cli -h 127.0.0.1 -p $REDIS_PORT -a '$REDIS_PASSWORD' --no-auth-warning PTTL relayer:watchdog:heartbeat)\" -gt 0 ]"
check "  cycles log JSON lines with a correlation id" \
        bash -c "grep -m1 '\"event\":\"start\"' '$log' | jq -e '.ts and .level' >/dev/null"

# --- forged control messages: signed elsewhere, copied onto the relayer's stream
rw keygen --out "$dir/keys/stranger.key" >/dev/null
scratch_conf() { # NAME OPERATOR_PUB: the stack's config on a scratch stream
        sed -e "/^\[control\]/a stream = $1:control" \
                -e "s|^operator_keys = .*|operator_keys = $2|" \
                -e "s|^state_dir = .*|state_dir = $dir/$1-state|" "$conf" >"$dir/$1.conf"
        chmod 600 "$dir/$1.conf"
}
entry_field() { redis XRANGE "$1" - + | sed -n "${2}p"; } # STREAM LINE (3: msg, 5: sig)
forward() { redis XADD relayer:control '*' msg "$1" sig "$2" >/dev/null; }

scratch_conf forge1 "$dir/keys/operator.key.pub"
rw halt -c "$dir/forge1.conf" --reason "forged: unknown key" --key "$dir/keys/stranger.key" >/dev/null 2>&1
scratch_conf forge2 "$dir/keys/operator.key.pub"
rw halt -c "$dir/forge2.conf" --reason "genuine text" >/dev/null 2>&1
scratch_conf forge3 "$dir/keys/stranger.key.pub"
rw halt -c "$dir/forge3.conf" --reason "for a forged resume" >/dev/null 2>&1
rw resume -c "$dir/forge3.conf" --from-last-checkpoint --key "$dir/keys/stranger.key" >/dev/null 2>&1
forged_resume_msg=$(entry_field forge3:control 8)
forged_resume_sig=$(entry_field forge3:control 10)

rejected=$(grep -ci reject "$simlog" || true)
h=$(sim_events halted)
forward "$(entry_field forge1:control 3)" "$(entry_field forge1:control 5)"
altered=$(entry_field forge2:control 3 | sed 's/genuine text/altered text/')
forward "$altered" "$(entry_field forge2:control 5)"
more_rejections() { [ "$(grep -ci reject "$simlog")" -ge $((rejected + 2)) ]; }
check "forged HALTs (unknown key; altered msg) rejected by the relayer's consumer" wait_for 10 more_rejections
check "  control tail marks both REJECTED and exits 1" \
        bash -c "'$RELAYWATCH_BIN' control tail -c '$conf' --json --count 2 >/dev/null 2>&1; [ \$? -eq 1 ]"
check "  the relayer did not stop" bash -c "[ \$(grep -c '\"event\":\"halted\"' '$simlog') -eq $h ]"
check "  and keeps working" moves_on
check "  relaywatch published nothing for them" halt_count_is MANUAL 0

# --- every Tier 1 violation, one after the other
halt_round mint SUPPLY_MISMATCH
halt_round proof PROOF_VERIFICATION_FAIL

# NONCE_DESYNC needs a relayer with nothing in flight: halt it by hand first.
# The manual halt and the nonce's are two incidents, two messages.
h=$(sim_events halted)
check "manual halt (relaywatch halt --reason) publishes a verified HALT" \
        bash -c "'$RELAYWATCH_BIN' halt -c '$conf' --reason 'maintenance: nonce test' >/dev/null && sleep 0.1"
check "  the relayer stopped" wait_for 20 sim_event_after halted "$h"
check "  its last transactions mined" wait_settled
check "  a forged RESUME (signed by a key that is not the operator's) is rejected" \
        bash -c "n=\$(grep -ci reject '$simlog'); redis-cli -h 127.0.0.1 -p $REDIS_PORT -a '$REDIS_PASSWORD' --no-auth-warning XADD relayer:control '*' msg '$forged_resume_msg' sig '$forged_resume_sig' >/dev/null; sleep 2; [ \$(grep -ci reject '$simlog') -gt \$n ]"
check "  and the relayer stays halted" stands_still
n=$(halts NONCE_DESYNC)
inject_nonce
check "nonce +3 during the manual halt: its own verified HALT for NONCE_DESYNC" wait_for 30 halts_above NONCE_DESYNC "$n"
check "  acknowledged" wait_for 20 acked NONCE_DESYNC
check "  resume refused while NONCE_DESYNC is violated" resume_refused
undo_nonce
r=$(sim_events resumed)
check "  mended: resume accepted (lifting both halts)" resumed NONCE_DESYNC
check "  the RESUME lists both in lifts (and in its evidence)" last_resume_lifts 2
check "  the relayer resumed" wait_for 20 sim_event_after resumed "$r"
check "  and works again" moves_on

# --- a relayer that is not there to acknowledge
service relayer-sim stop
n=$(halts SUPPLY_MISMATCH)
inject_mint
check "relayer stopped, 1000 bSIGIL minted: a verified HALT all the same" wait_for 30 halts_above SUPPLY_MISMATCH "$n"
not_acked() { grep -q '"kind":"HALT_NOT_ACKNOWLEDGED".*SUPPLY_MISMATCH' "$log"; }
check "  no ack within ack_timeout_ms (10 s): HALT_NOT_ACKNOWLEDGED" wait_for 25 not_acked
check "  relaywatch status lists the finding" wait_for 5 \
        bash -c "'$RELAYWATCH_BIN' status -c '$conf' 2>&1 | grep -q HALT_NOT_ACKNOWLEDGED"
service relayer-sim start
check "  the relayer, started again, reads the HALT it missed and acknowledges it" wait_for 30 acked SUPPLY_MISMATCH
undo_mint
check "  mended: resume accepted" resumed SUPPLY_MISMATCH

# --- Redis away when the violation happens: the HALT waits in the outbox
n=$(halts PROOF_VERIFICATION_FAIL)
service redis stop
inject_proof
queued() { grep -q '"event":"halt_queued".*PROOF_VERIFICATION_FAIL' "$log"; }
outbox_has() { compgen -G "$dir/state/outbox/*.msg" >/dev/null; }
check "Redis stopped, proof tampered: the HALT is queued" wait_for 30 queued
check "  in the fsync'd outbox on disk" outbox_has
service redis start
check "  Redis back: the HALT is delivered, verified" wait_for 30 halts_above PROOF_VERIFICATION_FAIL "$n"
check "  the outbox is empty" bash -c "! compgen -G '$dir/state/outbox/*.msg' >/dev/null"
check "  acknowledged" wait_for 30 acked PROOF_VERIFICATION_FAIL
undo_proof
check "  mended: resume accepted" resumed PROOF_VERIFICATION_FAIL
check "  exactly one HALT for the incident" halt_count_is PROOF_VERIFICATION_FAIL $((n + 1))

# --- SIGKILL right after the HALT went out, and a restart
n=$(halts SUPPLY_MISMATCH)
lines=$(wc -l <"$log")
inject_mint
published() { tail -n +"$((lines + 1))" "$log" | grep -q '"event":"halt_published".*SUPPLY_MISMATCH'; }
check "mint: the HALT is published" wait_for 30 published
kill -KILL "$(rw_pid)"
service relaywatch start
sleep 5
check "  relaywatch killed with SIGKILL and restarted: still one HALT for the incident" halt_count_is SUPPLY_MISMATCH $((n + 1))
check "  the restarted relaywatch carries the incident on" wait_for 20 acked SUPPLY_MISMATCH
undo_mint
check "  mended: resume accepted" resumed SUPPLY_MISMATCH

# --- SIGKILL with the HALT still in the outbox (Redis away), restart with Redis back
n=$(halts SUPPLY_MISMATCH)
service redis stop
lines=$(wc -l <"$log")
inject_drain
queued_drain() { tail -n +"$((lines + 1))" "$log" | grep -q '"event":"halt_queued".*SUPPLY_MISMATCH'; }
check "drain with Redis stopped: the HALT is queued" wait_for 30 queued_drain
kill -KILL "$(rw_pid)"
service redis start
lines=$(wc -l <"$log")
service relaywatch start
delivered() { tail -n +"$((lines + 1))" "$log" | grep -q '"event":"halt_delivered"'; }
check "  killed and restarted: the outbox is delivered first" wait_for 30 delivered
sleep 3
check "  exactly one HALT for the incident" halt_count_is SUPPLY_MISMATCH $((n + 1))
check "  acknowledged" wait_for 30 acked SUPPLY_MISMATCH
undo_drain
check "  mended: resume accepted" resumed SUPPLY_MISMATCH

# --- two replicas watching the same bridge
replica=
kill_replica() { [ -n "$replica" ] && kill -TERM "$replica" 2>/dev/null; replica=; }
sed -e "s|^state_dir = .*|state_dir = $dir/state2|" -e "s|^id = .*|id = replica-2|" "$conf" >"$dir/replica2.conf"
# the replica also witnesses the first one's audit log ([audit] witness_log)
primary_id=$(sed -n 's/^id = //p' "$conf" | head -n 1)
rw keygen --out "$dir/witness.key" >/dev/null
printf '\n[audit]\nwitness_log = relaywatch:audit:%s\nwitness_log_pubkey = %s/audit.key.pub\nwitness_signing_key = %s\n' \
        "$primary_id" "$(audit_dir)" "$dir/witness.key" >>"$dir/replica2.conf"
chmod 600 "$dir/replica2.conf"
"$RELAYWATCH_BIN" run -c "$dir/replica2.conf" 2>"$dir/logs/replica2.log" &
replica=$!
sleep 3
n=$(halts PROOF_VERIFICATION_FAIL)
inject_proof
both_saw() {
        grep -q '"event":"halt_\(published\|joined\)".*PROOF_VERIFICATION_FAIL' "$dir/logs/replica2.log" &&
                tail -n 200 "$log" | grep -q '"event":"halt_\(published\|joined\)".*PROOF_VERIFICATION_FAIL'
}
check "two replicas: both detect the tampered proof" wait_for 30 both_saw
check "  and the stream holds one HALT for the incident" halt_count_is PROOF_VERIFICATION_FAIL $((n + 1))
undo_proof
check "  mended: resume accepted" resumed PROOF_VERIFICATION_FAIL
cosigned() {
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning --raw \
                HGET "relaywatch:audit:$primary_id:cosigned" relaywatch/replica-2 | head -c -1 \
                >"$dir/cosigned.note"
        [ "$(grep -c '^— ' "$dir/cosigned.note")" -eq 2 ]
}
check "  the replica witnesses the first one's audit log: a cosigned checkpoint in Redis" \
        wait_for 20 cosigned
check "  which the first one's log extends (relaywatch audit verify --checkpoint)" \
        rw audit verify --dir "$(audit_dir)" --checkpoint "$dir/cosigned.note"
check "  the witness keeps what it accepted" bash -c "ls '$dir'/state2/witness/witness-*.json"
kill_replica

# --- SIGHUP: a broken config is refused, the running one kept; a good one taken
cp "$conf" "$dir/relaywatch.conf.good"
printf '\n[bogus]\nkey = value\n' >>"$conf"
lines=$(wc -l <"$log")
kill -HUP "$(rw_pid)"
refused() { tail -n +"$((lines + 1))" "$log" | grep -q '"event":"reload_refused"'; }
check "SIGHUP with a broken config: reload refused, naming the problem" wait_for 10 refused
check "  the log line quotes the file and line" \
        bash -c "tail -n +$((lines + 1)) '$log' | grep '\"event\":\"reload_refused\"' | grep -q 'bogus'"
before=$(jq .updated_at_ms "$status")
check "  still cycling on the old config" wait_for 10 bash -c "[ \$(jq .updated_at_ms '$status') -gt $before ]"
cp "$dir/relaywatch.conf.good" "$conf"
kill -HUP "$(rw_pid)"
check "  fixed and SIGHUP again: reloaded" wait_for 10 bash -c "tail -n +$((lines + 1)) '$log' | grep -q '\"event\":\"reloaded\"'"

# --- the last one: a root anchored twice cannot be undone
h=$(sim_events halted)
rw halt -c "$conf" --reason "maintenance: duplicate test" >/dev/null
check "manual halt before the duplicate anchor" wait_for 20 sim_event_after halted "$h"
wait_settled
n=$(halts DUPLICATE_BATCH)
inject_duplicate
check "a known root anchored again: a verified HALT for DUPLICATE_BATCH" wait_for 60 halts_above DUPLICATE_BATCH "$n"
check "  acknowledged" wait_for 20 acked DUPLICATE_BATCH
# someone sends with the relayer's key after the ack: the halt did not take effect
sleep 2
"$cast" send --rpc-url "$EXEC_RPC_URL" --private-key "$RELAYER_PRIVATE_KEY" "$RELAYER_ADDRESS" >/dev/null
not_effective() { grep -q '"kind":"HALT_NOT_EFFECTIVE".*DUPLICATE_BATCH' "$log"; }
check "  a transaction from the relayer's key after the ack: HALT_NOT_EFFECTIVE" wait_for 30 not_effective
check "  resume refused: DUPLICATE_BATCH stays violated" resume_refused
gone() { ! alive "$1"; }
pid=$(rw_pid)
kill -TERM "$pid"
check "  SIGTERM: relaywatch finishes its cycle and stops cleanly" wait_for 10 gone "$pid"
check "  with a stop line in its log" bash -c "tail -n 5 '$log' | grep -q '\"event\":\"stop\"'"
audit_stopped() {
        local f
        f=$(ls "$(audit_dir)"/audit-*.jsonl | tail -n 1)
        tail -n 2 "$f" | head -n 1 | grep -q '"kind":"stop"' &&
                tail -n 1 "$f" | grep -q '"kind":"checkpoint"' &&
                rw audit verify --dir "$(audit_dir)" >/dev/null
}
check "  its audit log ends in a stop record and a checkpoint, and verifies whole" audit_stopped
# A copy of the log with its tail cut off verifies alone, and is caught
# against every copy of a checkpoint kept away from the watchdog's disk.
cut=$dir/audit-cut
rm -rf "$cut" && cp -a "$(audit_dir)" "$cut"
first=$(ls "$cut"/audit-*.jsonl | head -n 1)
ls "$cut"/audit-*.jsonl | tail -n +2 | xargs -r rm -f
head -n 3 "$first" >"$first.tmp" && mv "$first.tmp" "$first"
rw audit checkpoint -c "$conf" --from db >"$dir/db.note" 2>/dev/null || true
rw audit checkpoint -c "$conf" --from redis >"$dir/redis.note" 2>/dev/null || true
cut_caught() {
        local rc=0
        rw audit verify --dir "$cut" --pubkey "$(audit_dir)/audit.key.pub" --checkpoint "$1" \
                >/dev/null 2>&1 || rc=$?
        [ "$rc" -eq 1 ]
}
check "the tail cut off a copy of the audit log: caught against the database's checkpoint" \
        cut_caught "$dir/db.note"
check "  against Redis's" cut_caught "$dir/redis.note"
check "  against a HALT message's" cut_caught "$(ls "$dir"/halt-*.note | head -n 1)"
check "  against the witness's cosigned one" cut_caught "$dir/cosigned.note"

# In the sanitizer build every process above ran under ASan+UBSan: a report
# (a leak at exit included) is in its log even when it did not kill it.
service relayer-sim stop
no_sanitizer_reports() {
        ! grep -l 'Sanitizer\|runtime error:' "$dir"/logs/relaywatch.log "$dir"/logs/replica2.log \
                "$dir"/logs/relayer-sim.log
}
check "no sanitizer report in the logs of relaywatch, its replica or the simulator" no_sanitizer_reports

finish
