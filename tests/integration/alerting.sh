#!/bin/bash
# alerting.sh SOURCE_DIR WORK_DIR
#
# Paging on a live stack of its own (STACK_WATCHDOG=1), every receiver real
# where it runs here and a strict stand-in where it cannot:
#   PagerDuty, Slack, webhook   tests/support/alert_receiver.mjs (checks each
#                               payload against the documented format)
#   email                       tests/support/smtp_sink.mjs (SMTP on loopback)
#   Alertmanager                the real one from Debian, queried back through
#                               its own API
# and checks that
#   `relaywatch alert test`                 -> every route delivers a marked test
#   normal traffic                          -> no page at all
#   each Tier 1 violation                   -> one PagerDuty trigger; after the fix
#                                              and the resume one resolve, same dedup key
#   Alertmanager                            -> the alert active with its labels, then
#                                              resolved
#   email                                   -> the CRITICAL mail in the sink
#   a restart while violated                -> no second trigger
#   two replicas                            -> one trigger
#   PagerDuty answering 500, Slack 429      -> retried, delivered once
#   Slack hanging                           -> PagerDuty still paged, the HALT still out
#   a silence                               -> the HALT is published, the page held
#                                              until the silence is expired
#   a HALT nobody acknowledges              -> re-paged on the same dedup key
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses node, alertmanager, curl, jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
export STACK_WATCHDOG=1

command -v prometheus-alertmanager >/dev/null || { echo "prometheus-alertmanager is not installed (scripts/bootstrap installs prometheus-alertmanager)" >&2; exit 1; }

# The receivers live in $dir/paging, which stack-up leaves alone.
"$src/scripts/stack-down" "$dir" --purge >/dev/null 2>&1 || true
rm -rf "$dir"
pg=$dir/paging
mkdir -p "$pg/am/data" "$pg/mail"
pids=()
replica=
kill_replica() { [ -n "$replica" ] && kill -TERM "$replica" 2>/dev/null; replica=; }
cleanup() {
        kill_replica
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi
}
trap cleanup EXIT

# free_port: a loopback port nothing listens on.
free_port() {
        local p
        while :; do
                p=$((20000 + RANDOM % 20000))
                port_listening "$p" || { echo "$p"; return; }
        done
}
# started PORT NAME: wait until the server listens.
started() { wait_for 20 port_listening "$1" || { echo "$2 did not start" >&2; exit 1; }; }

RECV_PORT=$(free_port)
SMTP_PORT=$(free_port)
AM_PORT=$(free_port)
WEBHOOK_SECRET=relaywatch-test-webhook-secret-0123456789
PD_KEY=R0123456789abcdef0123456789abcde
node "$src/tests/support/alert_receiver.mjs" --port "$RECV_PORT" --log "$pg/receiver.jsonl" \
        --webhook-secret "$WEBHOOK_SECRET" >"$pg/receiver.out" 2>&1 &
pids+=($!)
node "$src/tests/support/smtp_sink.mjs" --port "$SMTP_PORT" --dir "$pg/mail" \
        >"$pg/smtp.out" 2>&1 &
pids+=($!)
cat >"$pg/am/am.yml" <<'YML'
route:
  receiver: blackhole
receivers:
  - name: blackhole
YML
prometheus-alertmanager --config.file="$pg/am/am.yml" --storage.path="$pg/am/data" \
        --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
        >"$pg/alertmanager.log" 2>&1 &
pids+=($!)
started "$RECV_PORT" alert_receiver
started "$SMTP_PORT" smtp_sink
started "$AM_PORT" alertmanager
recv=http://127.0.0.1:$RECV_PORT
am=http://127.0.0.1:$AM_PORT

export PD_KEY WEBHOOK_SECRET
cat >"$pg/alerting.conf" <<CONF
[alerting]
flap_window_s = 2
runbook_url = https://runbooks.example/relaywatch/

[alert pager]
type = pagerduty
url = $recv
routing_key = \${PD_KEY}

[alert chat]
type = slack
url = $recv/slack/T000/B000

[alert mail]
type = email
url = smtp://127.0.0.1:$SMTP_PORT
mail_from = relaywatch@bridge.example
mail_to = oncall@bridge.example

[alert hook]
type = webhook
url = $recv/webhook/relaywatch
secret = \${WEBHOOK_SECRET}

[alert am]
type = alertmanager
url = $am
resend_s = 10
CONF
export STACK_EXTRA_CONFIG=$pg/alerting.conf
"$src/scripts/stack-up" "$dir" || { echo "stack-up failed" >&2; exit 1; }
. "$dir/stack.env"
conf=$RELAYWATCH_CONFIG
. "$src/scripts/lib/common.sh"
. "$src/scripts/lib/violations.sh"
export RELAYWATCH_OPERATOR_KEY
log=$dir/logs/relaywatch.log
rw() { "$RELAYWATCH_BIN" "$@"; }

# --- what the receivers got
received() { curl -sf "$recv/_log"; }
# pd ACTION CLASS: PagerDuty events of ACTION for alerts of CLASS (their dedup keys start with it).
# (tests and updates of an open alert are left out: they open no incident)
pd() { received | jq --arg a "$1" --arg c "$2" '[.[] | select(.kind == "pagerduty" and .valid and .status == 202 and .body.event_action == $a and (.body.dedup_key | startswith($c)))]'; }
pd_count() { pd "$1" "$2" | jq length; }
pd_count_is() { [ "$(pd_count "$1" "$2")" -eq "$3" ]; }
none_invalid() {
        local n
        n=$(received | jq '[.[] | select(.valid | not)] | length')
        [ "$n" -eq 0 ] || { received | jq -c '.[] | select(.valid | not) | {path, errors}' >&2; return 1; }
}
export -f received pd pd_count pd_count_is
export recv
control() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$recv/_control" >/dev/null; }
am_active() { curl -sf "$am/api/v2/alerts?active=true&silenced=false&inhibited=false" | jq -e --arg n "$1" '[.[] | select(.labels.alertname == $n and .status.state == "active")] | length > 0' >/dev/null; }
am_labels_ok() {
        curl -sf "$am/api/v2/alerts?active=true" | jq -e --arg n "$1" \
                '[.[] | select(.labels.alertname == $n)] | first |
                 .labels.severity == "critical" and .labels.invariant == $n and (.labels.subject | length > 0) and
                 (.annotations.runbook_url | startswith("https://runbooks.example/relaywatch/")) and
                 (.annotations.correlation_id | length > 0)' >/dev/null
}
mail_about() { grep -l "$1" "$pg"/mail/*.eml >/dev/null 2>&1; }
mail_valid() { [ -s "$pg/mail/index.jsonl" ] && jq -se 'all(.valid)' "$pg/mail/index.jsonl" >/dev/null; }

# --- halts and resumes (as halt_control.sh)
tail_json() { rw control tail -c "$conf" --json --count 10000 2>/dev/null; }
halts() { tail_json | jq -s --arg i "$1" '[.[] | select(.verified and .msg.type == "HALT" and .msg.invariant == $i)] | length'; }
halts_above() { [ "$(halts "$1")" -gt "$2" ]; }
status=$dir/state/status.json
closed() { ! jq -e --arg i "$1" '.incidents[] | select(.invariant == $i)' "$status" >/dev/null 2>&1; }
resume_ok() { rw resume -c "$conf" --from-last-checkpoint >"$dir/resume.out" 2>&1; }
resumed() { wait_for 60 resume_ok && wait_for 20 closed "$1"; }
acked() { jq -e --arg i "$1" '.incidents[] | select(.invariant == $i) | .acked_at_ms > 0' "$status" >/dev/null 2>&1; }

check "simulated traffic reaches two released withdrawals" wait_traffic
check "relaywatch run is cycling and healthy" wait_for 30 bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1"

# --- alert test
check "relaywatch alert test: every route delivers" bash -c "'$RELAYWATCH_BIN' alert test -c '$conf' >'$dir/alert-test.out' 2>&1"
test_received() {
        received | jq -e '[.[] | select(.valid and (.body.payload.custom_details.test == true or
                .body.purpose == "test" or ((.body.text // "") | startswith("[TEST]"))))] |
                map(.kind) | unique | length == 3' >/dev/null &&
                wait_for 10 mail_about 'relaywatch test alert'
}
check "  PagerDuty, Slack, the webhook and the mail sink got the marked test" test_received
base_triggers=$(pd_count trigger "")

# --- quiet traffic pages nobody
sleep 15
check "15 s of normal traffic: no PagerDuty trigger" pd_count_is trigger "" "$base_triggers"

# --- one Tier 1 round: inject, one trigger, mend, resume, one resolve
round() {
        local kind=$1 inv=$2 n
        n=$(halts "$inv")
        "inject_$kind"
        check "$kind: a HALT for $inv" wait_for 40 halts_above "$inv" "$n"
        check "  one PagerDuty trigger for $inv" wait_for 30 pd_count_is trigger "$inv" 1
        [ -n "${3:-}" ] && "$3" "$inv"
        sleep 6
        check "  still one trigger a few cycles later" pd_count_is trigger "$inv" 1
        "undo_$kind"
        check "  mended and resumed" resumed "$inv"
        check "  one resolve, with the trigger's dedup key" wait_for 40 bash -c "
                [ \"\$(pd resolve '$inv' | jq -r '.[].body.dedup_key' | sort -u)\" = \"\$(pd trigger '$inv' | jq -r '.[].body.dedup_key' | sort -u)\" ] &&
                [ \"\$(pd_count resolve '$inv')\" -eq 1 ]"
}
pd() { received | jq --arg a "$1" --arg c "$2" '[.[] | select(.kind == "pagerduty" and .valid and .status == 202 and .body.event_action == $a and (.body.dedup_key | startswith($c)) and (.body.payload.custom_details.test != true) and (.body.payload.custom_details.update != true))]'; }
export -f pd

# mint, with Alertmanager, the mail and a restart while violated
during_mint() {
        check "  Alertmanager has $1 active" wait_for 20 am_active "$1"
        check "  with its labels and annotations" am_labels_ok "$1"
        check "  the CRITICAL mail reached the sink, well formed" bash -c "$(declare -f wait_for mail_about mail_valid); pg='$pg'; wait_for 20 mail_about '$1' && mail_valid"
        "$src/scripts/stack-service" "$dir" relaywatch restart >/dev/null
        check "  restarted while violated: relaywatch is back" wait_for 30 bash -c "'$RELAYWATCH_BIN' status -c '$conf' >/dev/null 2>&1; [ \$? -le 1 ]"
}
round mint SUPPLY_MISMATCH during_mint
am_resolved() { ! am_active "$1"; }
check "  Alertmanager: the alert is resolved" wait_for 30 am_resolved SUPPLY_MISMATCH

# proof, with a second replica watching the same bridge
during_proof() {
        sed -e "s|^state_dir = .*|state_dir = $dir/state2|" -e "s|^id = .*|id = replica-2|" "$conf" >"$dir/replica2.conf"
        chmod 600 "$dir/replica2.conf"
        "$RELAYWATCH_BIN" run -c "$dir/replica2.conf" 2>"$dir/logs/replica2.log" &
        replica=$!
        check "  a second replica sees it too" wait_for 30 grep -q "alert_claimed_elsewhere\|\"alert\":\"$1\"" "$dir/logs/replica2.log"
}
round proof PROOF_VERIFICATION_FAIL during_proof
kill_replica

# nonce, with PagerDuty failing twice and Slack asking to slow down
control '{"path_prefix": "/v2/enqueue", "mode": "status", "status": 500, "count": 2}'
control '{"path_prefix": "/slack/", "mode": "status", "status": 429, "retry_after": "1", "count": 1}'
round nonce NONCE_DESYNC
check "  the 500s were retried" bash -c "received | jq -e '[.[] | select(.kind == \"pagerduty\" and .status == 500)] | length >= 2' >/dev/null"

# a silence holds the page, never the HALT
check "silence add SUPPLY_MISMATCH" bash -c "'$RELAYWATCH_BIN' silence add SUPPLY_MISMATCH --for 10m --reason 'alerting test' -c '$conf' >'$dir/silence.out' 2>&1"
sid=$(grep -o 's-[0-9a-f]\{16\}' "$dir/silence.out" | head -1)
n=$(halts SUPPLY_MISMATCH)
inject_mint
check "silenced: the HALT is still published" wait_for 40 halts_above SUPPLY_MISMATCH "$n"
sleep 6
check "  but no new trigger while silenced" pd_count_is trigger SUPPLY_MISMATCH 1
check "  status shows the silence" bash -c "'$RELAYWATCH_BIN' status -c '$conf' 2>&1 | grep -q '$sid'"
check "silence expire" bash -c "'$RELAYWATCH_BIN' silence expire '$sid' -c '$conf' >/dev/null 2>&1"
check "  the page it held goes out" wait_for 20 pd_count_is trigger SUPPLY_MISMATCH 2
undo_mint
check "  mended and resumed" resumed SUPPLY_MISMATCH
check "  and resolved" wait_for 40 pd_count_is resolve SUPPLY_MISMATCH 2

# a root anchored twice (it cannot be undone: the relayer stays halted), with Slack hanging;
# PagerDuty and the HALT do not wait for it (under a manual halt, as in
# halt_control.sh, so the test's own transaction is not a nonce desync)
h=$(grep -c '"event":"halted"' "$dir/logs/relayer-sim.log" || true)
rw halt -c "$conf" --reason "alerting test: duplicate anchor" >/dev/null
# the relayer stops at its next step: its anchor in flight must be mined
# before the test sends one with its key, or one would replace the other. A
# transaction of the relayer's that the nonce round's jump left unminable
# holds its step for its receipt timeout (60 s, twice at most), hence 180 s.
check "manual halt: the relayer stopped" wait_for 180 bash -c "[ \$(grep -c '\"event\":\"halted\"' '$dir/logs/relayer-sim.log') -gt $h ]"
wait_settled
control '{"path_prefix": "/slack/", "mode": "hang"}'
n=$(halts DUPLICATE_BATCH)
inject_duplicate
check "duplicate, Slack hanging: a HALT for DUPLICATE_BATCH" wait_for 60 halts_above DUPLICATE_BATCH "$n"
check "  one PagerDuty trigger for it all the same" wait_for 30 pd_count_is trigger DUPLICATE_BATCH 1
check "  and Alertmanager has it" wait_for 20 am_active DUPLICATE_BATCH
control '{"path_prefix": "/slack/", "mode": "ok"}'

# a HALT nobody acknowledges re-pages the same incident. Last, with the
# relayer halted (MANUAL and DUPLICATE_BATCH) and so idle: stopping it then
# leaves no transaction of its own in flight.
"$src/scripts/stack-service" "$dir" relayer-sim stop >/dev/null
n=$(halts SUPPLY_MISMATCH)
inject_mint
check "no relayer: a HALT for SUPPLY_MISMATCH is published" wait_for 40 halts_above SUPPLY_MISMATCH "$n"
repaged() {
        received | jq -e '[.[] | select(.kind == "pagerduty" and .body.event_action == "trigger" and
                (.body.dedup_key | startswith("SUPPLY_MISMATCH")) and
                (.body.payload.summary | startswith("HALT_NOT_ACKNOWLEDGED")))] | length >= 1' >/dev/null
}
check "  HALT_NOT_ACKNOWLEDGED re-pages on the same dedup key" wait_for 40 repaged
check "  without opening another incident" bash -c "[ \"\$(pd trigger SUPPLY_MISMATCH | jq -r '.[].body.dedup_key' | sort -u | wc -l)\" -eq 1 ]"

check "every payload the receivers got was valid" none_invalid
# In the sanitizer build relaywatch and its replica ran under ASan+UBSan: a
# report (a leak at exit included) is in their logs even when it did not kill them.
"$src/scripts/stack-service" "$dir" relaywatch stop >/dev/null
no_sanitizer_reports() { ! cat "$dir"/logs/relaywatch.log "$dir"/logs/replica2.log 2>/dev/null | grep -q 'Sanitizer\|runtime error:'; }
check "no sanitizer report in the logs of relaywatch or its replica" no_sanitizer_reports
check "no secret in relaywatch's log" bash -c "! grep -q '$PD_KEY\|$WEBHOOK_SECRET' '$log' '$dir/state/'*.json* 2>/dev/null"
finish
