#!/usr/bin/env bash
# Checks the operator files under deploy/ with the real tools.
#
#   deploy_check.sh prometheus_rules        promtool check rules/config, promtool test rules, and
#                                           every rule's severity, annotations, runbook and tests
#   deploy_check.sh alertmanager            amtool check-config, and the receiver of each severity
#   deploy_check.sh grafana [EXPOSITION]    the dashboard's shape; with EXPOSITION (a /metrics
#                                           page of relaywatch, e.g. metrics_sample's output) also
#                                           that every metric the dashboard and the rules use exists
#   deploy_check.sh systemd [BINARY]        systemd-analyze verify (ExecStart rewritten to BINARY,
#                                           default /bin/true, in a copy) and systemd-analyze
#                                           security --offline: exposure at most 2.0
#   deploy_check.sh kubernetes [CATALOGUE]  the manifests' structure (node + yaml); the probe paths
#                                           against CATALOGUE's endpoint list when given
#
# Environment: RELAYWATCH_SOURCE_DIR (default: two levels up from here),
# PROMTOOL, AMTOOL, SYSTEMD_ANALYZE, NODE. Exit 0 ok, 1 a problem (each named
# with its file), 77 a tool is missing (CTest: skipped).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${RELAYWATCH_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
deploy=$src/deploy
PROMTOOL=${PROMTOOL:-promtool}
AMTOOL=${AMTOOL:-amtool}
SYSTEMD_ANALYZE=${SYSTEMD_ANALYZE:-systemd-analyze}
NODE=${NODE:-node}
# the exposure score the unit must not exceed, and what it measured (systemd 252)
SECURITY_MAX=2.0

die() { echo "deploy_check: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "deploy_check: $1 not found: skipped" >&2; exit 77; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_prometheus_rules() {
  need "$PROMTOOL"; need "$NODE"
  local rules=$deploy/prometheus/relaywatch-rules.yml
  "$PROMTOOL" check rules "$rules" || die "$rules: promtool check rules failed"
  # rule_files is resolved relative to prometheus.yml
  "$PROMTOOL" check config "$deploy/prometheus/prometheus.yml" \
    || die "$deploy/prometheus/prometheus.yml: promtool check config failed"
  "$PROMTOOL" test rules "$deploy/prometheus/relaywatch-rules.test.yml" \
    || die "$deploy/prometheus/relaywatch-rules.test.yml: promtool test rules failed"
  "$NODE" "$here/deploy_check.mjs" rules "$src" || die "$rules: see above"
  echo "deploy_check: prometheus rules ok"
}

check_alertmanager() {
  need "$AMTOOL"
  local cfg=$deploy/alertmanager/alertmanager.yml
  "$AMTOOL" check-config "$cfg" || die "$cfg: amtool check-config failed"
  local sev want got
  for pair in critical:pagerduty error:email-and-slack warning:slack info:daily-report unknown:email-and-slack; do
    sev=${pair%%:*} want=${pair#*:}
    got=$("$AMTOOL" config routes test --config.file="$cfg" severity="$sev" alertname=RelaywatchTest bridge=example 2>/dev/null) || true
    [ "$got" = "$want" ] || die "$cfg: severity=$sev goes to \"$got\", expected \"$want\""
  done
  # inhibition: amtool cannot test it offline; its shape at least
  grep -q "source_matchers: \['alertname=\"RelaywatchHaltInForce\"'\]" "$cfg" \
    || die "$cfg: no inhibition by RelaywatchHaltInForce"
  grep -q "equal: \[bridge\]" "$cfg" || die "$cfg: the inhibition is not per bridge (equal: [bridge])"
  echo "deploy_check: alertmanager ok (critical->pagerduty, error->email-and-slack, warning->slack, info->daily-report)"
}

check_grafana() {
  need "$NODE"
  "$NODE" "$here/deploy_check.mjs" grafana "$src" || die "$deploy/grafana/relaywatch-dashboard.json: see above"
  if [ $# -ge 1 ]; then
    [ -s "$1" ] || die "$1: the exposition is missing or empty"
    "$NODE" "$here/deploy_check.mjs" metrics "$src" "$1" \
      || die "the dashboard or the rules use metrics that $1 does not have: see above"
  else
    echo "deploy_check: no exposition given: metric names not checked"
  fi
  echo "deploy_check: grafana ok"
}

check_systemd() {
  need "$SYSTEMD_ANALYZE"
  local unit=$deploy/relaywatch.service bin=${1:-/bin/true}
  [ -x "$bin" ] || die "$bin: not an executable"
  grep -q '^ExecStart=/usr/local/bin/relaywatch run ' "$unit" || die "$unit: ExecStart is not /usr/local/bin/relaywatch run ..."
  # verify needs ExecStart's binary to exist: a copy pointing at $bin
  sed "s#^ExecStart=/usr/local/bin/relaywatch #ExecStart=$bin #" "$unit" >"$tmp/relaywatch.service"
  local out
  out=$("$SYSTEMD_ANALYZE" verify "$tmp/relaywatch.service" 2>&1) || die "$unit: systemd-analyze verify failed: $out"
  # verify exits 0 on unknown keys and bad values: any message is a problem
  [ -z "$out" ] || die "$unit: systemd-analyze verify: $out"
  for key in Type=notify WatchdogSec= 'ExecReload=/bin/kill -HUP $MAINPID' UMask=0077 CapabilityBoundingSet=; do
    grep -qxF -- "$key" "$unit" || grep -q "^$key" "$unit" || die "$unit: no $key"
  done
  "$SYSTEMD_ANALYZE" security --offline=true "$tmp/relaywatch.service" >"$tmp/security.txt" 2>&1 || true
  local score
  score=$(sed -n 's/.*Overall exposure level for relaywatch.service: \([0-9.]*\).*/\1/p' "$tmp/security.txt")
  [ -n "$score" ] || die "$unit: systemd-analyze security gave no score: $(cat "$tmp/security.txt")"
  awk -v s="$score" -v m="$SECURITY_MAX" 'BEGIN { exit !(s <= m) }' \
    || die "$unit: exposure $score is above $SECURITY_MAX; what is open: $(grep '✗' "$tmp/security.txt" | tr -s ' ' | head -20)"
  echo "deploy_check: systemd ok (verify clean, exposure $score <= $SECURITY_MAX)"
}

check_kubernetes() {
  need "$NODE"
  "$NODE" "$here/deploy_check.mjs" kubernetes "$src" "${1:-}" || die "$deploy/kubernetes: see above"
  echo "deploy_check: kubernetes ok"
}

[ $# -ge 1 ] || die "usage: deploy_check.sh prometheus_rules|alertmanager|grafana [EXPOSITION]|systemd [BINARY]|kubernetes [CATALOGUE]"
what=$1
shift
case $what in
  prometheus_rules) check_prometheus_rules ;;
  alertmanager) check_alertmanager ;;
  grafana) check_grafana "$@" ;;
  systemd) check_systemd "$@" ;;
  kubernetes) check_kubernetes "$@" ;;
  *) die "unknown check $what" ;;
esac
