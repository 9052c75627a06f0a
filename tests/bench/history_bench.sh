#!/usr/bin/env bash
# history_bench.sh: a years-old bridge's history, for `scripts/bench history`.
#
# Usage: tests/bench/history_bench.sh RELAYWATCH GEN_HISTORY STACK_DIR WORK_DIR
#
# STACK_DIR is a quiet stack of its own (scripts/stack-up with
# STACK_SIMULATOR=0, STACK_BLOCK_TIME=0, no watchdog). For each size in
# BENCH_HISTORY_BATCHES (default "1000 10000 100000", growing), gen_history
# grows the bridge to that many settled batches of 10 withdrawals over
# BENCH_HISTORY_ASSETS (10000) assets, every check valid, and this measures:
#   validate   `relaywatch validate` as a fresh process, one full sweep:
#              wall time and peak RSS (/usr/bin/time -v), 3 runs
#              (BENCH_HISTORY_RUNS), median; its verdict line and Tier 1
#              rows are printed, and anything but INVARIANT VALID stops the
#              benchmark. Once more with the configuration's default
#              statement timeout, to say whether a stock configuration
#              gets through the sweep.
#   incremental `relaywatch run` (interval mode, BENCH_HISTORY_INTERVAL_MS,
#              1000; full_sweep_s far away) from no saved cursors: the first
#              cycle is the full sweep, then BENCH_HISTORY_CYCLES (10)
#              incremental cycles; their duration_ms from the log's "cycle"
#              lines, median; the daemon's peak RSS.
#   restart    `relaywatch run` again on the cursors the previous run saved
#              (relaywatch_state.cursors): from exec to the first "cycle"
#              log line, 3 runs, median.
# The configuration is the stack's with the generated assets in place of
# SIGIL (as many as check-config accepts: a refusal for too many assets
# falls back to the largest count allowed, and says so),
# [database] statement_timeout_ms = 600000 (a whole-history read must not be
# cut short) and its own state directory. Prints a table at the end.
set -euo pipefail

die() { printf 'history_bench: error: %s\n' "$*" >&2; exit 1; }
[ $# -eq 4 ] || die "usage: history_bench.sh RELAYWATCH GEN_HISTORY STACK_DIR WORK_DIR"
rw=$1 gen=$2 stack=$3 work=$4
sizes=${BENCH_HISTORY_BATCHES:-1000 10000 100000}
assets=${BENCH_HISTORY_ASSETS:-10000}
runs=${BENCH_HISTORY_RUNS:-3}
interval=${BENCH_HISTORY_INTERVAL_MS:-1000}
cycles=${BENCH_HISTORY_CYCLES:-10}
[ -x "$rw" ] || die "no relaywatch at $rw"
[ -x "$gen" ] || die "no gen_history at $gen"
[ -r "$stack/stack.env" ] || die "no stack at $stack"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian: time)"
command -v jq > /dev/null || die "jq is not installed"
mkdir -p "$work"
# shellcheck disable=SC1091
. "$stack/stack.env"
[ "${RELAYER_SIMULATOR:-1}" = 0 ] || die "the stack runs the relayer simulator: start it with STACK_SIMULATOR=0"
[ "${RELAYWATCH_WATCHDOG:-0}" = 0 ] || die "the stack runs relaywatch: start it with STACK_WATCHDOG=0"
[ "${STACK_BLOCK_TIME:-1}" = 0 ] || die "the stack mines blocks by itself: start it with STACK_BLOCK_TIME=0"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms_of_ts() { date -d "$1" +%s%3N; }
admin_sql() { psql -X -q -t -A "$DATABASE_ADMIN_URL" -c "$1"; }

# config FILE NASSETS [STATEMENT_TIMEOUT_MS]: the stack's configuration for this benchmark.
config() {
        awk -v state="$work/state" -v interval="$interval" -v timeout="${3:-600000}" '
                /^\[/ { skip = ($0 ~ /^\[asset /); sec = $0 }
                skip { next }
                sec == "[watchdog]" && /^mode = / { print "mode = interval"; next }
                sec == "[watchdog]" && /^interval_ms = / { print "interval_ms = " interval; next }
                sec == "[watchdog]" && /^full_sweep_s = / { print "full_sweep_s = 86400"; next }
                sec == "[watchdog]" && /^state_dir = / { print "state_dir = " state; next }
                { print }
                sec == "[database]" && /^url = / && timeout != "default" { print "statement_timeout_ms = " timeout }' \
                "$stack/relaywatch.conf" > "$1.tmp"
        awk -v n="$2" '/^\[asset / { k++ } k <= n' "$work/assets.conf" >> "$1.tmp"
        chmod 600 "$1.tmp"
        mv "$1.tmp" "$1"
}

# The most assets check-config accepts (all of them, or the limit it names).
configured=$assets
results=()
for n in $sizes; do
        echo "-- $n batches ($((n * 10)) withdrawals), $assets assets"
        t0=$(date +%s%N)
        "$gen" --stack-env "$stack/stack.env" --batches "$n" --assets "$assets" \
                --assets-conf "$work/assets.conf" 2> "$work/gen-$n.log" ||
                { tail -n 20 "$work/gen-$n.log" >&2; die "gen_history failed"; }
        gen_s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
        echo "generated in $gen_s s (the bridge grown from the previous size; $(grep -c 'rows$' "$work/gen-$n.log") COPYs)"
        conf=$work/history.conf
        config "$conf" "$configured"
        # Fewer assets while check-config refuses the file for their number
        # or its size: the limit it names, else half.
        tries=0
        while ! "$rw" check-config -c "$conf" > "$work/check-config.out" 2>&1; do
                limit=$(sed -n 's/.*more than \([0-9]*\) \[asset NAME\] sections.*/\1/p' "$work/check-config.out" | sed -n 1p)
                if [ -z "$limit" ] && grep -q 'is larger than [0-9]* bytes' "$work/check-config.out"; then
                        limit=$((configured / 2))
                fi
                tries=$((tries + 1))
                [ -n "$limit" ] && [ "$limit" -lt "$configured" ] && [ "$tries" -le 10 ] ||
                        { head -n 5 "$work/check-config.out" >&2; die "check-config refuses $conf"; }
                echo "NOTE: check-config refuses $configured [asset] sections: $(grep -m 1 -E 'more than|larger than' "$work/check-config.out" | sed 's/^[^:]*: //' | cut -c1-160); trying $limit"
                configured=$limit
                config "$conf" "$configured"
        done
        [ "$configured" = "$assets" ] ||
                echo "NOTE: the chains and the ledger hold $assets assets; the configuration names the first $configured"

        # (1) validate: one full sweep per fresh process.
        walls=() rsss=() cyc=()
        for r in $(seq "$runs"); do
                rc=0
                /usr/bin/time -v "$rw" validate -c "$conf" > "$work/validate-$n-$r.out" 2> "$work/validate-$n-$r.time" || rc=$?
                if [ "$rc" != 0 ] || [ "$(tail -n 1 "$work/validate-$n-$r.out")" != "INVARIANT VALID" ]; then
                        grep -vE ' ok ' "$work/validate-$n-$r.out" | tail -n 30 >&2
                        tail -n 5 "$work/validate-$n-$r.time" >&2
                        die "validate on $n batches said $(tail -n 1 "$work/validate-$n-$r.out") (exit $rc): the generated bridge must be valid"
                fi
                walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.0f", s * 1000 }' "$work/validate-$n-$r.time")")
                rsss+=("$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/validate-$n-$r.time")")
                cyc+=("$(sed -n 's/^cycle [0-9a-f]* took \([0-9]*\) ms$/\1/p' "$work/validate-$n-$r.out")")
                echo "  validate run $r: wall ${walls[-1]} ms, cycle ${cyc[-1]} ms, peak RSS ${rsss[-1]} MB"
        done
        echo "  verdict: $(tail -n 1 "$work/validate-$n-1.out")"
        grep -E '^(SUPPLY_MISMATCH|DUPLICATE_BATCH|PROOF_VERIFICATION_FAIL|NONCE_DESYNC|LEDGER_QUERY_TIME) ' \
                "$work/validate-$n-1.out" | sed 's/  */ /g; s/^/    /' | cut -c1-220
        v_wall=$(printf '%s\n' "${walls[@]}" | median)
        v_rss=$(printf '%s\n' "${rsss[@]}" | median)
        v_cyc=$(printf '%s\n' "${cyc[@]}" | median)

        # The same sweep with the stock statement timeout (5 s): does it get through?
        config "$work/default-timeout.conf" "$configured" default
        rc=0
        "$rw" validate -c "$work/default-timeout.conf" > "$work/validate-default-$n.out" 2>&1 || rc=$?
        stock="$(tail -n 1 "$work/validate-default-$n.out") (exit $rc)"
        echo "  with the default statement_timeout_ms (5000): $stock"
        [ "$rc" = 0 ] || awk 'tolower($0) ~ /could not|timeout|cancel/ && k++ < 3 { print "    " substr($0, 1, 220) }' "$work/validate-default-$n.out"

        # (2) incremental cycles: relaywatch run from no saved cursors.
        admin_sql "DELETE FROM relaywatch_state.cursors" > /dev/null
        rm -rf "$work/state"
        mkdir -m 700 "$work/state"
        t0=$(date +%s%3N)
        /usr/bin/time -v "$rw" run -c "$conf" --log-level debug --max-cycles $((cycles + 1)) \
                2> "$work/run-$n.log" || { tail -n 20 "$work/run-$n.log" >&2; die "relaywatch run failed"; }
        grep '"event":"cycle"' "$work/run-$n.log" > "$work/cycles-$n.jsonl" || true
        [ "$(wc -l < "$work/cycles-$n.jsonl")" = $((cycles + 1)) ] ||
                die "relaywatch run logged $(wc -l < "$work/cycles-$n.jsonl") cycles, not $((cycles + 1)); see $work/run-$n.log"
        if jq -e 'select(.tier1 != "ok")' "$work/cycles-$n.jsonl" > /dev/null; then
                die "a cycle of relaywatch run was not Tier 1 ok; see $work/run-$n.log"
        fi
        first_full=$(jq -r 'select(.full_sweep) | .duration_ms' "$work/cycles-$n.jsonl" | sed -n 1p)
        [ "$(jq -r 'select(.full_sweep | not) | .duration_ms' "$work/cycles-$n.jsonl" | wc -l)" = "$cycles" ] ||
                die "relaywatch run's cycles after the first were not all incremental; see $work/cycles-$n.jsonl"
        inc=$(jq -r 'select(.full_sweep | not) | .duration_ms' "$work/cycles-$n.jsonl" | median)
        inc_max=$(jq -r 'select(.full_sweep | not) | .duration_ms' "$work/cycles-$n.jsonl" | sort -n | tail -n 1)
        cold=$(( $(ms_of_ts "$(jq -r '.ts' "$work/cycles-$n.jsonl" | sed -n 1p)") - t0 ))
        run_rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/run-$n.log")
        echo "  relaywatch run: first cycle (full sweep) ${first_full} ms, exec to its log line ${cold} ms;" \
             "$cycles incremental cycles median ${inc} ms (max ${inc_max}); peak RSS ${run_rss} MB"
        [ "$(admin_sql "SELECT count(*) FROM relaywatch_state.cursors")" -gt 0 ] ||
                die "relaywatch run saved no cursors; see $work/run-$n.log"

        # (3) restart to first verdict, on the saved cursors.
        restarts=()
        for r in $(seq "$runs"); do
                t0=$(date +%s%3N)
                "$rw" run -c "$conf" --log-level debug --max-cycles 1 2> "$work/restart-$n-$r.log" ||
                        { tail -n 20 "$work/restart-$n-$r.log" >&2; die "relaywatch run (restart) failed"; }
                grep -q '"event":"cursors_loaded"' "$work/restart-$n-$r.log" ||
                        die "the restart did not load the saved cursors; see $work/restart-$n-$r.log"
                line=$(grep '"event":"cycle"' "$work/restart-$n-$r.log" | sed -n 1p)
                [ "$(echo "$line" | jq -r '.full_sweep')" = false ] || die "the restart's first cycle was a full sweep"
                [ "$(echo "$line" | jq -r '.tier1')" = ok ] || die "the restart's first cycle was not Tier 1 ok"
                restarts+=($(( $(ms_of_ts "$(echo "$line" | jq -r '.ts')") - t0 )))
                echo "  restart $r: exec to the first cycle's log line $(( restarts[-1] )) ms (cycle $(echo "$line" | jq -r '.duration_ms') ms)"
        done
        restart=$(printf '%s\n' "${restarts[@]}" | median)
        results+=("$n $((n * 10)) $configured $gen_s $v_wall $v_cyc $v_rss $first_full $inc $inc_max $run_rss $cold $restart")
        echo "  load now: $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "batches   withdrawals assets | validate: wall ms  cycle ms  peak RSS MB | run: full sweep ms  incremental ms (median, max)  peak RSS MB | cold start ms  restart ms"
for row in "${results[@]}"; do
        # shellcheck disable=SC2086
        set -- $row
        printf '%-9s %-11s %-6s | %18s  %8s  %11s | %18s  %14s, %-6s  %11s | %13s  %10s\n' \
                "$1" "$2" "$3" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" "${13}"
done
echo "(validate: median of $runs fresh processes; incremental: median of $cycles cycles after the first full sweep," \
     "interval $interval ms; cold start: exec to the first cycle with no saved cursors; restart: exec to the first" \
     "cycle on saved cursors, median of $runs; generation times per size: $(for row in "${results[@]}"; do set -- $row; printf '%s %s s; ' "$1" "$4"; done))"
