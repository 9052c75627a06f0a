#!/usr/bin/env bash
# check_includes.sh ROOT: scripts/check-includes passes the repository and
# fails, naming the line, on a tree with an include that runs upward, one
# that runs sideways between peer rooms, and one between two commands.
set -euo pipefail
root=$1
check=$root/scripts/check-includes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A small tree in rooms: base <- config <- observe, control <- cli.
tree() {
        local t=$tmp/$1
        mkdir -p "$t"/chain "$t"/watchdog/{base,config,observe,control,cli}
        printf '#pragma once\n' > "$t"/chain/rwerr.h
        printf '#pragma once\n#include "rwerr.h"\n' > "$t"/watchdog/base/fileio.h
        printf '#include "fileio.h"\n#include <stdio.h>\n' > "$t"/watchdog/base/fileio.c
        printf '#pragma once\n#include "fileio.h"\n' > "$t"/watchdog/config/config.h
        printf '#pragma once\n#include "config.h"\n' > "$t"/watchdog/observe/observe.h
        printf '#pragma once\n#include "config.h"\n' > "$t"/watchdog/control/outbox.h
        printf '#pragma once\n' > "$t"/watchdog/cli/cmd_a.h
        printf '#pragma once\n' > "$t"/watchdog/cli/cmd_b.h
        printf '#include "cmd_a.h"\n#include "observe.h"\n#include "outbox.h"\n' \
                > "$t"/watchdog/cli/cmd_a.c
        printf '#include "cmd_a.h"\n#include "cmd_b.h"\n' > "$t"/watchdog/cli/cli.c
        echo "$t"
}

"$check" "$root" > "$tmp/real.out" || { cat "$tmp/real.out"; fail "the repository itself breaks the rule"; }

good=$(tree good)
"$check" "$good" > "$tmp/good.out" || { cat "$tmp/good.out"; fail "a tree that keeps the rule was refused"; }

# expect_refused NAME FILE LINE TEXT...: the tree fails and names FILE:LINE.
expect_refused() {
        local name=$1 file=$2 line=$3 t out
        shift 3
        t=$(tree "$name")
        printf '%s\n' "$@" > "$t/$file"
        if out=$("$check" "$t"); then
                fail "$name: an include against the rule passed"
        fi
        grep -q "^$file:$line: " <<< "$out" || fail "$name: the message does not name $file:$line: $out"
        echo "ok: $name: $out"
}

expect_refused upward watchdog/base/fileio.c 2 '#include "fileio.h"' '#include "config.h"'
expect_refused sideways watchdog/control/outbox.c 3 '#include "outbox.h"' '#include "config.h"' \
        '#include "observe.h"'
expect_refused command watchdog/cli/cmd_a.c 2 '#include "cmd_a.h"' '#include "cmd_b.h"'
echo "check-includes: all cases behave"
