#!/usr/bin/env bash
# The audit log's tampering suite: each class of tampering on a log written
# by the real writer (audit_gen), each caught by `relaywatch audit verify`
# with exit 1 and a message naming where; a crash in the middle of a write
# is not tampering; a file that is not an audit log is "cannot tell" (2).
#
#   audit_tamper.sh RELAYWATCH AUDIT_GEN
set -euo pipefail

RW=$1
GEN=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# verify NAME WANT_EXIT WANT_TEXT DIR [ARGS...]: runs audit verify on DIR's log
verify() {
        local name=$1 want=$2 text=$3 dir=$4
        shift 4
        local out rc=0
        out=$("$RW" audit verify --dir "$dir/audit" --pubkey "$dir/audit.key.pub" "$@" 2>&1) || rc=$?
        if [[ $rc -ne $want ]]; then
                bad "$name: exit $rc, expected $want: $out"
        elif [[ -n $text && $out != *"$text"* ]]; then
                bad "$name: the output does not say \"$text\": $out"
        else
                ok "$name (exit $rc)"
        fi
}

# fresh NAME [GEN ARGS...]: a new log in $WORK/NAME
fresh() {
        local name=$1
        shift
        mkdir -p "$WORK/$name"
        "$GEN" "$WORK/$name" --start-ms 1700000000000 "$@" >/dev/null
}

newest() { ls "$1"/audit/audit-*.jsonl | tail -1; }

# 0. an untouched log verifies, across key epochs and rotated files
fresh clean --records 300 --checkpoint-every 25 --epoch-s 60 --rotate-bytes 20000
verify "untouched log with epochs and rotated files" 0 "intact" "$WORK/clean"
[[ $(ls "$WORK"/clean/audit/audit-*.jsonl | wc -l) -gt 2 ]] && ok "the log was rotated" \
        || bad "the log was not rotated"
[[ $(grep -c '"kind":"key_epoch"' "$WORK"/clean/audit/audit-*.jsonl | awk -F: '{s+=$2} END {print s}') -gt 2 ]] \
        && ok "the key evolved" || bad "the key did not evolve"

# 1. one byte changed
fresh byte --records 60
f=$(newest "$WORK/byte")
sed -i '20s/simulated/simulatee/' "$f"
verify "one byte changed" 1 "one of records 13 to 22 (audit-000000000000.jsonl lines 14 to 23)" "$WORK/byte"

# 2. a record deleted
fresh deleted --records 60
sed -i '30d' "$(newest "$WORK/deleted")"
verify "a record deleted" 1 "are missing" "$WORK/deleted"

# 3. two records swapped
fresh swapped --records 60
f=$(newest "$WORK/swapped")
awk 'NR==31 {hold=$0; next} NR==32 {print; print hold; next} {print}' "$f" >"$f.new" && mv "$f.new" "$f"
verify "two records swapped" 1 "audit-000000000000.jsonl:31: record 31 follows record 29" "$WORK/swapped"

# 4. the tail truncated: fine alone, caught against a checkpoint kept elsewhere
fresh tail --records 100 --checkpoint-every 10
"$RW" audit verify --dir "$WORK/tail/audit" --pubkey "$WORK/tail/audit.key.pub" --json \
        | jq -j .checkpoint >"$WORK/tail-checkpoint.note"
f=$(newest "$WORK/tail")
head -n 50 "$f" >"$f.new" && mv "$f.new" "$f"
verify "the tail truncated, alone" 0 "intact" "$WORK/tail"
verify "the tail truncated, against a saved checkpoint" 1 "cut short or rolled back" "$WORK/tail" \
        --checkpoint "$WORK/tail-checkpoint.note"

# 5. rolled back to an older valid copy
fresh rollback --records 40
cp -a "$WORK/rollback" "$WORK/rollback-old"
"$GEN" "$WORK/rollback" --start-ms 1700001000000 --records 40 >/dev/null
"$RW" audit verify --dir "$WORK/rollback/audit" --pubkey "$WORK/rollback/audit.key.pub" --json \
        | jq -j .checkpoint >"$WORK/rollback-new.note"
rm -rf "$WORK/rollback" && mv "$WORK/rollback-old" "$WORK/rollback"
verify "rolled back, alone" 0 "intact" "$WORK/rollback"
verify "rolled back, against the newer checkpoint" 1 "cut short or rolled back" "$WORK/rollback" \
        --checkpoint "$WORK/rollback-new.note"

# 6. a fork: two logs of the same size from one start, both signed
fresh forka --records 40
cp -a "$WORK/forka" "$WORK/forkb"
"$GEN" "$WORK/forka" --start-ms 1700001000000 --records 20 >/dev/null
"$GEN" "$WORK/forkb" --start-ms 1700002000000 --records 20 >/dev/null
verify "fork A alone" 0 "intact" "$WORK/forka"
verify "fork B alone" 0 "intact" "$WORK/forkb"
"$RW" audit verify --dir "$WORK/forka/audit" --pubkey "$WORK/forka/audit.key.pub" --json \
        | jq -j .checkpoint >"$WORK/forka.note"
verify "fork B against A's checkpoint of the same size" 1 "a fork" "$WORK/forkb" \
        --checkpoint "$WORK/forka.note"

# 7. re-signed with another key: another log's genesis pinned
fresh other --records 10
rc=0
out=$("$RW" audit verify --dir "$WORK/clean/audit" --pubkey "$WORK/other/audit.key.pub" 2>&1) || rc=$?
[[ $rc -eq 1 && $out == *"pinned key"* ]] && ok "another key pinned (exit 1)" \
        || bad "another key pinned: exit $rc: $out"
# and one checkpoint's note replaced by one another key signed
fresh resign --records 30 --checkpoint-every 10
line=$(grep -n '"kind":"checkpoint"' "$(newest "$WORK/other")" | tail -1 | cut -d: -f2-)
n=$(grep -n '"kind":"checkpoint"' "$(newest "$WORK/resign")" | head -1 | cut -d: -f1)
f=$(newest "$WORK/resign")
note=$(jq -c .content.note <<<"$line")
jq -c --argjson note "$note" 'if .kind == "checkpoint" and .seq == '"$((n - 1))"' then .content.note = $note else . end' "$f" >"$f.new"
mv "$f.new" "$f"
verify "a checkpoint re-signed with another key" 1 "checkpoint record $((n - 1))" "$WORK/resign"

# 8. a rotated file removed
fresh rotated --records 200 --rotate-bytes 8000
first=$(ls "$WORK"/rotated/audit/audit-*.jsonl | sed -n 2p)
rm "$first"
verify "a rotated file removed" 1 "are missing" "$WORK/rotated"
fresh rotated0 --records 200 --rotate-bytes 8000
rm "$(ls "$WORK"/rotated0/audit/audit-*.jsonl | head -1)"
verify "the first rotated file removed" 1 "files before it are missing" "$WORK/rotated0"

# 9. a checkpoint signed with an expired epoch's key (stolen before it was wiped)
fresh epoch --records 10 --epoch-s 3600
mkdir -p "$WORK/stolen" && cp "$WORK/epoch/audit/audit.key" "$WORK/stolen/audit.key"
"$GEN" "$WORK/epoch" --start-ms 1700010000000 --records 10 --epoch-s 3600 >/dev/null
grep -q '"kind":"key_epoch","correlation_id":"audit-epoch-1"' "$WORK"/epoch/audit/audit-*.jsonl \
        && ok "epoch 1 began" || bad "epoch 1 did not begin"
cmp -s "$WORK/stolen/audit.key" "$WORK/epoch/audit/audit.key" && bad "the old key is still on disk" \
        || ok "the old key is gone from audit.key"
"$GEN" forge "$WORK/epoch" "$WORK/stolen/audit.key"
verify "a checkpoint signed by an expired epoch's key" 1 "expired" "$WORK/epoch"

# 10. a crash in the middle of a write: verifies up to the last complete record, and says so
fresh crash --records 30
printf '{"seq":31,"ts":"2026-12-03T00:00:00.000Z","kind":"test_ev' >>"$(newest "$WORK/crash")"
verify "a write cut short" 0 "incomplete" "$WORK/crash"
"$GEN" "$WORK/crash" --start-ms 1700001000000 --records 5 >/dev/null
ls "$WORK"/crash/audit/partial-*.bin >/dev/null 2>&1 && ok "the cut record was set aside" \
        || bad "no partial-*.bin"
grep -q '"kind":"recovered"' "$(newest "$WORK/crash")" && ok "a recovered record says so" \
        || bad "no recovered record"
verify "after the restart" 0 "intact" "$WORK/crash"

# 10b. a real SIGKILL while the writer appends: verifies up to the last complete record
mkdir -p "$WORK/killed"
"$GEN" "$WORK/killed" --start-ms 1700000000000 --records 2000000 --checkpoint-every 50 >/dev/null 2>&1 &
gen=$!
sleep 1
kill -KILL "$gen" 2>/dev/null || true
wait "$gen" 2>/dev/null || true
cp "$WORK/killed/audit/audit.key.pub" "$WORK/killed/"
verify "SIGKILL in the middle of writing" 0 "intact" "$WORK/killed"
"$GEN" "$WORK/killed" --start-ms 1800000000000 --records 5 >/dev/null
verify "  and after the writer opens it again" 0 "intact" "$WORK/killed"

# 11. not an audit log, empty, missing key: cannot tell (2), naming the file and line
mkdir -p "$WORK/junk/audit" && cp "$WORK/clean/audit.key.pub" "$WORK/junk/"
echo 'hello, world' >"$WORK/junk/audit/audit-000000000000.jsonl"
verify "a file that is not an audit log" 2 "audit-000000000000.jsonl:1: not an audit log" "$WORK/junk"
: >"$WORK/junk/audit/audit-000000000000.jsonl"
verify "an empty file" 2 "empty" "$WORK/junk"
rc=0
out=$("$RW" audit verify "$WORK/clean/audit/"audit-*.jsonl 2>&1) || rc=$?
[[ $rc -eq 2 && $out == *"no key was pinned"* ]] && ok "no pinned key: cannot tell" \
        || bad "no pinned key: exit $rc: $out"

# proofs: an inclusion proof and a consistency proof come out and name the checkpoint
"$RW" audit prove --dir "$WORK/clean/audit" --index 5 --json | jq -e '.proof | length > 0' >/dev/null \
        && ok "audit prove" || bad "audit prove"
"$RW" audit consistency --dir "$WORK/clean/audit" --from 17 --json | jq -e '.proof | length > 0' >/dev/null \
        && ok "audit consistency" || bad "audit consistency"

echo "audit_tamper: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
