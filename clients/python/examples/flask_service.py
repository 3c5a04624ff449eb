"""A model service (Flask) that logs every prediction to driftscope without waiting for it.

The same toy employment model as fastapi_service.py, in the shape of the bundled demo monitor
`employment` (monitors.yaml at the repository root): the ACS features, `prediction`,
`predicted_probability` and an `id`; ground truth (`employed`) is posted later to /labels and
forwarded by id.

    pip install flask "driftscope-client"                 # from clients/python: pip install -e .
    cargo run --release                                   # driftscope on 127.0.0.1:8000
    DRIFTSCOPE_URL=http://127.0.0.1:8000 flask --app flask_service run --port 8080
    curl -s localhost:8080/predict -H 'content-type: application/json' \
      -d '{"AGEP": 37, "SCHL": "21", "MAR": "1", "SEX": "2", "DIS": "2"}'
    curl -s localhost:8080/labels -H 'content-type: application/json' \
      -d '[{"id": "<id from /predict>", "employed": 1}]'

With authentication on (monitors.container.yaml), set DRIFTSCOPE_TOKEN to the ingest token.
Under a pre-forking server (gunicorn) each worker process gets its own sender thread.
"""

import atexit
import math
import os
import uuid

from flask import Flask, jsonify, request

from driftscope_client import Client

MONITOR = os.environ.get("DRIFTSCOPE_MONITOR", "employment")
FEATURES = ["AGEP", "SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC",
            "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]

app = Flask(__name__)
driftscope = Client(
    os.environ.get("DRIFTSCOPE_URL", "http://127.0.0.1:8000"),
    token=os.environ.get("DRIFTSCOPE_TOKEN"),
    batch_size=500,
    flush_interval=2.0,
)
atexit.register(driftscope.close, 10)  # send what is queued before the process exits


def employment_probability(person: dict) -> float:
    """A toy logistic model (hand-set weights, no training): working age, schooling and no
    disability make employment more likely."""
    age = float(person["AGEP"])
    score = -1.5
    score += 2.0 if 22 <= age <= 62 else (-1.0 if age < 18 else 0.0)
    try:
        score += 0.12 * (float(person.get("SCHL") or 0) - 16)  # 16 = high-school diploma
    except ValueError:
        pass
    score -= 1.2 if str(person.get("DIS")) == "1" else 0.0  # 1 = with a disability
    return 1.0 / (1.0 + math.exp(-score))


@app.post("/predict")
def predict():
    body = request.get_json(force=True)
    if not isinstance(body, dict) or "AGEP" not in body:
        return jsonify(error="send a JSON object with at least AGEP"), 400
    features = {name: body.get(name) for name in FEATURES}
    probability = employment_probability(features)
    prediction = int(probability >= 0.5)
    row_id = request.args.get("request_id") or uuid.uuid4().hex
    # Queued, not sent: this returns at once even when driftscope is slow or down.
    driftscope.log_rows(
        MONITOR,
        {"id": row_id, **features, "prediction": prediction, "predicted_probability": probability},
    )
    return jsonify(id=row_id, prediction=prediction, probability=probability)


@app.post("/labels")
def labels():
    """Ground truth that arrived later, joined in driftscope to the prediction with that id."""
    items = request.get_json(force=True)
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        return jsonify(error='send [{"id": ..., "employed": 0 or 1}, ...]'), 400
    queued = driftscope.log_labels(
        MONITOR, [i["id"] for i in items], [i.get("employed") for i in items]
    )
    return jsonify(queued=queued)


@app.get("/driftscope-stats")
def driftscope_stats():
    stats = driftscope.stats()
    stats["last_error"] = str(stats["last_error"]) if stats["last_error"] else None
    return jsonify(stats)
