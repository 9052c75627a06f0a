#!/usr/bin/env bash
# runbooks.sh SOURCE_DIR: the runbooks against the code that links to them.
#
#   every alert name the code can emit (an invariant's `.name = "X"`, a
#   finding reported or cleared as "X", an alert given `.kind = "X"`) has
#   runbooks/X.md, a row in runbooks/README.md, and `relaywatch runbook X`
#   prints exactly that file (the copy compiled into the binary); every
#   runbook is some alert's, and says its severity and response and its
#   timeline;
#   every `relaywatch ...` command line in a runbook's code blocks parses
#   (RELAYWATCH_PARSE_ONLY: the command and its options are known, nothing
#   runs);
#   every sql/queries/*.sql runs against the reference schema as the
#   watchdog's read-only role, and each Tier 1 invariant has at least one.
# Needs RELAYWATCH_BIN and RELAYWATCH_STACK_ENV (the shared stack); psql,
# python3.
set -uo pipefail
src=$1
rw=${RELAYWATCH_BIN:?RELAYWATCH_BIN is not set}
. "${RELAYWATCH_STACK_ENV:?RELAYWATCH_STACK_ENV is not set}"
failures=0
ok() { echo "ok      $*"; }
bad() { echo "FAIL    $*"; failures=$((failures + 1)); }

# --- the alert names in the code
names=$(
        {
                grep -rhoE '\.name = "[A-Z][A-Z0-9_]+"' "$src/invariants" --include='*.c'
                grep -rhoE '(report|finding_clear)\([a-z_>.-]+, "[A-Z][A-Z0-9_]+"' "$src/watchdog" --include='*.c'
                grep -rhoE '\.kind = "[A-Z][A-Z0-9_]+"' "$src/watchdog" --include='*.c'
                # a name kept in a macro of its own: #define ENDPOINT_DISAGREEMENT "ENDPOINT_DISAGREEMENT"
                grep -rhoE '^#define ([A-Z][A-Z0-9_]+) +"\1"' "$src/invariants" "$src/watchdog" --include='*.c'
        } | grep -oE '"[A-Z][A-Z0-9_]+"' | tr -d '"' | sort -u
)
count=$(echo "$names" | grep -c .)
# the scan must see what it is known to hold, or it proves nothing
for must in SUPPLY_MISMATCH DUPLICATE_BATCH PROOF_VERIFICATION_FAIL NONCE_DESYNC HALT_PATH_DOWN \
        HALT_NOT_ACKNOWLEDGED WATCHDOG_BLIND ALERT_DELIVERY_FAILED AUDIT_LOG_DOWN; do
        echo "$names" | grep -qx "$must" || bad "the scan of the code did not find $must (scan broken?)"
done
[ "$count" -ge 20 ] && ok "the code can emit $count alert names" || bad "only $count alert names found in the code"

for n in $names; do
        f=$src/runbooks/$n.md
        if [ ! -f "$f" ]; then
                bad "$n: no runbooks/$n.md"
                continue
        fi
        grep -qF "[$n]($n.md)" "$src/runbooks/README.md" || bad "$n: no row in runbooks/README.md"
        if "$rw" runbook "$n" | cmp -s - "$f"; then
                ok "$n: runbook present, listed, and compiled in as it is"
        else
                bad "$n: relaywatch runbook $n does not print runbooks/$n.md (rebuild?)"
        fi
done
for f in "$src"/runbooks/*.md; do
        n=$(basename "$f" .md)
        [ "$n" = README ] && continue
        echo "$names" | grep -qx "$n" || bad "runbooks/$n.md: no alert of that name in the code"
        for part in "Severity and response." "Timeline."; do
                grep -qF "**$part**" "$f" || bad "runbooks/$n.md: no **$part** paragraph"
        done
done

# --- every relaywatch command line in a code block parses
python3 - "$src" "$rw" <<'EOF' || failures=$((failures + 1))
import glob, os, re, shlex, subprocess, sys

src, rw = sys.argv[1], sys.argv[2]
env = dict(os.environ, RELAYWATCH_PARSE_ONLY="1")


def commands(text):
    """(line, command) for each relaywatch command: in a code span or a code block line."""
    for m in re.finditer(r"(?<!`)`((?:\S*/)?relaywatch\s[^`]+)`", text):
        yield text.count("\n", 0, m.start()) + 1, " ".join(m.group(1).split())
    fenced = False
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        line = line.strip()
        line = line[2:] if line.startswith("$ ") else line
        if fenced and re.match(r"(\S*/)?relaywatch\s", line):
            yield lineno, line


checked, failed = 0, 0
for path in sorted(glob.glob(os.path.join(src, "runbooks", "*.md"))):
    for lineno, text in commands(open(path, encoding="utf-8").read()):
        # the command itself: up to the first pipe, redirection or list operator
        lex = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
        lex.whitespace_split = True
        words, err = [], None
        try:
            for w in lex:
                if w and set(w) <= set("|&;<>"):
                    break
                words.append(w)
        except ValueError as e:
            words, err = None, "cannot split it: %s" % e
        checked += 1
        if words is not None:
            r = subprocess.run([rw] + words[1:], env=env, capture_output=True, text=True)
            err = r.stderr.strip() if r.returncode != 0 else None
        if err:
            failed += 1
            print("FAIL    %s:%d: %s\n        %s" % (os.path.relpath(path, src), lineno, text,
                                                 err.replace("\n", "\n        ")))
enough = checked >= 20
print("%s      %d of %d relaywatch command lines in the runbooks parse%s"
      % ("ok" if failed == 0 and enough else "FAIL", checked - failed, checked,
         "" if enough else " (fewer than 20 found: extraction broken?)"))
sys.exit(1 if failed or not enough else 0)
EOF

# --- the investigation SQL runs against the reference schema, as the watchdog's role
shopt -s nullglob
queries=("$src"/sql/queries/*.sql)
[ ${#queries[@]} -gt 0 ] || bad "no sql/queries/*.sql"
for q in "${queries[@]}"; do
        if out=$(psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$q" 2>&1 >/dev/null); then
                ok "sql/queries/$(basename "$q") runs as the watchdog's role"
        else
                bad "sql/queries/$(basename "$q"): $out"
        fi
done
for inv in supply_mismatch duplicate_batch proof_verification nonce_desync; do
        compgen -G "$src/sql/queries/${inv}*.sql" > /dev/null || bad "no sql/queries/${inv}*.sql for its runbook"
done

if [ "$failures" -gt 0 ]; then
        echo "runbooks: $failures failure(s)"
        exit 1
fi
echo "runbooks: all hold"
