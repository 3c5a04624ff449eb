"""driftscope-client: log a model's predictions and ground truth to driftscope without slowing
the model's request path, and read drift results.

    from driftscope_client import Client

    with Client("http://127.0.0.1:8000", token=None) as client:
        client.log_rows("employment", [{"id": "r1", "AGEP": 37, "SCHL": "21", "prediction": 1}])
        client.log_labels("employment", ["r1"], [1])
"""

__version__ = "0.1.0"

from ._client import Client  # noqa: E402
from ._errors import RETRY_STATUSES, DriftscopeError  # noqa: E402

__all__ = ["Client", "DriftscopeError", "RETRY_STATUSES", "__version__"]
