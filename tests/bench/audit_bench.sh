#!/usr/bin/env bash
# audit_bench.sh: `relaywatch audit verify`, `prove` and `consistency` on a
# log of a million records (BENCHMARKS.md, "The audit log", part 4). Not a
# test: scripts/bench audit runs it after bench_audit's parts 1-3.
#
#   audit_bench.sh RELAYWATCH AUDIT_GEN [DIR]
#
# In a new DIR/audit-bench.XXXXXX (default /tmp, removed at the end),
# audit_gen writes BENCH_AUDIT_RECORDS (1000000) events with the real writer
# on a simulated clock, one a simulated second, a checkpoint every 60 and a
# key epoch every 86400 simulated seconds (about 12 epochs), in 64 MiB files.
# Then, timed with hyperfine (BENCH_AUDIT_RUNS runs, default 5, after one
# warm-up; one plain timed run each when hyperfine is not installed):
# `audit verify` of the whole log, `audit prove` of the middle record and
# `audit consistency` from the middle to the last checkpoint; and each once
# under /usr/bin/time -v for its peak RSS.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: audit_bench.sh RELAYWATCH AUDIT_GEN [DIR]" >&2; exit 64; }
rw=$1
gen=$2
records=${BENCH_AUDIT_RECORDS:-1000000}
runs=${BENCH_AUDIT_RUNS:-5}
work=$(mktemp -d "${3:-/tmp}/audit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "== 4. audit verify, prove and consistency on a log of $records events ($work)"
t0=$(now)
"$gen" "$work" --records "$records" --checkpoint-every 60 --epoch-s 86400 \
        --start-ms 1700000000000 --rotate-bytes 67108864 > /dev/null
echo "audit_gen: $(elapsed "$t0") s to write it (a checkpoint every 60 events, each fsync'd)"
log=$work/audit
pub=$work/audit.key.pub
summary=$("$rw" audit verify --dir "$log" --pubkey "$pub" --json)
total=$(jq -r .records <<< "$summary")
last=$(jq -r .checkpoint_size <<< "$summary")
files=("$log"/audit-*.jsonl)
bytes=$(cat "${files[@]}" | wc -c)
echo "the log: $(jq -r .message <<< "$summary"); ${#files[@]} files," \
     "$(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'), $((bytes / total)) bytes a record on average"
mid=$((last / 2))

verify=("$rw" audit verify --dir "$log" --pubkey "$pub")
prove=("$rw" audit prove --dir "$log" --pubkey "$pub" --index "$mid" --json)
consistency=("$rw" audit consistency --dir "$log" --pubkey "$pub" --from "$mid" --json)

# timed NAME CMD...: mean and standard deviation of the wall time, in seconds
timed() {
        local name=$1 json mean
        shift
        if command -v hyperfine > /dev/null; then
                json=$work/$name.json
                hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$json" \
                        "$*" > "$work/$name.hyperfine" 2>&1 || { cat "$work/$name.hyperfine" >&2; exit 1; }
                grep -E 'Time|Range' "$work/$name.hyperfine" | sed "s/^ */  $name: /"
                mean=$(jq -r '.results[0].mean' "$json")
        else
                local t
                t=$(now)
                "$@" > /dev/null
                mean=$(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
                echo "  $name: $mean s (one run; hyperfine not installed)"
        fi
        echo "$mean" > "$work/$name.mean"
}

# peak NAME CMD...: peak RSS under /usr/bin/time -v
peak() {
        local name=$1
        shift
        /usr/bin/time -v "$@" > /dev/null 2> "$work/$name.time"
        echo "  $name: peak RSS $(awk -F': ' '/Maximum resident set size/ {printf "%.1f MB", $2 / 1024}' "$work/$name.time")," \
             "wall $(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$name.time")," \
             "user $(awk -F': ' '/User time/ {print $2}' "$work/$name.time") s," \
             "system $(awk -F': ' '/System time/ {print $2}' "$work/$name.time") s"
}

if command -v hyperfine > /dev/null; then
        echo "timing: $(hyperfine --version), $runs runs after 1 warm-up, no shell (-N)"
fi
timed verify "${verify[@]}"
timed prove "${prove[@]}"
timed consistency "${consistency[@]}"
echo "verify: $(awk -v n="$total" -v b="$bytes" -v t="$(cat "$work/verify.mean")" \
        'BEGIN { printf "%.0f records/s, %.1f MB/s (mean of the runs)", n / t, b / 1e6 / t }')"
echo "peak memory, one run each:"
peak verify "${verify[@]}"
peak prove "${prove[@]}"
peak consistency "${consistency[@]}"
