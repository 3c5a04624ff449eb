"""schemathesis hooks: a serializer for the NDJSON request bodies of POST .../rows.

schemathesis has none built in; a generated body (a list of row objects in the positive
mode, anything in the negative mode) is written one JSON value per line.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row) for row in rows).encode()
