#!/usr/bin/env bash
# Seeding benchmark: index a large real repository (default /usr/include,
# or LCA_BENCH_REPO) through a fresh `lca up`, then re-seed it unchanged;
# report MB/s, files/s, the unchanged re-seed time and each process's peak
# memory (VmHWM).  Prints a markdown table.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LCA_BIN:-$root/build/bin}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
repo=${LCA_BENCH_REPO:-/usr/include}
tmp=$(mktemp -d /tmp/lca-seedbench-XXXXXX)
up_pid=''
cleanup() { [ -n "$up_pid" ] && kill "$up_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
http=$(port) broker="ipc://$tmp/broker" # lca's kind of broker: a Unix socket, 0700 directory
export LCA_BROKER=$broker LCA_LOG=warn
"$bin/lca" up --port "$http" --broker "$broker" --data "$tmp/data" >"$tmp/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 300); do
    "$bin/lca" status 2>/dev/null | grep -q 'retrieve.1 .* 1 worker' && break
    sleep 0.1
done
mb=$(du -sm --apparent-size "$repo" | cut -f1)
first=$( { /usr/bin/time -f 'seeder_rss_kb=%M' "$bin/lca-seeder" "$repo" --collection bench --json; } 2>&1 )
again=$( { /usr/bin/time -f 'seeder_rss_kb=%M' "$bin/lca-seeder" "$repo" --collection bench --json; } 2>&1 )
field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | head -1 | cut -d: -f2; }
echo "Repository: $repo ($mb MB on disk)"
echo
echo "| run | files indexed | chunks | seconds | MB/s | files/s | seeder peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for name in first again; do
    out=${!name}
    printf '| %s | %s | %s | %s | %s | %s | %s MB |\n' \
        "$([ $name = first ] && echo 'first seed' || echo 'unchanged re-seed')" \
        "$(field "$out" indexed)" "$(field "$out" chunks)" "$(field "$out" seconds)" \
        "$(field "$out" mb_per_s)" "$(field "$out" files_per_s)" \
        "$(( $(echo "$out" | sed -n 's/.*seeder_rss_kb=\([0-9]*\).*/\1/p' | tail -1) / 1024 ))"
done
echo
echo "| process | peak RSS (VmHWM) |"
echo "|---|---:|"
for pid in $(pgrep -P "$up_pid"); do
    name=$(tr '\0' ' ' </proc/$pid/cmdline | awk '{print $1" "$2" "$3}' | sed "s|$bin/||")
    hwm=$(awk '/VmHWM/{print int($2/1024)}' /proc/$pid/status)
    echo "| $name | $hwm MB |"
done
