"""Prints the rows the trainer reads (through its own loader) for the feature-parity test.
Usage: /usr/bin/python3 models/torch/dump_rows.py <work_dir> <n>"""
import json
import os
import sys

from data import load_arrays
from reranker import features


def main():
    a, _ = load_arrays(sys.argv[1])
    # The ranker's rows are encoded by models/prepare/rank-lists.ts into <work>/rank/.
    a.update(load_arrays(os.path.join(sys.argv[1], "rank"))[0])
    n = int(sys.argv[2])
    pick = lambda name, rows: a[name][rows].tolist()
    tt_rows = list(range(0, len(a["tt_item"]), max(1, len(a["tt_item"]) // n)))[:n]
    positives = [r for r in range(len(a["dl_label"])) if a["dl_label"][r] == 1]
    dl_rows = positives[:: max(1, len(positives) // n)][:n]
    rr_rows = list(range(0, len(a["rr_target"]), max(1, len(a["rr_target"]) // n)))[:n]
    # Exactly the tensors the reranker trains on: item feature lookups of the session and of the target candidate.
    sc, sb, sp = features(a, a["rr_session"][rr_rows])
    tc, tb, tp = features(a, a["rr_target"][rr_rows])
    json.dump({
        "tt": {"event": pick("tt_event", tt_rows), "segment": pick("tt_segment", tt_rows), "history": pick("tt_history", tt_rows), "item": pick("tt_item", tt_rows)},
        "dl": {"event": pick("dl_event", dl_rows), "history_event": pick("dl_history_event", dl_rows), "sparse": pick("dl_sparse", dl_rows), "dense": pick("dl_dense", dl_rows)},
        "rr": {"event": pick("rr_event", rr_rows), "pseudo": pick("rr_pseudo", rr_rows), "sess": [sc.tolist(), sb.tolist(), sp.tolist()], "target": [tc.tolist(), tb.tolist(), tp.tolist()]},
    }, sys.stdout)


if __name__ == "__main__":
    main()
