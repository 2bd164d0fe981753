#!/usr/bin/env bash
# What CURVE costs a chat that crosses the network to a GPU host.
#
# A "laptop" and a "gpu" network namespace joined by a veth pair
# (10.213.0.1 and 10.213.0.2).  The laptop runs lca-gateway with two broker
# addresses on its veth address: tcp://10.213.0.1:5555 plain (--insecure-broker,
# for this benchmark only) and tcp://10.213.0.1:5556 CURVE (--broker-public).
# The gpu namespace runs the fake Ollama and one lca-generator at a time,
# first joined over plain TCP, then over CURVE, alternating for ROUNDS rounds
# so that drift hits both alike.  Retrieval is off (LCA_RAG=off): only the
# transport differs between the rows.
#
# From inside the laptop, streamed /api/chat requests (NDJSON) measure
#   - time to first token: a short reply, CURVE_CHATS chats one after another;
#   - tokens/s: a CURVE_TOKENS-token reply the fake sends as fast as it can,
#     from the first token to the last, CURVE_LONG chats;
# beside the same requests sent straight to the fake Ollama across the same
# veth link (no lca at all: the floor for time to first token).  Prints one
# markdown table.
#
# Reading the rates: the fake sends as fast as it can, thousands of times
# faster than a model, so tokens/s is the ceiling of each path, and CPU bound.
# The direct row's ceiling is the client's: the fake writes one segment per
# token and the client reads each; the gateway coalesces tokens that arrive
# together into one write, so lca's rows can read faster than direct.  The
# row to compare is CURVE against plain TCP.
#
# Needs root (ip netns).  LCA_BIN: the binaries (default build/bin; use a
# release build).  Knobs: CURVE_CHATS (40), CURVE_TOKENS (2000), CURVE_LONG (8),
# ROUNDS (3).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${LCA_BIN:-build/bin}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
chats=${CURVE_CHATS:-40} tokens=${CURVE_TOKENS:-2000} long=${CURVE_LONG:-8} rounds=${ROUNDS:-3}
export LCA_LOG=warn LCA_RAG=off

tmp=$(mktemp -d /tmp/lca-curve-bench-XXXXXX)
tag=$$
ns_l=lca-$tag-bl ns_g=lca-$tag-bg
pids=() namespaces=()
cleanup() {
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    # Anything still running in our namespaces (a curl of a chat) goes too.
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    done
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
    echo "curve.sh: $*" >&2
    for log in "$tmp"/*.log; do [ -s "$log" ] && { echo "---- $log" >&2; tail -n 20 "$log" >&2; }; done
    exit 1
}
wait_until() {
    local until=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $until ] && return 1
        sleep 0.05
    done
}

[ "$(id -u)" = 0 ] || die "needs root for network namespaces (ip netns add)"
for ns in $ns_l $ns_g; do
    ip netns add "$ns" 2>"$tmp/ip.err" || die "this machine does not allow network namespaces: $(cat "$tmp/ip.err")"
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
done
{ ip link add lcaBL$tag type veth peer name lcaBG$tag &&
    ip link set lcaBL$tag netns $ns_l && ip link set lcaBG$tag netns $ns_g &&
    ip -n $ns_l addr add 10.213.0.1/24 dev lcaBL$tag && ip -n $ns_g addr add 10.213.0.2/24 dev lcaBG$tag &&
    ip -n $ns_l link set lcaBL$tag up && ip -n $ns_g link set lcaBG$tag up; } 2>"$tmp/ip.err" ||
    die "cannot make the veth link: $(cat "$tmp/ip.err")"

"$bin/lca" keys init "$tmp/keys" >/dev/null && "$bin/lca" keys add gpu "$tmp/keys" >/dev/null ||
    die "lca keys failed"

ip netns exec $ns_g node tests/fake-ollama/fake-ollama.mjs --host 0.0.0.0 --port 0 --quiet \
    >"$tmp/fake.out" 2>"$tmp/fake.log" &
pids+=($!)
wait_until 15 grep -qs '^listening ' "$tmp/fake.out" || die "the fake Ollama did not start"
fake_port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$tmp/fake.out" | head -n1)

ip netns exec $ns_l "$bin/lca-gateway" --port 11435 --broker tcp://10.213.0.1:5555 --insecure-broker \
    --broker-public tcp://10.213.0.1:5556 --curve-dir "$tmp/keys" >"$tmp/gateway.log" 2>&1 &
pids+=($!)

generate_workers() {
    ip netns exec $ns_l curl -s --max-time 2 http://127.0.0.1:11435/healthz 2>/dev/null |
        python3 -c 'import json,sys
try: print(json.load(sys.stdin)["services"]["generate"]["workers"])
except Exception: print(-1)'
}
workers_are() { [ "$(generate_workers)" = "$1" ]; }
wait_until 15 workers_are 0 || die "the gateway did not start"

script() { # count, pace_ms
    python3 -c 'import json,sys; print(json.dumps({"tokens": [f"t{i} " for i in range(int(sys.argv[1]))], "pace_ms": int(sys.argv[2])}))' \
        "$1" "$2" >"$tmp/script.json"
    ip netns exec $ns_g curl -sf -X POST --data-binary @"$tmp/script.json" \
        "http://127.0.0.1:$fake_port/_fake/script" >/dev/null || die "the fake refused the script"
}

# The client: N streamed chats one after another; prints one JSON line per
# chat with the time to first token and the token rate after it.
cat >"$tmp/client.py" <<'EOF'
import http.client, json, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"model": "qwen2.5-coder:7b", "stream": True,
                   "messages": [{"role": "user", "content": "go"}]})
for _ in range(n):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    start = time.perf_counter()
    conn.request("POST", "/api/chat", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first = last = None
    count = 0
    while True:
        line = resp.readline()
        if not line:
            break
        if b'"done":true' in line:
            break
        if b'"error"' in line:
            sys.exit("error: " + line.decode())
        count += 1
        last = time.perf_counter()
        if first is None:
            first = last
    conn.close()
    if first is None:
        sys.exit("no token")
    rate = (count - 1) / (last - first) if count > 1 and last > first else 0
    print(json.dumps({"ttft_ms": (first - start) * 1000, "tokens": count, "rate": rate}))
EOF
measure() { # label, host, port -> appends to $tmp/<label>.{short,long}
    script 8 0
    ip netns exec $ns_l python3 "$tmp/client.py" "$2" "$3" "$chats" >>"$tmp/$1.short" ||
        die "$1: short chats failed"
    script "$tokens" 0
    ip netns exec $ns_l python3 "$tmp/client.py" "$2" "$3" "$long" >>"$tmp/$1.long" ||
        die "$1: long chats failed"
}
generator() { # mode: plain | curve
    if [ "$1" = curve ]; then
        ip netns exec $ns_g env LCA_CURVE_DIR="$tmp/keys/hosts/gpu" OLLAMA_HOST=http://127.0.0.1:$fake_port \
            "$bin/lca-generator" --broker tcp://10.213.0.1:5556 >>"$tmp/generator-$1.log" 2>&1 &
    else
        ip netns exec $ns_g env -u LCA_CURVE_DIR OLLAMA_HOST=http://127.0.0.1:$fake_port \
            "$bin/lca-generator" --broker tcp://10.213.0.1:5555 >>"$tmp/generator-$1.log" 2>&1 &
    fi
    gen_pid=$!
    pids+=($gen_pid)
    wait_until 15 workers_are 1 || die "the $1 generator did not join"
}
stop_generator() {
    kill -TERM "$gen_pid"
    wait "$gen_pid" 2>/dev/null
    wait_until 15 workers_are 0 || die "the generator did not leave"
}

for ((r = 0; r < rounds; r++)); do
    measure direct 10.213.0.2 "$fake_port"
    for mode in plain curve; do
        generator $mode
        measure $mode 127.0.0.1 11435
        stop_generator
    done
done

python3 - "$tmp" "$chats" "$tokens" "$rounds" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'EOF'
import json, statistics, sys
tmp, chats, tokens, rounds, cpus, load = sys.argv[1:7]
def rows(name):
    with open(f"{tmp}/{name}") as f:
        return [json.loads(l) for l in f if l.strip()]
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(f"{int(chats) * int(rounds)} short chats (8 tokens) and long chats of {tokens} tokens per row, "
      f"across a veth link between two network namespaces; {cpus} CPUs, load {load}.\n")
print("| path | TTFT median | TTFT p90 | tokens/s (median) | tokens/s vs direct |")
print("|---|---:|---:|---:|---:|")
labels = [("direct", "straight to Ollama (fake) over the link, no lca"),
          ("plain", "lca, broker over plain TCP (--insecure-broker)"),
          ("curve", "lca, broker over CURVE (--broker-public)")]
base = None
result = {}
for key, label in labels:
    s, l = rows(key + ".short"), rows(key + ".long")
    ttft = [x["ttft_ms"] for x in s]
    rate = statistics.median(x["rate"] for x in l)
    base = base or rate
    result[key] = (statistics.median(ttft), rate)
    print(f"| {label} | {statistics.median(ttft):.2f} ms | {pct(ttft, 90):.2f} ms | "
          f"{rate:,.0f} | {rate / base:.2f}x |")
(pt, pr), (ct, cr) = result["plain"], result["curve"]
print(f"\nCURVE against plain TCP: time to first token {ct - pt:+.2f} ms "
      f"({(ct / pt - 1) * 100:+.1f}%), tokens/s {(cr / pr - 1) * 100:+.1f}%.")
EOF
