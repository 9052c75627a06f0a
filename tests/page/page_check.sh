#!/usr/bin/env bash
# page_check.sh URL OUTDIR [EXPECT_STATE [EXPECT_INVARIANT]]
#
# Loads the on-call page (watchdog/http/oncall_page.html, as served at GET /
# or substituted into a file:// copy) in headless Chromium, dumps its DOM to
# OUTDIR/oncall.dom.html, takes two screenshots (OUTDIR/oncall.png at
# 1280x2000, OUTDIR/oncall-phone.png at 390x1800) and checks the DOM against
# the page's contract (check_dom.mjs):
#   body[data-state] is HALTED, RUNNING or UNKNOWN (and EXPECT_STATE if given);
#   #headline is not empty;
#   every #assets tr[data-asset] has data-ok="true|false";
#   every a.runbook links to runbooks/NAME.md (relative, ?token= allowed);
#   no uncaught exception and no part that failed to render (the console);
#   when HALTED: the headline says HALTED and names the invariant
#   (EXPECT_INVARIANT, else the first #halts [data-invariant]), an asset row
#   exists, an a.runbook links to runbooks/<INVARIANT>.md;
#   no <img> and no second <script>: nothing from the data became markup.
#
# Environment:
#   CHROMIUM              the browser (default /usr/bin/chromium)
#   PAGE_CHECK_BUDGET     --virtual-time-budget in ms (default 5000)
#   PAGE_CHECK_HEADLINE   a regular expression the headline must match
#   PAGE_CHECK_STALE      visible | hidden: what #stale must be
#   PAGE_CHECK_NO_SHOTS   1: skip the screenshots
#
# Chromium's own chatter (dbus, gpu) goes to OUTDIR/chromium.log and is
# never a failure; a Chromium that does not start or produce a page is.
# Exit status: 0 all checks hold, 1 a check failed, 2 Chromium failed, 64 usage.
set -uo pipefail

usage() { echo "usage: ${0##*/} URL OUTDIR [EXPECT_STATE [EXPECT_INVARIANT]]" >&2; exit 64; }
case "${1:-}" in -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;; esac
if [ $# -lt 2 ] || [ $# -gt 4 ]; then usage; fi
url=$1 out=$2 expect=${3:-} invariant=${4:-}
case "$expect" in ""|HALTED|RUNNING|UNKNOWN) ;; *) echo "${0##*/}: EXPECT_STATE must be HALTED, RUNNING or UNKNOWN, not $expect" >&2; exit 64 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
budget=${PAGE_CHECK_BUDGET:-5000}
[ -x "$chromium" ] || { echo "${0##*/}: Chromium not found at $chromium (set CHROMIUM, or run scripts/bootstrap)" >&2; exit 2; }
command -v node >/dev/null || { echo "${0##*/}: node is needed to check the DOM" >&2; exit 2; }

mkdir -p "$out" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/page_check.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
log=$out/chromium.log
: > "$log"

# run_chromium NAME ARGS...: one headless run with a throwaway profile
run_chromium() {
        local name=$1; shift
        echo "== $name: $chromium $*" >> "$log"
        timeout 90 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
                --no-default-browser-check --disable-extensions --disable-sync \
                --user-data-dir="$tmp/profile-$name" --virtual-time-budget="$budget" "$@" 2>> "$log"
}

run_chromium dom --enable-logging=stderr --v=0 --dump-dom "$url" > "$out/oncall.dom.html"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$out/oncall.dom.html" ]; then
        echo "FAIL: Chromium could not dump $url (exit $rc); its log: $log" >&2
        grep -v -e dbus -e "^== " "$log" | tail -n 5 >&2
        exit 2
fi
if [ "${PAGE_CHECK_NO_SHOTS:-0}" != 1 ]; then
        run_chromium desktop --hide-scrollbars --window-size=1280,2000 --screenshot="$out/oncall.png" "$url" > /dev/null &
        p1=$!
        run_chromium phone --hide-scrollbars --window-size=390,1800 --screenshot="$out/oncall-phone.png" "$url" > /dev/null &
        p2=$!
        for shot in "$p1:$out/oncall.png" "$p2:$out/oncall-phone.png"; do
                wait "${shot%%:*}"
                rc=$?
                f=${shot#*:}
                if [ $rc -ne 0 ] || [ ! -s "$f" ]; then
                        echo "FAIL: Chromium could not take the screenshot $f (exit $rc); its log: $log" >&2
                        exit 2
                fi
        done
fi

echo "page_check: $url -> $out"
node "$here/check_dom.mjs" "$out/oncall.dom.html" "$expect" "$invariant"
rc=$?
# The page's own errors, from the console of the DOM run: an exception that
# escaped, or a part of the page that failed to render ("render" ...).
errors=$(grep -E ':CONSOLE[^]]*\] "(Uncaught|render)' "$log")
if [ -n "$errors" ]; then
        echo "FAIL: the page reported errors in its console:"
        printf '%s\n' "$errors" | sed 's/^[^]]*\] /  /' | head -n 10
        rc=1
fi
if [ $rc -ne 0 ]; then
        echo "page_check: FAILED for $url (DOM: $out/oncall.dom.html, screenshots: $out/*.png)" >&2
        exit 1
fi
echo "page_check: all checks hold"
