#!/usr/bin/env bash
# The audit log checked with independent transparency-log tooling: Go's
# golang.org/x/mod/sumdb/tlog and sumdb/note, driven by tlogcheck
# (tests/audit/tlogcheck), which shares no code with relaywatch.
#
#   audit_independent.sh RELAYWATCH TLOGCHECK AUDIT_GEN
#
#   1. audit_gen writes a log of a few thousand records, several key epochs
#      and rotated files with relaywatch's real writer;
#   2. `tlogcheck log` recomputes every leaf and every checkpoint's root with
#      tlog, opens every checkpoint note with note.Open under the key of its
#      epoch and follows the key chain from the pinned genesis vkey;
#   3. `relaywatch audit prove --json` for records at the start, the middle,
#      the end and on both sides of every epoch change, each checked by
#      `tlogcheck prove` (tlog.CheckRecord) against the note and the roots
#      tlogcheck computed itself;
#   4. `relaywatch audit consistency --json` from several sizes, to the last
#      checkpoint and to an older one, each checked by `tlogcheck
#      consistency` (tlog.CheckTree);
#   5. tlogcheck is no rubber stamp: one byte changed in a record, another
#      genesis key, a changed proof, a checkpoint signed with an expired
#      epoch's key (audit_gen forge) all fail;
#   6. the other way round: the logs Go wrote (tests/audit/fixtures) pass
#      `relaywatch audit verify`, its faulty ones fail, and relaywatch's
#      proofs over Go's log are Go's own proofs.
#
# Needs bash, jq, cmp. Exit 0 when every check passes, 1 otherwise (each
# failure named on stderr).
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 3 ]]; then
        echo "usage: $0 RELAYWATCH TLOGCHECK AUDIT_GEN" >&2
        exit 1
fi
RW=$1
TC=$2
GEN=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURES=$(cd "$HERE/../audit/fixtures" && pwd)
for b in "$RW" "$TC" "$GEN"; do
        [[ -x $b ]] || { echo "audit_independent: $b is not an executable (build it first)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "audit_independent: jq is not installed (scripts/bootstrap installs it)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/audit_independent.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
pass=0
failed=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# die MESSAGE: a failure the rest cannot go on without
die() { echo "FAIL: $*" >&2; echo "audit_independent: $pass passed, $((failed + 1)) failed" >&2; exit 1; }

# expect_ok NAME OUTFILE CMD...: CMD exits 0; its stdout in OUTFILE
expect_ok() {
        local name=$1 out=$2 rc=0
        shift 2
        "$@" >"$out" 2>"$out.err" || rc=$?
        if [[ $rc -ne 0 ]]; then
                bad "$name: exit $rc: $(cat "$out" "$out.err")"
                return 1
        fi
        ok "$name"
}

# expect_fail NAME TEXT CMD...: CMD exits non-zero and says TEXT
expect_fail() {
        local name=$1 text=$2 out rc=0
        shift 2
        out=$("$@" 2>&1) || rc=$?
        if [[ $rc -eq 0 ]]; then
                bad "$name: accepted (exit 0): $out"
        elif [[ -n $text && $out != *"$text"* ]]; then
                bad "$name: exit $rc but the output does not say \"$text\": $out"
        else
                ok "$name (exit $rc: ${out%%$'\n'*})"
        fi
}

# seqs_of KIND DIR: the seq of every record of that kind in the log in DIR
seqs_of() {
        cat "$2"/audit-*.jsonl | jq -R -r --arg k "$1" 'fromjson? | select(.kind == $k) | .seq'
}

# pub_of VKEY: the base64 Ed25519 key inside a verifier key NAME+HASH+BASE64
# (the base64 may hold '+' itself)
pub_of() {
        local k=${1#*+}
        printf '%s' "${k#*+}" | base64 -d | tail -c +2 | base64 -w0
}

# ---- 1. a log written by relaywatch's writer --------------------------------
LOG=$WORK/log
mkdir -p "$LOG"
# 3000 records a simulated second apart, a key epoch every 700 s, a
# checkpoint every 50 records, files of about 120 kB.
vkey=$("$GEN" "$LOG" --start-ms 1796299200000 --step-ms 1000 --records 3000 --checkpoint-every 50 \
        --epoch-s 700 --rotate-bytes 120000 2>"$WORK/gen.err") \
        || die "audit_gen: $(cat "$WORK/gen.err")"
vkey=$(printf '%s\n' "$vkey" | sed '/^$/d' | tail -n 1)
[[ $vkey == *+*+* ]] || die "audit_gen printed no verifier key: '$vkey'"
[[ -s $LOG/audit.key.pub ]] || die "audit_gen wrote no $LOG/audit.key.pub"
read -r header pub <"$LOG/audit.key.pub"
[[ $header == relaywatch-ed25519-public-v1 && $pub == "$(pub_of "$vkey")" ]] \
        && ok "the vkey audit_gen printed is the key in audit.key.pub" \
        || bad "vkey $vkey is not audit.key.pub's key ($header $pub)"
nfiles=$(ls "$LOG"/audit/audit-*.jsonl | wc -l)
[[ $nfiles -ge 3 ]] && ok "the log spans $nfiles files" || bad "the log has $nfiles files, want several"

# ---- 2. tlogcheck log ---------------------------------------------------------
expect_ok "tlogcheck log: every leaf, checkpoint and key certificate" "$WORK/log.out" \
        "$TC" log --vkey "$vkey" --vkeys-out "$WORK/vkeys" --roots-out "$WORK/roots" "$LOG/audit" \
        || die "the log written by relaywatch does not verify with tlogcheck"
sed 's/^/    /' "$WORK/log.out"
mapfile -t epochs < <(seqs_of key_epoch "$LOG/audit")
mapfile -t cps < <(seqs_of checkpoint "$LOG/audit")
[[ ${#epochs[@]} -ge 3 ]] && ok "${#epochs[@]} key epochs (at seq ${epochs[*]})" \
        || bad "only ${#epochs[@]} key epochs, want at least 3"
[[ $(wc -l <"$WORK/vkeys") -eq ${#epochs[@]} ]] || bad "tlogcheck wrote $(wc -l <"$WORK/vkeys") vkeys for ${#epochs[@]} epochs"
[[ ${#cps[@]} -ge 10 ]] || die "only ${#cps[@]} checkpoints"
last=${cps[-1]}   # a checkpoint's size is its own seq
grep -q "last checkpoint: seq $last size $last " "$WORK/log.out" \
        || bad "tlogcheck's last checkpoint is not seq $last: $(cat "$WORK/log.out")"
# relaywatch's own verifier counts the same, and its last checkpoint opens with note.Open
if expect_ok "relaywatch audit verify agrees" "$WORK/verify.json" \
        "$RW" audit verify --dir "$LOG/audit" --pubkey "$LOG/audit.key.pub" --json; then
        counts=$(sed -n 's/^ok: \([0-9]*\) records in [0-9]* files, \([0-9]*\) checkpoints, \([0-9]*\) epochs.*/\1 \2 \3/p' "$WORK/log.out")
        rwcounts=$(jq -r '"\(.records) \(.checkpoints) \(.epochs)"' "$WORK/verify.json")
        [[ $counts == "$rwcounts" ]] && ok "records, checkpoints, epochs: tlogcheck $counts, relaywatch $rwcounts" \
                || bad "records, checkpoints, epochs: tlogcheck '$counts', relaywatch '$rwcounts'"
        jq -j .checkpoint "$WORK/verify.json" >"$WORK/last.note"
        want=$(jq -r '"\(.origin) \(.checkpoint_size) \(.checkpoint_root)"' "$WORK/verify.json")
        if expect_ok "tlogcheck note: relaywatch's last checkpoint" "$WORK/note.out" \
                "$TC" note --vkeys "$WORK/vkeys" "$WORK/last.note"; then
                [[ $(cat "$WORK/note.out") == "$want" ]] || bad "tlogcheck note says '$(cat "$WORK/note.out")', relaywatch '$want'"
        fi
fi

# ---- 3. inclusion proofs --------------------------------------------------------
# prove_check INDEX: relaywatch's proof of INDEX, checked by tlogcheck
prove_check() {
        local i=$1 f=$WORK/prove-$1.json rc=0
        "$RW" audit prove --dir "$LOG/audit" --pubkey "$LOG/audit.key.pub" --index "$i" --json \
                >"$f" 2>"$f.err" || rc=$?
        if [[ $rc -ne 0 ]]; then
                bad "relaywatch audit prove --index $i: exit $rc: $(cat "$f.err")"
                return
        fi
        if "$TC" prove --vkeys "$WORK/vkeys" --roots "$WORK/roots" - <"$f" >"$f.out" 2>&1 \
                && grep -q "^ok: record $i " "$f.out"; then
                ok "prove --index $i: $(cut -d, -f1 "$f.out")"
        else
                bad "tlogcheck prove of record $i: $(cat "$f.out")"
        fi
}
idx=(0 1 2 $((last / 3)) $((last / 2)) $((last - 2)) $((last - 1)) "${cps[0]}" "${cps[1]}")
for e in "${epochs[@]:1}"; do
        idx+=($((e - 1)) "$e" $((e + 1)))
done
mapfile -t idx < <(printf '%s\n' "${idx[@]}" | awk -v s="$last" '$1 >= 0 && $1 < s' | sort -n -u)
for i in "${idx[@]}"; do
        prove_check "$i"
done
# the proof is against the last checkpoint, signed by the newest epoch's key
jq -e --argjson s "$last" '.tree_size == $s' "$WORK/prove-0.json" >/dev/null 2>&1 \
        && ok "proofs are against the last checkpoint ($last)" \
        || bad "prove's tree_size is $(jq .tree_size "$WORK/prove-0.json"), want the last checkpoint $last"

# ---- 4. consistency proofs --------------------------------------------------------
# cons_check FROM [TO]: relaywatch's consistency proof, checked by tlogcheck
cons_check() {
        local m=$1 to=${2:-} f=$WORK/cons-$1-${2:-last}.json rc=0
        "$RW" audit consistency --dir "$LOG/audit" --pubkey "$LOG/audit.key.pub" --from "$m" \
                ${to:+--to "$to"} --json >"$f" 2>"$f.err" || rc=$?
        if [[ $rc -ne 0 ]]; then
                bad "relaywatch audit consistency --from $m ${to:+--to $to}: exit $rc: $(cat "$f.err")"
                return
        fi
        if "$TC" consistency --vkeys "$WORK/vkeys" --roots "$WORK/roots" - <"$f" >"$f.out" 2>&1 \
                && grep -q "^ok: the tree of size $m root .* of size ${to:-$last} root" "$f.out"; then
                ok "consistency --from $m --to ${to:-$last (default)}"
        else
                bad "tlogcheck consistency from $m to ${to:-$last}: $(cat "$f.out")"
        fi
}
from=(1 2 3 "${cps[0]}" $((last / 2)) $((last - 1)) "$last")
for e in "${epochs[@]:1}"; do
        from+=("$e" $((e + 1)))
done
mapfile -t from < <(printf '%s\n' "${from[@]}" | awk -v s="$last" '$1 >= 1 && $1 <= s' | sort -n -u)
for m in "${from[@]}"; do
        cons_check "$m"
done
# to an older checkpoint, signed by an older epoch's key
mid=${cps[$((${#cps[@]} / 3))]}
cons_check 1 "$mid"
cons_check "${cps[0]}" "$mid"
cons_check "$mid" "$mid"

# ---- 5. tlogcheck is no rubber stamp ------------------------------------------------
i=${idx[$((${#idx[@]} / 2))]}
for f in "$WORK/prove-0.json" "$WORK/prove-$i.json" "$WORK/cons-1-last.json"; do
        [[ -s $f ]] || die "no $f to change (relaywatch failed to make it, see above)"
done
cp -a "$LOG" "$WORK/tampered"
f=$(ls "$WORK"/tampered/audit/audit-*.jsonl | sed -n 2p)
n=$(grep -n '"kind":"test_event"' "$f" | sed -n '10p' | cut -d: -f1)
[[ -n $n ]] || die "no test_event record in $f to tamper with"
before=$(sed -n "${n}p" "$f")
# one byte: the last digit of ts's milliseconds, so the line stays valid JSON
pre=${before%%\"ts\":\"*}
pos=$((${#pre} + 28))
d=${before:$pos:1}
[[ $d == [0-9] ]] || die "no millisecond digit at byte $pos of $f line $n: $before"
after=${before:0:$pos}$(((d + 1) % 10))${before:$((pos + 1))}
L=$after awk -v n="$n" 'NR == n { print ENVIRON["L"]; next } { print }' "$f" >"$f.new" && mv "$f.new" "$f"
if [[ $(cmp -l "$LOG/audit/${f##*/}" "$f" | wc -l) -ne 1 ]]; then
        bad "tampering did not change exactly one byte of $f"
else
        expect_fail "tlogcheck log: one byte of a record changed" "is not the tree of the records" \
                "$TC" log --vkey "$vkey" "$WORK/tampered/audit"
fi
vkey1=$(sed -n 2p "$WORK/vkeys")
expect_fail "tlogcheck log: another genesis key pinned" "not the pinned --vkey" \
        "$TC" log --vkey "$vkey1" "$LOG/audit"
expect_fail "tlogcheck prove: only the genesis key for a checkpoint of a later epoch" "signed by none of the keys given" \
        "$TC" prove --vkey "$vkey" "$WORK/prove-0.json"
jq '.proof[0] |= (if startswith("A") then "B" else "A" end + .[1:])' "$WORK/prove-$i.json" >"$WORK/prove-bad.json"
expect_fail "tlogcheck prove: one proof hash changed" "invalid transparency proof" \
        "$TC" prove --vkeys "$WORK/vkeys" "$WORK/prove-bad.json"
jq --argjson j "$((i + 1))" '.index = $j' "$WORK/prove-$i.json" >"$WORK/prove-bad.json"
expect_fail "tlogcheck prove: another index" "the record's seq is $i" \
        "$TC" prove --vkeys "$WORK/vkeys" "$WORK/prove-bad.json"
jq '.proof[-1] |= (if startswith("A") then "B" else "A" end + .[1:])' "$WORK/cons-1-last.json" >"$WORK/cons-bad.json"
expect_fail "tlogcheck consistency: one proof hash changed" "consistency proof" \
        "$TC" consistency --vkeys "$WORK/vkeys" "$WORK/cons-bad.json"
# a checkpoint signed with an expired epoch's key, stolen before the rotation wiped it
EXP=$WORK/expired
mkdir -p "$EXP" "$WORK/stolen"
"$GEN" "$EXP" --start-ms 1796299200000 --records 10 --epoch-s 3600 >"$WORK/exp.vkey" 2>"$WORK/gen.err" \
        || die "audit_gen: $(cat "$WORK/gen.err")"
cp "$EXP/audit/audit.key" "$WORK/stolen/audit.key"
"$GEN" "$EXP" --start-ms 1796309200000 --records 10 --epoch-s 3600 >/dev/null 2>"$WORK/gen.err" \
        || die "audit_gen: $(cat "$WORK/gen.err")"
expect_ok "tlogcheck log: the log before the forgery" "$WORK/exp.out" \
        "$TC" log --vkey "$(tail -n 1 "$WORK/exp.vkey")" "$EXP/audit" || true
"$GEN" forge "$EXP" "$WORK/stolen/audit.key" 2>"$WORK/gen.err" || die "audit_gen forge: $(cat "$WORK/gen.err")"
expect_fail "tlogcheck log: a checkpoint signed with an expired epoch's key" "expired key of epoch 0" \
        "$TC" log --vkey "$(tail -n 1 "$WORK/exp.vkey")" "$EXP/audit"

# a write cut short by a crash is not tampering: tolerated at the very end,
# and the log the writer recovers on its next start verifies
CR=$WORK/crash
mkdir -p "$CR"
"$GEN" "$CR" --start-ms 1796299200000 --records 30 >"$WORK/crash.vkey" 2>"$WORK/gen.err" \
        || die "audit_gen: $(cat "$WORK/gen.err")"
f=$(ls "$CR"/audit/audit-*.jsonl | tail -n 1)
printf '{"seq":%d,"ts":"2026-12-03T12:00:00.000Z","kind":"test_ev' "$(cat "$CR"/audit/audit-*.jsonl | wc -l)" >>"$f"
if expect_ok "tlogcheck log: a last line cut short is no record and no error" "$WORK/crash.out" \
        "$TC" log --vkey "$(tail -n 1 "$WORK/crash.vkey")" "$CR/audit"; then
        grep -q '^incomplete: ' "$WORK/crash.out" || bad "tlogcheck did not say the last line is incomplete: $(cat "$WORK/crash.out")"
fi
"$GEN" "$CR" --start-ms 1796309200000 --records 5 >/dev/null 2>"$WORK/gen.err" || die "audit_gen: $(cat "$WORK/gen.err")"
expect_ok "tlogcheck log: the log relaywatch recovered after the cut" "$WORK/crash2.out" \
        "$TC" log --vkey "$(tail -n 1 "$WORK/crash.vkey")" "$CR/audit" || true

# ---- 6. Go's logs through relaywatch -----------------------------------------------
cp -a "$FIXTURES" "$WORK/fixtures"
G=$WORK/fixtures/go-generated
expect_ok "relaywatch audit verify: the log Go wrote" "$WORK/go-verify.out" \
        "$RW" audit verify --dir "$G/audit" --pubkey "$G/audit.key.pub" || true
for d in "$WORK"/fixtures/go-generated-bad/*/; do
        d=${d%/}
        expect_fail "relaywatch audit verify refuses Go's ${d##*/} log" "AUDIT LOG TAMPERED" \
                "$RW" audit verify --dir "$d/audit" --pubkey "$d/audit.key.pub"
done
expect_ok "relaywatch audit verify: Go's log extends Go's cosigned checkpoint (a witness cosignature/v1 line)" \
        "$WORK/go-verify-cosigned.out" \
        "$RW" audit verify --dir "$G/audit" --pubkey "$G/audit.key.pub" --checkpoint "$G/checkpoint.cosigned.note" || true
jq -j .checkpoint "$G/proofs/prove-000000-000010.json" >"$WORK/go-epoch0.note"
expect_ok "relaywatch audit verify: Go's log extends Go's epoch 0 checkpoint of size 10" "$WORK/go-verify-10.out" \
        "$RW" audit verify --dir "$G/audit" --pubkey "$G/audit.key.pub" --checkpoint "$WORK/go-epoch0.note" || true
glast=$(jq -r .tree_size "$G"/proofs/prove-000000-*.json | sort -n | tail -n 1)
# same_as_go CMD OPTION WHAT GOFUNC MEMBERS: for each proof Go wrote against
# its last checkpoint, proofs/CMD-<N>-<last>.json, `relaywatch audit CMD
# OPTION N --json` over Go's log gives the same MEMBERS (a jq array)
same_as_go() {
        local cmd=$1 opt=$2 what=$3 gofunc=$4 members=$5 p n f
        for p in "$G"/proofs/"$cmd"-*-"$(printf '%06d' "$glast")".json; do
                n=$((10#$(basename "$p" | cut -d- -f2)))
                f=$WORK/go-$cmd-$n.json
                if ! "$RW" audit "$cmd" --dir "$G/audit" --pubkey "$G/audit.key.pub" "$opt" "$n" --json >"$f" 2>"$f.err"; then
                        bad "relaywatch audit $cmd $opt $n on Go's log: $(cat "$f.err")"
                        continue
                fi
                if cmp -s <(jq -c "$members" "$f") <(jq -c "$members" "$p"); then
                        ok "relaywatch's $what $n in Go's log is $gofunc's"
                else
                        bad "relaywatch's $what $n in Go's log differs from $gofunc's: $(jq -c . "$f") vs $(jq -c . "$p")"
                fi
        done
}
same_as_go prove --index "proof of record" tlog.ProveRecord '[.index, .record, .tree_size, .root, .checkpoint, .proof]'
same_as_go consistency --from "consistency proof from" tlog.ProveTree '[.from, .from_root, .to, .to_root, .checkpoint, .proof]'

echo "audit_independent: $pass passed, $failed failed"
[[ $failed -eq 0 ]]
