"""A model service (FastAPI) that logs every prediction to driftscope without waiting for it.

It serves a toy employment model in the shape of the bundled demo monitor `employment`
(monitors.yaml at the repository root): the ACS features, `prediction`, `predicted_probability`
and an `id`, with ground truth (`employed`) posted later to /labels and forwarded by id.

    pip install fastapi uvicorn "driftscope-client"      # from clients/python: pip install -e .
    cargo run --release                                   # driftscope on 127.0.0.1:8000
    DRIFTSCOPE_URL=http://127.0.0.1:8000 uvicorn fastapi_service:app --port 8080
    curl -s localhost:8080/predict -H 'content-type: application/json' \
      -d '{"AGEP": 37, "SCHL": "21", "MAR": "1", "SEX": "2", "DIS": "2"}'
    curl -s localhost:8080/labels -H 'content-type: application/json' \
      -d '[{"id": "<id from /predict>", "employed": 1}]'

With authentication on (monitors.container.yaml), set DRIFTSCOPE_TOKEN to the ingest token.
"""

import math
import os
import uuid
from contextlib import asynccontextmanager
from typing import List, Optional, Union

from fastapi import FastAPI
from pydantic import BaseModel

from driftscope_client import Client

MONITOR = os.environ.get("DRIFTSCOPE_MONITOR", "employment")


# Categorical codes as text or numbers: driftscope treats "21", 21 and 21.0 as one category.
Code = Optional[Union[str, int]]


class Person(BaseModel):
    """The demo monitor's features."""

    AGEP: float
    SCHL: Code = None
    MAR: Code = None
    RELP: Code = None
    DIS: Code = None
    ESP: Code = None
    CIT: Code = None
    MIG: Code = None
    MIL: Code = None
    ANC: Code = None
    NATIVITY: Code = None
    DEAR: Code = None
    DEYE: Code = None
    DREM: Code = None
    SEX: Code = None
    RAC1P: Code = None


class Label(BaseModel):
    id: Union[str, int]
    employed: int


def employment_probability(person: dict) -> float:
    """A toy logistic model (hand-set weights, no training): working age, schooling and no
    disability make employment more likely."""
    age = person["AGEP"]
    score = -1.5
    score += 2.0 if 22 <= age <= 62 else (-1.0 if age < 18 else 0.0)
    try:
        score += 0.12 * (float(person.get("SCHL") or 0) - 16)  # 16 = high-school diploma
    except ValueError:
        pass
    score -= 1.2 if str(person.get("DIS")) == "1" else 0.0  # 1 = with a disability
    return 1.0 / (1.0 + math.exp(-score))


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One client per process; its background thread sends batches while requests are served.
    app.state.driftscope = Client(
        os.environ.get("DRIFTSCOPE_URL", "http://127.0.0.1:8000"),
        token=os.environ.get("DRIFTSCOPE_TOKEN"),
        batch_size=500,
        flush_interval=2.0,
    )
    yield
    app.state.driftscope.close(timeout=10)  # sends what is queued before the process exits


app = FastAPI(lifespan=lifespan)


@app.post("/predict")
def predict(person: Person, request_id: Optional[str] = None):
    features = person.model_dump()
    probability = employment_probability(features)
    prediction = int(probability >= 0.5)
    row_id = request_id or uuid.uuid4().hex
    # Queued, not sent: this returns at once even when driftscope is slow or down.
    app.state.driftscope.log_rows(
        MONITOR,
        {"id": row_id, **features, "prediction": prediction, "predicted_probability": probability},
    )
    return {"id": row_id, "prediction": prediction, "probability": probability}


@app.post("/labels")
def labels(items: List[Label]):
    """Ground truth that arrived later, joined in driftscope to the prediction with that id."""
    queued = app.state.driftscope.log_labels(
        MONITOR, [item.id for item in items], [item.employed for item in items]
    )
    return {"queued": queued}


@app.get("/driftscope-stats")
def driftscope_stats():
    stats = app.state.driftscope.stats()
    stats["last_error"] = str(stats["last_error"]) if stats["last_error"] else None
    return stats
