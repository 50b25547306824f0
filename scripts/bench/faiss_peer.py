"""FAISS peer for the ANN benchmark (Debian python3-faiss): same vectors, same queries, one thread.
Writes exact top-k (IndexFlatIP) as ground truth and prints JSON lines for IndexFlatIP, IndexScalarQuantizer (8-bit
codes, scanned exactly: the peer of the project's int8 scan) with and without float32 re-scoring of 2k (IndexRefineFlat),
and IndexHNSWFlat.
Usage: /usr/bin/python3 scripts/bench/faiss_peer.py <dir> <n> <dim> <queries> <k> <M> <efConstruction> <efSearch>"""
import json
import sys
import time

import faiss
import numpy as np


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def search_one_by_one(index, queries, k):
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    return np.array(found), times


BUILD = f"faiss {faiss.__version__}, compile options: {faiss.get_compile_options().strip()}"


def main():
    folder, n, dim, nq, k, m, efc, efs = sys.argv[1], *map(int, sys.argv[2:9])
    faiss.omp_set_num_threads(1)
    base = np.fromfile(f"{folder}/vectors.f32", dtype=np.float32).reshape(n, dim)
    queries = np.fromfile(f"{folder}/queries.f32", dtype=np.float32).reshape(nq, dim)

    flat = faiss.IndexFlatIP(dim)
    t = time.perf_counter()
    flat.add(base)
    build = time.perf_counter() - t
    truth, times = search_one_by_one(flat, queries, k)
    truth.astype(np.int32).tofile(f"{folder}/truth.i32")
    print(json.dumps({"library": "faiss IndexFlatIP (exact)", "build_s": round(build, 2), "qps": round(1000 / np.mean(times), 1),
                      "p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3), "recall": 1.0, "faiss_build": BUILD}), flush=True)

    def report(name, index, build):
        found, times = search_one_by_one(index, queries, k)
        recall = np.mean([len(set(f) & set(g)) / k for f, g in zip(found, truth)])
        print(json.dumps({"library": name, "build_s": round(build, 2), "qps": round(1000 / np.mean(times), 1),
                          "p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3), "recall": round(float(recall), 4), "faiss_build": BUILD}), flush=True)

    sq = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    t = time.perf_counter()
    sq.train(base)
    sq.add(base)
    build = time.perf_counter() - t
    report("faiss IndexScalarQuantizer QT_8bit (exact scan of int8 codes)", sq, build)
    refined = faiss.IndexRefineFlat(sq, faiss.swig_ptr(base))
    refined.k_factor = 2
    report("faiss IndexRefineFlat(QT_8bit), k_factor 2 (int8 scan + float32 re-scoring)", refined, build)

    hnsw = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = efc
    t = time.perf_counter()
    hnsw.add(base)
    build = time.perf_counter() - t
    hnsw.hnsw.efSearch = efs
    found, times = search_one_by_one(hnsw, queries, k)
    recall = np.mean([len(set(f) & set(g)) / k for f, g in zip(found, truth)])
    print(json.dumps({"library": f"faiss IndexHNSWFlat M={m} efC={efc} ef={efs}", "build_s": round(build, 2), "qps": round(1000 / np.mean(times), 1),
                      "p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3), "recall": round(float(recall), 4), "faiss_build": BUILD}), flush=True)


if __name__ == "__main__":
    main()
