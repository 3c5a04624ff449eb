"""Builds the bundled demo data from ../shared/data/employment_ma (run once by a maintainer).

Reads the NannyML-packaged ACS employment files (see reference_data/PROVENANCE.md), casts the
pandas "category" columns to plain strings (so any Parquet reader sees ordinary Utf8 columns) and
writes:
  reference_data/employment_ma_2015.parquet  all 68,785 reference rows (survey year 2015)
  demo/production_2016_2018.parquet          a seeded 30,000-row sample of the 2016-2018 rows,
                                             in `id` order, without ground truth
  demo/labels_2016_2018.parquet              `id`, `employed` for those rows (the delayed labels)

Usage: python3 tools/prepare_demo_data.py [SOURCE_DIR]
"""

import sys
from pathlib import Path

import pandas as pd

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/employment_ma")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ROWS = 30_000


def plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out


reference = plain(pd.read_parquet(SOURCE / "employment_MA_reference.pq"))
reference.to_parquet(ROOT / "reference_data/employment_ma_2015.parquet", index=False)

analysis = plain(pd.read_parquet(SOURCE / "employment_MA_analysis.pq"))
labels = pd.read_parquet(SOURCE / "employment_MA_analysis_target.pq")
sample = analysis.sample(n=SAMPLE_ROWS, random_state=2015).sort_values("id")
sample.to_parquet(ROOT / "demo/production_2016_2018.parquet", index=False)
labels[labels["id"].isin(sample["id"])].sort_values("id").to_parquet(
    ROOT / "demo/labels_2016_2018.parquet", index=False
)
print(f"reference {reference.shape}, production sample {sample.shape}")
