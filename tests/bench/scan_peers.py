#!/usr/bin/python3
"""The scan benchmark's peers: FAISS IndexFlatIP (exact) and hnswlib (graph).

Run by tests/bench/scan.sh with Debian's python3 (python3-faiss,
python3-hnswlib, python3-numpy) on the data set retriever_scan_bench wrote:

    scan_peers.py FILE THREADS K

FILE holds a 32-byte header (b"LCASCAN1", rows, dim, queries as little-endian
uint64), the rows and the queries as float32; FILE.truth holds the exact top
K of every query (uint32 row numbers) from our float32 scan.  Queries are
timed one at a time, as a completion request would issue them.  Prints

    RESULT|name|median_ms|p99_ms|min_ms|bytes_read|recall@K|build_s

and SKIP|name|reason when a library is missing.  SCAN_HNSW=0 in the
environment leaves hnswlib out (its build takes minutes at 1M rows).
"""
import math
import os
import sys
import time

import numpy as np


def load(path, k):
    header = np.fromfile(path, dtype="<u8", count=4)
    if header[0].tobytes() != b"LCASCAN1":
        sys.exit(f"{path}: not a data set")
    rows, dim, nq = (int(x) for x in header[1:])
    data = np.fromfile(path, dtype="<f4", count=rows * dim, offset=32).reshape(rows, dim)
    queries = np.fromfile(path, dtype="<f4", count=nq * dim, offset=32 + rows * dim * 4)
    truth = np.fromfile(path + ".truth", dtype="<u4").reshape(nq, k)
    return data, queries.reshape(nq, dim), truth


def report(name, times_ms, nbytes, found, nq, k, build_s=None):
    times_ms = sorted(times_ms)
    n = len(times_ms)
    median = times_ms[n // 2] if n % 2 else (times_ms[n // 2 - 1] + times_ms[n // 2]) / 2
    p99 = times_ms[max(math.ceil(0.99 * n) - 1, 0)]
    build = "-" if build_s is None else f"{build_s:.1f}"
    nbytes = "-" if nbytes is None else str(nbytes)
    print(f"RESULT|{name}|{median:.3f}|{p99:.3f}|{times_ms[0]:.3f}|{nbytes}|"
          f"{found / (nq * k):.4f}|{build}", flush=True)


def timed_queries(search, queries, truth, k):
    """Times search(one_query) -> ids for every query; returns (ms list, hits found)."""
    search(queries[0:1])  # warm up
    times, found = [], 0
    for q in range(len(queries)):
        t0 = time.perf_counter()
        ids = search(queries[q:q + 1])
        times.append((time.perf_counter() - t0) * 1e3)
        found += len(set(int(i) for i in ids[0][:k]) & set(int(i) for i in truth[q]))
    return times, found


def bench_faiss(data, queries, truth, threads, k):
    try:
        import faiss
    except ImportError as e:
        print(f"SKIP|faiss IndexFlatIP|{e}", flush=True)
        return
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    times, found = timed_queries(lambda q: index.search(q, k)[1], queries, truth, k)
    report("faiss IndexFlatIP f32", times, data.nbytes, found, len(queries), k)


def bench_hnswlib(data, queries, truth, threads, k, m=16, ef_construction=200):
    try:
        import hnswlib
    except ImportError as e:
        print(f"SKIP|hnswlib|{e}", flush=True)
        return
    index = hnswlib.Index(space="ip", dim=data.shape[1])
    index.init_index(max_elements=data.shape[0], ef_construction=ef_construction, M=m,
                     random_seed=1)
    index.set_num_threads(threads)
    t0 = time.perf_counter()
    index.add_items(data, np.arange(data.shape[0]))
    build_s = time.perf_counter() - t0
    for ef in (64, 256):
        index.set_ef(ef)
        times, found = timed_queries(lambda q: index.knn_query(q, k=k)[0], queries, truth, k)
        report(f"hnswlib M{m} efC{ef_construction} ef{ef}", times, None, found, len(queries), k,
               build_s)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: scan_peers.py FILE THREADS K")
    path, threads, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data, queries, truth = load(path, k)
    bench_faiss(data, queries, truth, threads, k)
    if os.environ.get("SCAN_HNSW", "1") != "0":
        bench_hnswlib(data, queries, truth, threads, k)
    else:
        print("SKIP|hnswlib|SCAN_HNSW=0", flush=True)


if __name__ == "__main__":
    main()
