"""Every request the client makes is an operation of the service's OpenAPI document
(docs/openapi.json): the path template and method exist, and the body has the documented
top-level key (JSON) or media type (Arrow)."""

import json
import re
from pathlib import Path

import pytest

from driftscope_client import Client
from driftscope_client._transport import RawBody

REPO = Path(__file__).resolve().parents[3]
DOCUMENT = json.loads((REPO / "docs" / "openapi.json").read_text())


def operation(method, path):
    """The document's operation for a concrete request path, or None."""
    for template, item in DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None


def resolve(value):
    while "$ref" in value:
        node = DOCUMENT
        for part in value["$ref"].lstrip("#/").split("/"):
            node = node[part]
        value = node
    return value


@pytest.mark.parametrize("body_format", ["rows", "columns", "arrow"])
def test_every_request_the_client_makes_is_documented(monkeypatch, body_format):
    if body_format == "arrow":
        pytest.importorskip("pyarrow")
    calls = []
    answers = {
        "rows": {"accepted": 1, "dropped": {"late": 0, "window_full": 0, "future": 0}},
        "labels": {"received": 1, "matched": 1, "unmatched": 0, "outcomes": ["matched"]},
    }

    with Client("http://127.0.0.1:9", flush_interval=0.01, body_format=body_format) as client:

        def request(method, path, payload=None, **kwargs):
            calls.append((method, path, payload))
            if path.endswith("/rows"):
                return answers["rows"]
            if path.endswith("/labels"):
                return answers["labels"]
            return {"monitors": []}

        monkeypatch.setattr(client._transport, "request", request)
        client.send_rows("m", [{"id": "a", "x": 1.0}])
        client.send_labels("m", ["a"], [1])
        client.results("m")
        client.monitors()
        client.log_rows("m", [{"id": "b", "x": 2.0}])
        client.log_labels("m", ["b"], [0])
        assert client.flush(timeout=10)

    kinds = {(method, path.rsplit("/", 1)[-1]) for method, path, _ in calls}
    assert {("POST", "rows"), ("POST", "labels"), ("GET", "m"), ("GET", "monitors")} <= kinds
    rows_bodies = [payload for _, path, payload in calls if path.endswith("/rows")]
    assert len(rows_bodies) == 2
    assert all(isinstance(p, RawBody) == (body_format == "arrow") for p in rows_bodies)
    for method, path, payload in calls:
        found = operation(method, path)
        assert found, f"{method} {path} is not in docs/openapi.json"
        template, op = found
        if isinstance(payload, RawBody):
            assert body_format == "arrow" and payload.content_type != "application/json"
            assert payload.content_type in op["requestBody"]["content"], (template, payload)
        elif payload is not None:
            schema = resolve(op["requestBody"]["content"]["application/json"]["schema"])
            # The body must be one of the documented object forms (rows: row objects or columns).
            object_forms = [s for s in schema["oneOf"] if s.get("type") == "object"]
            assert any(set(payload) == set(f["required"]) for f in object_forms), (
                template,
                payload,
            )
        else:
            assert "requestBody" not in op, template
