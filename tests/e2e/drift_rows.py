#!/usr/bin/env python3
"""Posts synthetic rows to driftscope for the e2e test (Python standard library only).

    drift_rows.py drifted --url http://127.0.0.1:PORT --monitor M --kind dataset|feature \
        --rows 2000 --id-start 1000000 [--seed 1]
    drift_rows.py rejected --url http://127.0.0.1:PORT --monitor M --count 3
    drift_rows.py dropped --url http://127.0.0.1:PORT --monitor M --rows 100 --id-start 70000000

`drifted --kind dataset`: rows in the demo's columns (reference_data/employment_ma_2015.parquet)
that drift on most features: AGEP shifted by +25 years, SCHL and MAR skewed to codes that are
rare in the reference, the other categorical features pinned to one code each, predictions
mostly 1, latencies (`latency_ms`) around 80 ms. Data-quality problems on top: 10% of SCHL
values are a category the reference lacks ("99") and 20% of DEAR values are missing.
`drifted --kind feature`: only AGEP (shifted) and SEX (drawn with the reference's 48/52 split),
so a monitor over just those two columns sees feature drift on AGEP without dataset drift.
`rejected`: requests driftscope rejects as a whole (malformed JSON for MONITOR, rows for a
monitor that does not exist), to exercise the rejection metrics.
`dropped`: for an event-time monitor (`timestamp: ts`, `id: id`, a small label_join.max_pending):
ROWS predictions stamped now, then ROWS // 2 rows stamped an hour ago, which are older than
every open window (dropped as `late`); with max_pending below ROWS most predictions expire
unlabelled. Accepted (200) either way: the losses show only in the metrics.
Rows go out in batches of 500 like `driftscope replay`; prints rows sent and windows evaluated.
"""

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request

# One code per remaining categorical feature; each is rare, or at least far from the
# reference's mix, so a window of only that code drifts.
PINNED = {"RELP": "17", "DIS": "1", "ESP": "1", "CIT": "4", "MIG": "3", "MIL": "2", "ANC": "4",
          "NATIVITY": "2", "DEAR": "1", "DEYE": "1", "DREM": "1", "RAC1P": "6"}


def dataset_row(rng: random.Random, row_id: int) -> dict:
    predicted = 1 if rng.random() < 0.9 else 0
    row = {
        "id": row_id,
        "year": 2019,
        "AGEP": rng.randint(18, 69) + 25,
        "SCHL": rng.choices(["24", "1", "99"], weights=[60, 30, 10])[0],
        "MAR": rng.choices(["4", "1"], weights=[80, 20])[0],
        "SEX": "1" if rng.random() < 0.481 else "2",
        "prediction": predicted,
        "predicted_probability": round(rng.uniform(0.8, 1.0) if predicted else rng.uniform(0.0, 0.2), 4),
        **PINNED,
    }
    if rng.random() < 0.2:
        row["DEAR"] = None  # missing
    # Latency in ms from its own generator (the drift draws above stay as they were): around
    # 80 ms, far below the 10 s slow threshold, so the latency panels have data and
    # DriftscopeSlowPredictions stays silent.
    row["latency_ms"] = round(random.Random(row_id).lognormvariate(4.4, 0.5), 1)
    return row


def feature_row(rng: random.Random, row_id: int) -> dict:
    return {"id": row_id, "AGEP": rng.randint(18, 69) + 25, "SEX": "1" if rng.random() < 0.481 else "2"}


def post(url: str, body: bytes, content_type: str = "application/json"):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["drifted", "rejected", "dropped"])
    parser.add_argument("--url", required=True, help="driftscope base URL")
    parser.add_argument("--monitor", required=True)
    parser.add_argument("--kind", choices=["dataset", "feature"], default="dataset")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--id-start", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()
    base = args.url.rstrip("/")

    if args.mode == "rejected":
        for _ in range(args.count):
            status, _ = post(f"{base}/v1/monitors/{args.monitor}/rows", b'{"rows": [')
            if status != 400:
                print(f"malformed JSON: expected 400, got {status}")
                return 1
            status, _ = post(f"{base}/v1/monitors/e2e-no-such-monitor/rows", b'{"rows": [{"AGEP": 1}]}')
            if status != 404:
                print(f"unknown monitor: expected 404, got {status}")
                return 1
        print(f"sent {2 * args.count} rejected requests")
        return 0

    if args.mode == "dropped":
        now = time.time()
        rng = random.Random(args.seed)
        batches = [
            [{"id": args.id_start + i, "ts": now, "AGEP": rng.randint(18, 69), "prediction": 1}
             for i in range(args.rows)],
            [{"id": args.id_start + args.rows + i, "ts": now - 3600, "AGEP": rng.randint(18, 69),
              "prediction": 1} for i in range(args.rows // 2)],
        ]
        for batch in batches:
            status, reply = post(f"{base}/v1/monitors/{args.monitor}/rows", json.dumps({"rows": batch}).encode())
            if status != 200:
                print(f"POST rows to {args.monitor}: HTTP {status}: {reply}")
                return 1
        print(f"sent {args.rows} current and {args.rows // 2} hour-old rows to {args.monitor}")
        return 0

    rng = random.Random(args.seed)
    make = dataset_row if args.kind == "dataset" else feature_row
    rows = [make(rng, args.id_start + i) for i in range(args.rows)]
    windows = 0
    for start in range(0, len(rows), 500):
        body = json.dumps({"rows": rows[start:start + 500]}).encode()
        status, reply = post(f"{base}/v1/monitors/{args.monitor}/rows", body)
        if status != 200:
            print(f"POST rows to {args.monitor}: HTTP {status}: {reply}")
            return 1
        windows += reply.get("windows_evaluated", 0)
    print(f"sent {len(rows)} {args.kind}-drift rows to {args.monitor}; {windows} windows evaluated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
