#!/usr/bin/env bash
# Benchmark of the retriever's vector scan (retriever/scan.c).
#
# One data set (default 1,000,000 x 384 float32, clustered unit vectors) is
# written once to a temporary file that every side reads, and removed at the
# end.  On it, one query at a time, top-10, 2 threads:
#   - a plain SIMD read of the same bytes: the memory-bandwidth floor
#     (float32 rows, and int8 rows), interleaved query by query with our scans
#   - our scan, float32 and int8, per kernel set this CPU runs, and the
#     store's int8 search (int8 candidates re-scored in float32)
#   - FAISS IndexFlatIP (exact) and hnswlib (graph; recall and build time),
#     with Debian's /usr/bin/python3
# and prints one table: median and p99 per query, effective GB/s, recall@10
# against the exact float32 answer, then the ratios the targets are about.
#
# Knobs (environment): SCAN_ROWS SCAN_DIM SCAN_QUERIES SCAN_THREADS SCAN_K
# SCAN_CLUSTERS (0: independent Gaussians) SCAN_SEED SCAN_PEERS (0: skip
# FAISS and hnswlib) SCAN_HNSW (0: skip hnswlib, whose build alone takes
# 7-16 minutes at 1M rows on 2 CPUs).  LCA_TESTS points at the built tests
# (make bench sets it).
set -euo pipefail
cd "$(dirname "$0")/../.."

rows=${SCAN_ROWS:-1000000}
dim=${SCAN_DIM:-384}
queries=${SCAN_QUERIES:-200}
threads=${SCAN_THREADS:-2}
k=${SCAN_K:-10}
clusters=${SCAN_CLUSTERS:-1000}
seed=${SCAN_SEED:-42}
peers=${SCAN_PEERS:-1}
python=/usr/bin/python3

bench=${LCA_TESTS:-build/tests}/bench/retriever_scan_bench
if [ -z "${LCA_TESTS:-}" ]; then
    make -s build/tests/bench/retriever_scan_bench
fi
[ -x "$bench" ] || { echo "scan.sh: $bench is missing (make build/tests/bench/retriever_scan_bench)" >&2; exit 1; }

data=$(mktemp "${TMPDIR:-/tmp}/lca-scan-bench.XXXXXX")
trap 'rm -f "$data" "$data.truth"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
echo "== retriever scan: $rows x $dim float32, top-$k, $threads threads, $queries queries" \
     "(clusters: $clusters), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(loadavg)"
"$bench" gen "$data" "$rows" "$dim" "$queries" "$clusters" "$seed"
results=$("$bench" run "$data" "$threads" "$k")
if [ "$peers" != 0 ]; then
    results+=$'\n'$("$python" tests/bench/scan_peers.py "$data" "$threads" "$k")
fi

echo "   load average after the run: $(loadavg) (other work on the machine inflates medians)"
awk -F'|' -v k="$k" '
$1 == "INFO" { print "   " $2; next }
$1 == "SKIP" { skipped = skipped sprintf("   skipped %s: %s\n", $2, $3); next }
$1 != "RESULT" { next }
{
    n++; name[n] = $2; med[n] = $3; p99[n] = $4; best[n] = $5; bytes[n] = $6; rec[n] = $7
    build[n] = NF >= 8 ? $8 : "-"
    if ($2 == "floor f32 read") floor32 = n
    if ($2 == "floor i8 read") floor8 = n
    if ($2 ~ /^lca scan f32/ && !f32) f32 = n
    if ($2 ~ /^lca scan i8/ && !i8) i8 = n
    if ($2 ~ /^lca vectors i8/) store = n
    if ($2 ~ /^faiss/) faiss = n
    if ($2 ~ /^hnswlib/) hnsw = n
}
END {
    printf "\n%-28s %10s %9s %9s %8s %10s %8s\n", "what", "median ms", "p99 ms", "min ms", "GB/s", "recall@" k, "build s"
    for (i = 1; i <= n; i++) {
        gbs = bytes[i] == "-" ? "-" : sprintf("%.1f", bytes[i] / med[i] / 1e6)
        printf "%-28s %10.2f %9.2f %9.2f %8s %10s %8s\n", name[i], med[i], p99[i], best[i], gbs, rec[i], build[i]
    }
    print "   (GB/s: bytes a query reads / median time; min: the fastest query)"
    printf "%s", skipped
    printf "\n%-61s %s\n", "ratios (medians)", "target"
    if (f32 && floor32)
        verdict(sprintf("%s / floor", name[f32]), med[f32] / med[floor32], "<= 1.3", med[f32] / med[floor32] <= 1.3)
    if (f32 && faiss) {
        verdict(sprintf("faiss flat / %s", name[f32]), med[faiss] / med[f32], ">= 5", med[faiss] / med[f32] >= 5)
        verdict("  the same on the fastest queries (less load noise)", best[faiss] / best[f32], "(info)", 1)
    }
    if (f32 && i8)
        verdict(sprintf("%s / %s", name[f32], name[i8]), med[f32] / med[i8], ">= 3", med[f32] / med[i8] >= 3)
    if (i8)
        verdict(sprintf("%s recall@%d", name[i8], k), rec[i8], ">= 0.98", rec[i8] >= 0.98)
    if (f32 && store)
        verdict(sprintf("%s / %s", name[f32], name[store]), med[f32] / med[store], ">= 3", med[f32] / med[store] >= 3)
    if (store)
        verdict(sprintf("%s recall@%d", name[store], k), rec[store], ">= 0.98", rec[store] >= 0.98)
    if (i8 && floor8)
        verdict(sprintf("%s / int8 floor", name[i8]), med[i8] / med[floor8], "(info)", 1)
    if (hnsw)
        verdict(sprintf("faiss flat / %s", name[hnsw]), faiss ? med[faiss] / med[hnsw] : 0, "(info)", 1)
}
function verdict(what, value, target, ok) {
    printf "   %-55s %7.4g  %-8s %s\n", what, value, target, target == "(info)" ? "" : (ok ? "ok" : "MISSED")
}' <<<"$results"
