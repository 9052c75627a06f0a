# Shared shell helpers for relaywatch's scripts. Source it; do not run it.

RELAYWATCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '%s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# The PostgreSQL server binaries (initdb, pg_ctl): Debian keeps them out of PATH.
pg_bindir() {
        local d
        if command -v pg_config >/dev/null 2>&1; then
                d=$(pg_config --bindir 2>/dev/null || true)
                [ -x "$d/initdb" ] && { echo "$d"; return; }
        fi
        for d in /usr/lib/postgresql/*/bin; do
                [ -x "$d/initdb" ] && { echo "$d"; return; }
        done
        command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
        return 1
}

# PostgreSQL refuses to run as root: when we are root, run it as 'postgres'.
as_pg() {
        if [ "$(id -u)" = 0 ]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

# True while process PID runs. A zombie counts as gone: where nothing reaps
# orphans (some container inits), it would otherwise look alive forever.
alive() {
        local st
        st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
        case "$st" in Z*) return 1 ;; esac
        return 0
}

# Stops the process group recorded in DIR/run/NAME.pid: TERM, up to 5 s, KILL.
stop_pid_file() {
        local f=$1/run/$2.pid pid
        [ -f "$f" ] || return 0
        pid=$(cat "$f")
        if [ -n "$pid" ]; then
                kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
                kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        rm -f "$f"
}

# Starts the relayer simulator of the stack in DIR (binary and arguments as
# stack-up recorded them in DIR/run/) and checks it is still running a
# second later. Its log goes to DIR/logs/relayer-sim.log.
start_relayer_sim() {
        local dir=$1 bin pid
        bin=$(cat "$dir/run/relayer-sim.bin")
        # shellcheck disable=SC2046
        setsid "$bin" --stack-env "$dir/stack.env" $(cat "$dir/run/relayer-sim.args") \
                >> "$dir/logs/relayer-sim.log" 2>&1 < /dev/null &
        pid=$!
        echo "$pid" > "$dir/run/relayer-sim.pid"
        sleep 1
        alive "$pid" || { say "relayer simulator exited at start; see $dir/logs/relayer-sim.log"; return 1; }
}

# Starts `relaywatch run` on the stack in DIR (binary as stack-up recorded it
# in DIR/run/relaywatch.bin) and checks it is still running a second later.
# Its JSON log goes to DIR/logs/relaywatch.log.
start_relaywatch() {
        local dir=$1 bin pid
        bin=$(cat "$dir/run/relaywatch.bin")
        setsid "$bin" run -c "$dir/relaywatch.conf" ${RELAYWATCH_RUN_ARGS:-} \
                >> "$dir/logs/relaywatch.log" 2>&1 < /dev/null &
        pid=$!
        echo "$pid" > "$dir/run/relaywatch.pid"
        sleep 1
        alive "$pid" || { say "relaywatch run exited at start; see $dir/logs/relaywatch.log"; return 1; }
}

# Starts the fault-injecting RPC proxy NAME (rpc-source, rpc-exec) of the
# stack in DIR in front of the upstream and on the port recorded in
# DIR/run/NAME.upstream and DIR/run/NAME.port (0: a free one, then
# recorded), in pass mode, and waits until it listens. Its log goes to
# DIR/logs/NAME.log. Switch its mode with scripts/stack-service.
start_rpc_fault() {
        local dir=$1 name=$2 port pid i
        port=$(cat "$dir/run/$name.port" 2>/dev/null || echo 0)
        : > "$dir/run/$name.out"
        setsid node "$RELAYWATCH_ROOT/tests/support/rpc_fault.mjs" pass "$(cat "$dir/run/$name.upstream")" "$port" \
                > "$dir/run/$name.out" 2>> "$dir/logs/$name.log" < /dev/null &
        pid=$!
        echo "$pid" > "$dir/run/$name.pid"
        for i in $(seq 1 100); do
                port=$(sed -n 's/^listening on //p' "$dir/run/$name.out")
                [ -n "$port" ] && { echo "$port" > "$dir/run/$name.port"; return 0; }
                alive "$pid" || break
                sleep 0.05
        done
        say "the RPC proxy $name did not start; see $dir/logs/$name.log"
        return 1
}
