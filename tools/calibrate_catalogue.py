#!/usr/bin/env python3
"""False-alarm rate and power of the catalogue's p-value tests on the bundled demo reference,
with `driftscope calibrate` (README, "The drift-test catalogue").

    python3 tools/calibrate_catalogue.py DRIFTSCOPE_BINARY OUT_DIR

Writes one config per numerical test into OUT_DIR: the shipped monitors.yaml with AGEP (the
demo's numerical feature) on that test, the binary categorical features on fisher_exact and the
other categorical ones on g_test; runs `calibrate --format json` (200 windows of 2 000 rows,
seed 1) on each and prints a Markdown table of each test's false-alarm rate and detection rates.
"""

import json
import pathlib
import re
import subprocess
import sys

NUMERIC_TESTS = ["anderson", "cramer_von_mises", "mannw", "t_test", "es"]
BINARY = {"DIS", "NATIVITY", "DEAR", "DEYE", "SEX"}
ROOT = pathlib.Path(__file__).resolve().parents[1]


def config(numeric_test):
    text = (ROOT / "monitors.yaml").read_text()
    text = text.replace("        - AGEP\n", f"        - {{name: AGEP, test: {numeric_test}}}\n", 1)

    def categorical(match):
        name = match.group(1)
        test = "fisher_exact" if name in BINARY else "g_test"
        return f"        - {{name: {name}, test: {test}}}\n"

    text = re.sub(r"^        - ([A-Z0-9]+)\n", categorical, text, flags=re.M)
    text = text.replace("{name: RAC1P, test: chisquare, threshold: 0.01}", "{name: RAC1P, test: g_test}")
    # Paths in the copy stay relative to the repository.
    return text.replace("reference: reference_data/", f"reference: {ROOT}/reference_data/")


def main():
    binary, out = sys.argv[1], pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for test in NUMERIC_TESTS:
        path = out / f"catalogue-{test}.yaml"
        path.write_text(config(test))
        result = subprocess.run(
            [binary, "calibrate", "--config", str(path), "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        )
        report = json.loads(result.stdout)
        (out / f"catalogue-{test}.json").write_text(result.stdout)
        rows.append((test, report))
    print(table(rows))


def pct(count, windows):
    return f"{100 * count / windows:.1f} %"


def table(rows):
    """One line per test: its false-alarm rate and detection rate per shift, summed over the
    features it tests (AGEP for the numerical tests; categorical ones over every run's
    identical windows, so from the first run), and each run's any-feature false-alarm rate."""
    lines = [
        "| test | features | false alarms (clean windows) | detection by shift |",
        "|---|---|---|---|",
    ]
    by_test = {}
    for run, (numeric_test, report) in enumerate(rows):
        for feature in report["features"]:
            test = feature["test"]
            if test != numeric_test and run > 0:
                continue  # the categorical features see the same windows in every run
            entry = by_test.setdefault(test, {"features": [], "false": [0, 0], "detection": {}})
            entry["features"].append(feature["name"])
            entry["false"][0] += feature["false_alarm"]["count"]
            entry["false"][1] += feature["false_alarm"]["windows"]
            for shift, rate in feature["detection"].items():
                total = entry["detection"].setdefault(shift, [0, 0])
                total[0] += rate["count"]
                total[1] += rate["windows"]
    for test, entry in by_test.items():
        detection = ", ".join(f"{shift} {pct(*counts)}" for shift, counts in sorted(entry["detection"].items()))
        features = ", ".join(entry["features"])
        lines.append(f"| `{test}` | {features} | {pct(*entry['false'])} | {detection} |")
    lines.append("")
    lines.append("Any feature, clean windows (AGEP's test): " + ", ".join(
        f"`{test}` {pct(r['any_feature_false_alarm']['count'], r['any_feature_false_alarm']['windows'])}"
        for test, r in rows
    ))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
