#!/usr/bin/env python3
"""Writes the HTTP ingest benchmark's inputs into DIR (stdlib only, seeded).

    python3 benches/http/make_bodies.py DIR [--rows 5000]

reference.csv (20 000 rows) and monitors.yaml: one monitor of 20 features, f00..f14 numeric
and c15..c19 categorical (12 categories), a 100 000-row count window, memory-only state.
One batch of ROWS rows in every ingest format the service accepts: rows.json (row objects),
rows.ndjson, columns.json ({"columns": {...}}), and rows.arrow (an Arrow IPC stream) when
pyarrow is importable, plus gzip and zstd copies of each when the `gzip` / `zstd` commands exist. Also prints how fast Python's C json.loads decodes rows.json
(rows/s, best of 5): the baseline the README compares ingest with.
"""

import argparse
import json
import pathlib
import random
import shutil
import subprocess
import time

NUMERIC, CATEGORICAL, CATEGORIES = 15, 5, 12


def row(rng: random.Random) -> dict:
    values = {f"f{i:02}": round(rng.gauss(0.0, 1.0), 6) for i in range(NUMERIC)}
    for i in range(NUMERIC, NUMERIC + CATEGORICAL):
        values[f"c{i:02}"] = f"cat{rng.randrange(CATEGORIES):02}"
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    out = args.dir
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261129)
    reference = [row(rng) for _ in range(20_000)]
    names = list(reference[0])
    with open(out / "reference.csv", "w") as f:
        f.write(",".join(names) + "\n")
        for r in reference:
            f.write(",".join(str(r[n]) for n in names) + "\n")
    numerical = "\n".join(f"        - f{i:02}" for i in range(NUMERIC))
    categorical = "\n".join(f"        - c{i:02}" for i in range(NUMERIC, NUMERIC + CATEGORICAL))
    (out / "monitors.yaml").write_text(
        f"""server:
  listen: 127.0.0.1:0
  max_concurrent_ingest: 8
monitors:
  - name: bench
    reference: reference.csv
    window: {{rows: 100000}}
    features:
      numerical:
{numerical}
      categorical:
{categorical}
"""
    )
    batch = [row(rng) for _ in range(args.rows)]
    bodies = {
        "rows.json": json.dumps({"rows": batch}, separators=(",", ":")),
        "rows.ndjson": "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in batch),
        "columns.json": json.dumps(
            {"columns": {n: [r[n] for r in batch] for n in names}}, separators=(",", ":")
        ),
    }
    try:
        import pyarrow as pa
    except ImportError:
        pa = None
    if pa is not None:
        table = pa.table({n: [r[n] for r in batch] for n in names})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        bodies["rows.arrow"] = sink.getvalue().to_pybytes()
    for name, body in bodies.items():
        path = out / name
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
        for tool, suffix in (("gzip", "gz"), ("zstd", "zst")):
            if shutil.which(tool):
                with open(f"{path}.{suffix}", "wb") as compressed:
                    subprocess.run([tool, "-c", str(path)], stdout=compressed, check=True)
    text = bodies["rows.json"]
    best = min(_timed(lambda: json.loads(text)) for _ in range(5))
    print(json.dumps({"python_json_loads_rows_per_second": args.rows / best}))


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
