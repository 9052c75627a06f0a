#!/bin/bash
# node_client.sh SOURCE_DIR WORK_DIR
#
# The Node reference client (clients/node) against `relaywatch run` on a
# local stack of its own (STACK_WATCHDOG=1): its live test stops on real
# HALTs, refuses forged entries, resumes on a real RESUME and fails safe
# when the heartbeat lapses (clients/node/test/live.test.js says how).
# Needs RELAYWATCH_BIN and RELAYER_SIM_BIN, node, and `npm ci` done in
# clients/node (scripts/bootstrap does it).
set -u
src=$1
dir=$2
. "$src/tests/integration/stack_lib.sh"
. "$src/tests/integration/validate_lib.sh"
export STACK_WATCHDOG=1
own_stack
trap 'if [ "$rc" -ne 0 ]; then "$src/scripts/stack-down" "$dir" >/dev/null 2>&1; else stack_teardown; fi' EXIT
rc=1
cd "$src/clients/node" || exit 1
RELAYWATCH_STACK_DIR=$dir node --test test/live.test.js
rc=$?
exit "$rc"
