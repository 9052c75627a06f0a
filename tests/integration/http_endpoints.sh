#!/bin/bash
# http_endpoints.sh SOURCE_DIR WORK_DIR
#
# What operators look at, on a live local stack with `relaywatch run`
# (STACK_WATCHDOG=1), asked the way their tools ask it:
#   the probes                 -> 200 once the first cycles are done
#   /metrics                   -> `promtool check metrics` has nothing to say
#   a real Prometheus          -> scrapes it every second; its query API returns
#                                 relaywatch's series, and the alert rules of
#                                 deploy/prometheus fire on a halt
#   200 idle connections       -> the loop and the cycles go on; a client from
#                                 another address is still served
#   Redis stopped              -> /health/ready 503 (the halt path), live stays 200;
#                                 back to 200 when Redis is back
#   PostgreSQL stopped         -> /health/ready 503 once Tier 1 is blind; back after
#   a Tier 1 violation         -> headless Chromium loads the on-call page: HALTED,
#                                 the invariant, the asset, the runbook link;
#                                 screenshots kept in WORK_DIR-artifacts
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN; uses prometheus, promtool, chromium,
# curl and jq.
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
RELAYWATCH_ROOT=$src
export STACK_WATCHDOG=1
own_stack
prom_pid=
stop_prometheus() { [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null; prom_pid=; }
trap 'stop_prometheus; if [ "$failed" -gt 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi' EXIT
. "$src/scripts/lib/common.sh"
. "$src/scripts/lib/violations.sh"

service() { "$src/scripts/stack-service" "$dir" "$1" "$2" >/dev/null; }
base=$RELAYWATCH_URL
base=${base%/}
# kept after the stack is gone (the stack's own directory is purged on success)
art=$dir-artifacts
rm -rf "$art"
mkdir -p "$art"

# code PATH [CURL ARGS...]: the HTTP status of GET PATH.
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${@:2}" "$base$1"; }
probe_is() { [ "$(code "/health/$1")" = "$2" ]; }
probe_says() { curl -s --max-time 5 "$base/health/$1" | grep -q -- "$2"; }

# A Tier 1 blind limit of 4 s, so that a stopped database shows within seconds.
sed -i 's/^\[watchdog\]$/[watchdog]\nblind_limit_ms = 4000/' "$conf"
service relaywatch restart

check "the probes answer 200 once the first cycles are done" \
        wait_for 60 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $base/health/startup)\" = 200 ]"
check "  live" probe_is live 200
check "  ready" wait_for 20 probe_is ready 200
check "unknown paths 404, POST 405, a body 413" bash -c "
        [ \"\$(curl -s -o /dev/null -w '%{http_code}' $base/nope)\" = 404 ] &&
        [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST $base/metrics)\" = 405 ] &&
        [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X GET --data x $base/status)\" = 413 ]"

# locked_shown: /metrics (kept in artifacts) shows SIGIL locked in the lockbox.
locked_shown() {
        curl -s "$base/metrics" > "$art/metrics.txt" &&
                grep -q '^relaywatch_bridge_locked_tokens{asset="SIGIL",view="chain"} [1-9]' "$art/metrics.txt"
}
check "/metrics has the bridge's figures: SIGIL locked, once deposits are in" wait_for 60 locked_shown
# progress_shown: the progress figures, which relaywatch run reads on a connection of
# its own every 15 s, reach /metrics.
progress_shown() { curl -s "$base/metrics" | grep -q '^relaywatch_bridge_deposits_indexed [1-9]'; }
check "  and the bridge's progress (deposits indexed), read beside the cycles" wait_for 40 progress_shown
check "  promtool check metrics finds nothing in it" \
        bash -c "promtool check metrics < '$art/metrics.txt' > '$art/promtool.txt' 2>&1 && [ ! -s '$art/promtool.txt' ]"
check "/status is the JSON of relaywatch status --json" \
        bash -c "curl -s $base/status | jq -e '.state == \"RUNNING\" and .supervisor.watchdog_id == \"stack-watchdog\"' >/dev/null"

# ------------------------------------------------------------ Prometheus
prom_port=
for p in $(shuf -i 33000-34000 -n 20); do
        port_listening "$p" || { prom_port=$p; break; }
done
cat > "$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $src/deploy/prometheus/relaywatch-rules.yml
scrape_configs:
  - job_name: relaywatch
    static_configs:
      - targets: ["127.0.0.1:$RELAYWATCH_HTTP_PORT"]
EOF
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus-data" \
        --web.listen-address="127.0.0.1:$prom_port" > "$dir/logs/prometheus.log" 2>&1 &
prom_pid=$!
promq() { curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
# prom_has QUERY: Prometheus returns at least one series for it.
# The last answer is kept in logs/prometheus-query.json.
prom_has() {
        promq "$1" > "$dir/logs/prometheus-query.json"
        jq -e '.status == "success" and (.data.result | length > 0)' "$dir/logs/prometheus-query.json" >/dev/null 2>&1
}
# prom_firing ALERT: the alert is firing in Prometheus.
prom_firing() {
        curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" |
                jq -e --arg a "$1" '[.data.alerts[] | select(.labels.alertname == $a and .state == "firing")] | length > 0' >/dev/null
}
check "Prometheus scrapes relaywatch: up == 1" wait_for 30 prom_has 'up{job="relaywatch"} == 1'
check "  its query API returns relaywatch's cycles" wait_for 10 prom_has 'relaywatch_cycles_total{result="ok"} > 0'
check "  the supply per asset" wait_for 10 prom_has 'relaywatch_bridge_locked_tokens{asset="SIGIL",view="ledger"}'
check "  the RPC latency histogram" wait_for 10 prom_has 'relaywatch_rpc_request_duration_seconds_count > 0'
check "  and no rule fires on a healthy bridge" bash -c "
        curl -s http://127.0.0.1:$prom_port/api/v1/alerts | jq -e '[.data.alerts[] | select(.state == \"firing\")] | length == 0' >/dev/null"

# ------------------------------------------------------------ idle connections
cycles() { jq -r '.cycles // 0' "$dir/state/status.json" 2>/dev/null || echo 0; }
idle=()
for i in $(seq 1 200); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$RELAYWATCH_HTTP_PORT" 2>/dev/null && idle+=("$fd")
done
before=$(cycles)
sleep 5
after=$(cycles)
echo "  ${#idle[@]} idle connections held; cycles $before -> $after"
check "200 idle connections held open: the cycles go on" [ "$after" -gt "$before" ]
check "  and a client from another address is served" \
        bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 $base/health/live)\" = 200 ]"
for fd in "${idle[@]}"; do exec {fd}>&-; done
check "  once they are closed, everyone is served again" wait_for 20 probe_is live 200

# ------------------------------------------------------------ the probes flip
service redis stop
check "Redis stopped: /health/ready is 503" wait_for 20 probe_is ready 503
check "  and says the halt path is down" probe_says ready "the halt path is down"
check "  /health/live stays 200" probe_is live 200
check "  Prometheus: RelaywatchHaltPathDown fires" wait_for 20 prom_firing RelaywatchHaltPathDown
service redis start
check "Redis back: /health/ready is 200 again" wait_for 30 probe_is ready 200

service postgres stop
check "PostgreSQL stopped: /health/ready is 503 once Tier 1 is blind" wait_for 30 probe_is ready 503
check "  and says when Tier 1 was last evaluated" probe_says ready "Tier 1"
check "  /health/live stays 200" probe_is live 200
service postgres start
check "PostgreSQL back: /health/ready is 200 again" wait_for 60 probe_is ready 200

# ------------------------------------------------------------ a halt, on the page
halted() { curl -s --max-time 5 "$base/status" | jq -e '.state == "HALTED"' >/dev/null; }
inject_mint
check "a minted supply: the watchdog halts the relayer" wait_for 60 halted
check "  /metrics: relaywatch_halts_in_force 1" \
        bash -c "curl -s $base/metrics | grep -q '^relaywatch_halts_in_force 1$'"
check "  Prometheus: RelaywatchHaltInForce fires" wait_for 20 prom_firing RelaywatchHaltInForce
check "  Prometheus: RelaywatchTier1Violated fires" wait_for 20 prom_firing RelaywatchTier1Violated
check "headless Chromium: the on-call page shows HALTED, SUPPLY_MISMATCH, SIGIL and the runbook" \
        bash "$src/tests/page/page_check.sh" "$base/" "$art" HALTED
check "  its screenshots are kept" test -s "$art/oncall.png"
check "  the runbook it links is served" \
        bash -c "curl -s $base/runbooks/SUPPLY_MISMATCH.md | grep -q SUPPLY_MISMATCH"
undo_mint

stop_prometheus
finish
