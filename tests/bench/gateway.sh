#!/usr/bin/env bash
# Starts the fake Ollama, lca-gateway and lca-generator (release build) on
# fresh ports and runs tests/bench/gateway.mjs against them.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${LCA_BIN:-build/bin}
tmp=$(mktemp -d /tmp/lca-bench-XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

node tests/fake-ollama/fake-ollama.mjs --port 0 --quiet >"$tmp/fake.out" 2>"$tmp/fake.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$tmp/fake.out" && break; sleep 0.05; done
fake=$(sed -n 's/^listening //p' "$tmp/fake.out")
http=$(port) broker="ipc://$tmp/broker" # lca's kind of broker: a Unix socket, 0700 directory
LCA_LOG=warn "$bin/lca-gateway" --port "$http" --broker "$broker" 2>"$tmp/gw.log" &
pids+=($!)
LCA_LOG=warn OLLAMA_HOST="http://$fake" "$bin/lca-generator" --broker "$broker" \
    2>"$tmp/gen.log" &
pids+=($!)
for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$http/api/version" >/dev/null && break
    sleep 0.05
done
node tests/bench/gateway.mjs "http://127.0.0.1:$http" "http://$fake"
