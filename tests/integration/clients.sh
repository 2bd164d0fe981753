#!/usr/bin/env bash
# The real client libraries (tests/clients: ollama-js, openai-node, ProxyAI
# replays) against the real gateway and generator, with the fake Ollama
# behind them:
#
#   node tests/clients  ->  lca-gateway  ->  broker  ->  lca-generator  ->  fake Ollama
#
# Starts the fake, the gateway and the generator on fresh ports, waits until
# the gateway's broker sees the generator, runs `node --test` (TAP) with
# LCA_URL = the gateway and FAKE_URL = the fake, then stops everything it
# started (also on failure or Ctrl-C).  Exits non-zero when a test fails, or
# when the gateway or generator does not exit cleanly on SIGTERM (under the
# sanitizer build that includes leaks).
#
#   tests/integration/clients.sh                       # build/bin
#   LCA_BIN=build/san/bin tests/integration/clients.sh # sanitizer binaries
#
# Extra arguments go to node --test (e.g. --test-name-pattern=abort).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${LCA_BIN:-build/bin}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}"

tmp=$(mktemp -d /tmp/lca-clients-XXXXXX)
fake_pid='' gateway_pid='' generator_pid=''
cleanup() {
    for pid in $generator_pid $gateway_pid $fake_pid; do
        kill "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "clients.sh: $*" >&2
    for log in "$tmp"/*.log; do
        [ -s "$log" ] && { echo "---- $log" >&2; tail -n 40 "$log" >&2; }
    done
    exit 1
}

# Polls a command until it succeeds, for at most $1 seconds.
wait_until() {
    local seconds=$1
    shift
    local until=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -ge $until ] && return 1
        sleep 0.05
    done
}

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

if [ ! -d tests/clients/node_modules ]; then
    (cd tests/clients && npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1) || fail "npm ci failed"
fi

node tests/fake-ollama/fake-ollama.mjs --port 0 --quiet >"$tmp/fake.out" 2>"$tmp/fake.log" &
fake_pid=$!
wait_until 15 grep -qs '^listening ' "$tmp/fake.out" || fail "the fake Ollama did not start"
fake_url="http://$(sed -n 's/^listening //p' "$tmp/fake.out")"

port=$(free_port)
broker="ipc://$tmp/broker" # the test's own, closed to other users (mktemp -d: 0700)
export LCA_HEARTBEAT_MS=${LCA_HEARTBEAT_MS:-200}
"$bin/lca-gateway" --port "$port" --broker "$broker" --timeout 20000 >"$tmp/gateway.log" 2>&1 &
gateway_pid=$!
OLLAMA_HOST=$fake_url "$bin/lca-generator" --broker "$broker" >"$tmp/generator.log" 2>&1 &
generator_pid=$!
lca_url="http://127.0.0.1:$port"

generator_ready() {
    node -e 'fetch(process.argv[1]).then((r) => r.json())
        .then((j) => process.exit(j.services?.generate?.workers > 0 ? 0 : 1), () => process.exit(1))' \
        "$lca_url/healthz"
}
wait_until 20 generator_ready || fail "the gateway did not see the generator at $lca_url"

(cd tests/clients && LCA_URL=$lca_url FAKE_URL=$fake_url node --test --test-reporter=tap "$@")
rc=$?

# No prompt the gateway sent went over the model's window (the fake records
# how its runner read each one, since the tests' last reset of it).
over=$(node -e 'fetch(process.argv[1]).then((r) => r.json()).then((all) => {
    const over = all.filter((p) => p.truncated);
    for (const p of over) console.error(JSON.stringify(p));
    console.log(over.length);
}, () => console.log("unknown"))' "$fake_url/_fake/prompts?text=0")
if [ "$over" != 0 ]; then
    echo "not ok - prompts over the window upstream: $over" >&2
    rc=1
fi

# Both must exit 0 on SIGTERM (the sanitizer build fails on a leak).
for name in generator gateway; do
    pid_var=${name}_pid
    pid=${!pid_var}
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    printf -v "$pid_var" '%s' ''
    if [ $status -ne 0 ]; then
        echo "not ok - lca-$name exited with $status on SIGTERM" >&2
        tail -n 40 "$tmp/$name.log" >&2
        rc=1
    fi
done
[ $rc -eq 0 ] || { echo "---- gateway log" >&2; tail -n 30 "$tmp/gateway.log" >&2; }
exit $rc
