#!/usr/bin/env bash
# Benchmark of one retriever shard's search on 200,000 chunks: the part of
# /api/context that grows with the repository (the gateway's own work is a
# few hundred microseconds; tests/bench/gateway.sh measures it).
#
# Builds the shard once under build/bench/search-<chunks> (a later run reuses
# it; the build takes several minutes), then times completion-shaped
# queries with every signal, each signal alone, and with the members of a
# module or of a class asked for (tests/bench/retriever_search_bench.c says
# what the data and the queries are).  The peer is the same store asked for
# the dense signal alone (a plain vector search); the target is p95 <= 25 ms
# for every completion-shaped query the gateway sends (not the exact float32
# scan a search op may ask for, which it never does).
#
# Knobs (environment): SEARCH_CHUNKS (200000) SEARCH_QUERIES (300)
# SEARCH_DIM (384); BENCH_ONLY=name runs the queries whose name holds it,
# BENCH_NO_SLOT=1 leaves the cursor's slot out of them (what it costs).  LCA_TESTS points at the built tests (make bench sets it).
# LCA_SCAN_ISA=avx2 (or scalar, avx512, avx512vnni) runs the vector scan with
# those kernels instead of the widest this CPU has: the target is stated for
# a machine with AVX2 only, and an AVX-512 machine measures it that way.
set -euo pipefail
cd "$(dirname "$0")/../.."

chunks=${SEARCH_CHUNKS:-200000}
queries=${SEARCH_QUERIES:-300}
dim=${SEARCH_DIM:-384}
bench=${LCA_TESTS:-build/tests}/bench/retriever_search_bench
if [ -z "${LCA_TESTS:-}" ]; then
    make -s build/tests/bench/retriever_search_bench
fi
[ -x "$bench" ] || { echo "context.sh: $bench is missing" >&2; exit 1; }
dir=build/bench/search-$chunks-$dim
mkdir -p "$dir"

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
echo "== retriever search: $chunks chunks x $dim dims, $queries queries, one shard," \
     "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(loadavg)," \
     "LCA_SCAN_ISA ${LCA_SCAN_ISA:-unset}"
results=$("$bench" "$dir" "$chunks" "$queries" "$dim")
echo "   load average after the run: $(loadavg) (other work on the machine inflates wall times)"
awk -F'|' '
$1 != "RESULT" { next }
{
    n++; name[n] = $2; p50[n] = $3; p95[n] = $4; p99[n] = $5; cands[n] = $6
    cpu95[n] = $8; proc95[n] = $10
    if ($2 == "dense_i8_only") peer = n
}
END {
    printf "\n%-22s %8s %8s %8s %11s %13s %10s\n", "query", "p50 ms", "p95 ms", "p99 ms", "candidates", "cpu p95 ms", "vs dense"
    for (i = 1; i <= n; i++)
        printf "%-22s %8.2f %8.2f %8.2f %11d %13.2f %9.1fx\n", name[i], p50[i], p95[i], p99[i], cands[i], proc95[i], peer ? p95[i] / p95[peer] : 0
    print "   (cpu: the process CPU time of a query, what the wall time is on an idle machine;"
    print "    vs dense: p95 against the dense signal alone on the same store)"
    worst = 0
    for (i = 1; i <= n; i++)
        if ((name[i] ~ /^all_signals/ || name[i] ~ /^members/) && name[i] !~ /_f32$/ && p95[i] > worst) { worst = p95[i]; which = name[i] }
    printf "\nslowest completion-shaped query p95 %.2f ms (%s): target <= 25 ms %s\n", worst, which, worst <= 25 ? "met" : "NOT met"
    print "   (all_signals_f32, an exact float32 scan, is what a search op may ask for; the gateway never does)"
}' <<<"$results"
