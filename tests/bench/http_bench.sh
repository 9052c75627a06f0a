#!/usr/bin/env bash
# http_bench.sh: the parts of `scripts/bench http` that do not need the halt
# benchmark's functions (scripts/bench runs that part itself, with `load`).
#
#   http_bench.sh render METRICS_SAMPLE [RUNS]
#       /metrics render time and size: `metrics_sample --assets N --time` RUNS
#       (20) times each at 1, 100 and 1000 assets, interleaved; median and
#       p90 (nearest rank) of the render ms, and the size.
#   http_bench.sh page STACK_ENV WORK
#       against the stack's `relaywatch run` (RELAYWATCH_URL): hyperfine of
#       `curl -s -o /dev/null URL` for /, /status, /metrics, /health/ready,
#       curl's own timings of the same (time to first byte, total, size),
#       then headless Chromium's --dump-dom of / against about:blank,
#       alternating, BENCH_HTTP_CHROMIUM_RUNS (10) each.
#   http_bench.sh load STACK_ENV WORK
#       runs until SIGTERM: a real Prometheus scraping the watchdog's
#       /metrics every second, and 50 page clients (one kept-alive connection
#       each, like a browser tab): GET /, then GET /status every 5 s after the
#       previous reply, as the on-call page's auto-refresh does. Writes
#       WORK/ready once both run; on SIGTERM stops both and writes
#       WORK/summary (requests, errors, latency; Prometheus's scrapes).
# Loopback only. Everything started is stopped on exit.
set -euo pipefail
die() { printf 'http_bench.sh: error: %s\n' "$*" >&2; exit 1; }

# quantiles FILE: "median p90 max" (nearest rank) of the numbers in FILE, one a line.
quantiles() {
        sort -n "$1" | awk '{ v[NR] = $1 } END {
                if (NR == 0) { print "n/a n/a n/a"; exit }
                m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                p = int(0.9 * NR); if (p < 0.9 * NR) p++; if (p < 1) p = 1
                printf "%.3f %.3f %.3f\n", m, v[p], v[NR] }'
}

free_port() {
        local p
        while :; do
                p=$((20000 + RANDOM % 20000))
                (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
        done
}

render() {
        local bin=$1 runs=${2:-20} work n i line
        [ -x "$bin" ] || die "no metrics_sample at $bin"
        work=$(mktemp -d /tmp/http-bench-render.XXXXXX)
        # shellcheck disable=SC2064 # expand now
        trap "rm -rf '$work'" RETURN
        for i in $(seq "$runs"); do
                for n in 1 100 1000; do
                        line=$("$bin" --assets "$n" --time 2>&1 >/dev/null) || die "metrics_sample --assets $n failed: $line"
                        # "metrics_sample: N assets: B bytes in T ms"
                        echo "$line" | awk '{print $4}' > "$work/size-$n"
                        echo "$line" | awk '{print $7}' >> "$work/ms-$n"
                done
        done
        echo "/metrics render (metrics_sample --assets N --time, $runs runs each, interleaved):"
        printf '  %6s  %12s  %10s  %10s  %10s\n' assets bytes median_ms p90_ms max_ms
        for n in 1 100 1000; do
                read -r med p90 max < <(quantiles "$work/ms-$n")
                printf '  %6d  %12d  %10s  %10s  %10s\n' "$n" "$(cat "$work/size-$n")" "$med" "$p90" "$max"
        done
}

page() {
        local envf=$1 work=$2 url path i t0 t1 blank=() dom=() k
        # shellcheck disable=SC1090
        . "$envf"
        url=${RELAYWATCH_URL:?$envf has no RELAYWATCH_URL}
        url=${url%/}
        mkdir -p "$work"
        for path in / /status /metrics /health/ready; do
                curl -sf -o /dev/null "$url$path" || die "GET $url$path failed"
        done
        echo "served by relaywatch run at $url (1 asset on this stack):"
        printf '  %-14s %8s %14s %14s\n' path bytes ttfb_median total_median
        for path in / /status /metrics /health/ready; do
                : > "$work/curl.txt"
                for i in $(seq 50); do
                        curl -s -o /dev/null -w '%{size_download} %{time_starttransfer} %{time_total}\n' "$url$path" >> "$work/curl.txt"
                done
                awk '{print $2 * 1000}' "$work/curl.txt" > "$work/ttfb"
                awk '{print $3 * 1000}' "$work/curl.txt" > "$work/total"
                printf '  %-14s %8s %11s ms %11s ms\n' "$path" "$(tail -n 1 "$work/curl.txt" | cut -d' ' -f1)" \
                        "$(quantiles "$work/ttfb" | cut -d' ' -f1)" "$(quantiles "$work/total" | cut -d' ' -f1)"
        done
        echo "hyperfine $(hyperfine --version | cut -d' ' -f2): curl -s -o /dev/null URL (no shell; 10 warm-up, 100 runs):"
        hyperfine -N --style basic --warmup 10 --runs 100 --export-json "$work/hyperfine.json" \
                "curl -s -o /dev/null $url/" "curl -s -o /dev/null $url/status" \
                "curl -s -o /dev/null $url/metrics" "curl -s -o /dev/null $url/health/ready" > "$work/hyperfine.txt" 2>&1 ||
                { cat "$work/hyperfine.txt" >&2; die "hyperfine failed"; }
        # shellcheck disable=SC2016 # JavaScript
        node -e '
                const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
                for (const x of r) console.log(`  ${x.command.padEnd(60)} mean ${(x.mean * 1e3).toFixed(2)} ± ${(x.stddev * 1e3).toFixed(2)} ms, median ${(x.median * 1e3).toFixed(2)} ms`);
        ' "$work/hyperfine.json"

        local runs=${BENCH_HTTP_CHROMIUM_RUNS:-10}
        # A fresh profile each run, made before the clock starts.
        chrome() {
                rm -rf "$work/profile"; mkdir "$work/profile"
                t0=$(date +%s%N)
                /usr/bin/chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
                        --dump-dom "$1" > "$work/dom-$2.html" 2> "$work/chromium.err" || die "chromium --dump-dom $1 failed"
                t1=$(date +%s%N)
                echo $(((t1 - t0) / 1000))
        }
        chrome about:blank blank > /dev/null # the first start reads Chromium from disk
        for i in $(seq "$runs"); do
                for k in 1 2; do
                        if [ $(((i + k) % 2)) = 0 ]; then blank+=("$(chrome about:blank blank)"); else dom+=("$(chrome "$url/" page)"); fi
                done
        done
        # The script's own text is in the DOM too; this phrase only once it has rendered.
        grep -q 'refreshed every 5 s' "$work/dom-page.html" ||
                echo "  (note: the dumped DOM lacks 'refreshed every 5 s': the page's script may not have rendered)"
        printf '%s\n' "${blank[@]}" | awk '{print $1 / 1000}' > "$work/blank"
        printf '%s\n' "${dom[@]}" | awk '{print $1 / 1000}' > "$work/dom"
        read -r bm bp bx < <(quantiles "$work/blank")
        read -r dm dp dx < <(quantiles "$work/dom")
        echo "headless Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') --dump-dom, wall ms, $runs runs each, alternating (fresh profile each):"
        printf '  %-22s median %8.0f  p90 %8.0f  max %8.0f\n' "about:blank" "$bm" "$bp" "$bx"
        printf '  %-22s median %8.0f  p90 %8.0f  max %8.0f\n' "$url/" "$dm" "$dp" "$dx"
        awk -v a="$bm" -v b="$dm" -v s="$(wc -c < "$work/dom-page.html")" \
                'BEGIN { printf "  the page itself (median difference): %.0f ms; ratio %.2fx; its rendered DOM %d bytes\n", b - a, b / a, s }'
}

load() {
        local envf=$1 work=$2 pport promver
        # shellcheck disable=SC1090
        . "$envf"
        local hp=${RELAYWATCH_HTTP_PORT:?$envf has no RELAYWATCH_HTTP_PORT}
        mkdir -p "$work"
        rm -rf "$work/ready" "$work/summary" "$work/tsdb" # a fresh TSDB: the scrapes counted are this run's
        local prom=0 cli=0 stopped=0
        stop() {
                [ "$stopped" = 0 ] || return 0
                stopped=1
                [ "$cli" = 0 ] || { kill -TERM "$cli" 2>/dev/null || true; wait "$cli" 2>/dev/null || true; }
                if [ "$prom" != 0 ]; then
                        # Successful scrapes and their duration, from Prometheus itself.
                        local q
                        q=$(curl -s --max-time 3 "http://127.0.0.1:$pport/api/v1/query" \
                                --data-urlencode 'query=sum_over_time(up{job="relaywatch"}[1h]) or vector(-1)' |
                                node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.result[0].value[1])}catch{console.log("n/a")}})' || echo n/a)
                        local d
                        d=$(curl -s --max-time 3 "http://127.0.0.1:$pport/api/v1/query" \
                                --data-urlencode 'query=avg_over_time(scrape_duration_seconds{job="relaywatch"}[1h]) * 1000' |
                                node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(Number(JSON.parse(s).data.result[0].value[1]).toFixed(2))}catch{console.log("n/a")}})' || echo n/a)
                        echo "prometheus $promver: successful scrapes $q in $(( $(date +%s) - started )) s; mean scrape duration $d ms" >> "$work/summary"
                        kill -TERM "$prom" 2>/dev/null || true
                        wait "$prom" 2>/dev/null || true
                fi
                [ ! -s "$work/clients.out" ] || cat "$work/clients.out" >> "$work/summary"
        }
        trap 'stop; exit 0' TERM INT
        trap stop EXIT
        local started
        started=$(date +%s)
        pport=$(free_port)
        promver=$(prometheus --version 2>&1 | head -n 1 | awk '{print $3}')
        cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: relaywatch
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$hp"]
YML
        prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$pport" \
                --storage.tsdb.path="$work/tsdb" > "$work/prometheus.log" 2>&1 &
        prom=$!
        # shellcheck disable=SC2016 # JavaScript
        node -e '
                const http = require("http");
                const [host, port, n] = [process.argv[1], +process.argv[2], +process.argv[3]];
                const stats = { "/": [], "/status": [] }; let errors = 0, stopping = false;
                function get(agent, path) {
                        return new Promise((resolve) => {
                                const t0 = process.hrtime.bigint();
                                const req = http.get({ host, port, path, agent, headers: { accept: path === "/" ? "text/html" : "application/json" } }, (res) => {
                                        res.resume();
                                        res.on("end", () => { if (res.statusCode === 200) stats[path].push(Number(process.hrtime.bigint() - t0) / 1e6); else errors++; resolve(); });
                                });
                                req.setTimeout(4000, () => req.destroy(new Error("timeout")));
                                req.on("error", () => { errors++; resolve(); });
                        });
                }
                const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
                async function client(i) {
                        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
                        await sleep(i * 100); // spread over the 5 s
                        await get(agent, "/");
                        while (!stopping) { await sleep(5000); if (!stopping) await get(agent, "/status"); }
                }
                for (let i = 0; i < n; i++) client(i);
                const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)].toFixed(1) : "n/a"; };
                process.on("SIGTERM", () => {
                        stopping = true;
                        for (const p of ["/", "/status"]) console.log(`clients: GET ${p}: ${stats[p].length} replies, ms p50 ${q(stats[p], 0.5)} p90 ${q(stats[p], 0.9)} max ${q(stats[p], 1)}`);
                        console.log(`clients: ${n} kept-alive clients; errors (non-200, reset, 4 s timeout): ${errors}`);
                        process.exit(0);
                });
        ' 127.0.0.1 "$hp" 50 > "$work/clients.out" 2>&1 &
        cli=$!
        # Ready once Prometheus has scraped the target successfully.
        for _ in $(seq 100); do
                if curl -s --max-time 1 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=up{job="relaywatch"}' |
                        grep -q '"value":\[[0-9.]*,"1"\]'; then
                        touch "$work/ready"
                        break
                fi
                sleep 0.2
        done
        [ -e "$work/ready" ] || { cat "$work/prometheus.log" >&2; die "Prometheus did not scrape 127.0.0.1:$hp within 20 s"; }
        while :; do sleep 1 & wait $! || true; done
}

case "${1:-}" in
render) shift; render "$@" ;;
page) shift; page "$@" ;;
load) shift; load "$@" ;;
*) die "usage: http_bench.sh render METRICS_SAMPLE [RUNS] | page STACK_ENV WORK | load STACK_ENV WORK" ;;
esac
