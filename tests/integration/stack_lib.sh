# Helpers for the shell tests of the local stack. Source it.

passed=0
failed=0
check() {
        local what=$1; shift
        if "$@"; then
                printf 'ok      %s\n' "$what"
                passed=$((passed + 1))
        else
                printf 'FAILED  %s\n' "$what"
                failed=$((failed + 1))
        fi
}
finish() {
        printf '%d passed, %d failed\n' "$passed" "$failed"
        [ "$failed" -eq 0 ]
}

port_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Every loopback port the services of stack DIR said (in their logs) they bound.
logged_ports() {
        local dir=$1
        {
                grep -ho 'Listening on 127.0.0.1:[0-9]*' "$dir"/logs/anvil-*.log 2>/dev/null | sed 's/.*://'
                grep -ho 'port [0-9]*' "$dir"/logs/postgres.log 2>/dev/null | sed 's/port //'
                grep -ho '^port [0-9]*' "$dir"/redis/redis.conf 2>/dev/null | sed 's/port //'
        } | sort -u
}

# True when nothing the stack in DIR started is left: no process mentions the
# directory and none of its logged ports still accepts connections.
stack_is_gone() {
        local dir=$1 p
        if pgrep -f -- "$dir/" >/dev/null; then
                echo "processes still running for $dir:" >&2
                pgrep -af -- "$dir/" >&2
                return 1
        fi
        for p in $(logged_ports "$dir"); do
                if port_listening "$p"; then
                        echo "port $p of $dir still accepts connections" >&2
                        return 1
                fi
        done
        [ ! -e "$dir/stack.env" ] && ! compgen -G "$dir/run/*.pid" >/dev/null
}

chain_id_of() {
        curl -sS --max-time 5 -H 'Content-Type: application/json' \
                --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" |
                sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p'
}

# redis ARGS...: redis-cli on the stack whose stack.env is loaded.
redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning "$@"; }

# wait_for SECONDS COMMAND...: COMMAND until it succeeds, polling every 0.1 s.
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.1
        done
}

# key_up KEY: the Redis key exists with a TTL left.
key_up() { [ "$(redis pttl "$1")" -gt 0 ]; }

# key_holds KEY SECONDS: KEY is there in every sample, four a second (a
# heartbeat that never lapses); says how many samples missed it.
key_holds() {
        local n=$(($2 * 4)) i missing=0
        for ((i = 0; i < n; i++)); do
                key_up "$1" || missing=$((missing + 1))
                sleep 0.25
        done
        echo "  $1 absent in $missing of $n samples"
        [ "$missing" -eq 0 ]
}
