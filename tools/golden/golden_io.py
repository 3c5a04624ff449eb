"""Helpers shared by the golden-value generators: a check that inputs survive serde_json's float
parsing exactly, JSON with one case per line (readable diffs without one line per number) and a
--check mode that fails when the committed file is stale."""

import argparse
import json
import math
import sys


def check_exact_json_float(value):
    """Assert serde_json's fast float path parses repr(value) exactly."""
    assert math.isfinite(value), value
    text = repr(float(value))
    mantissa, _, exponent = text.lower().partition("e")
    exponent = int(exponent) if exponent else 0
    whole, _, fraction = mantissa.lstrip("-").partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    exponent -= len(fraction)
    assert int(digits) < 2**53 and abs(exponent) <= 22, text


def to_json(doc):
    """`doc` as JSON, each element of a top-level list on its own line; NaN/inf are refused."""
    lines = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i + 1 < len(items) else ""
        if isinstance(value, list):
            lines.append(f"  {json.dumps(key)}: [")
            lines += [f"    {json.dumps(case, allow_nan=False)}," for case in value[:-1]]
            lines.append(f"    {json.dumps(value[-1], allow_nan=False)}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_or_check(out, build, description):
    """Writes `build()` to `out`, or with --check exits 1 if `out` would change."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if the file would change")
    args = parser.parse_args()
    text = to_json(build())
    if args.check:
        if out.read_text() != text:
            print(f"{out} is out of date", file=sys.stderr)
            sys.exit(1)
        print(f"{out} is up to date")
        return
    out.write_text(text)
    print(f"wrote {out} ({len(text) / 1e3:.0f} KB)")
