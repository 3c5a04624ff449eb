"""The one exception the client raises for a failed request."""

from typing import Optional


class DriftscopeError(Exception):
    """A request driftscope refused, or one that could not be delivered.

    ``status`` is the HTTP status (``None`` when no answer arrived: connection refused, reset or
    timed out after every retry); ``code`` and ``message`` are the service's JSON error
    ``{"error": {"code", "message"}}`` (README, "Errors"), or ``"connection_failed"`` /
    ``"invalid_response"`` with a description when there was no such body.
    """

    def __init__(self, status: Optional[int], code: str, message: str):
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        return f"{where} {self.code}: {self.message}"

    @property
    def retryable(self) -> bool:
        """Whether the request may succeed if sent again (connection errors, 408, 429, 5xx
        except 500)."""
        return self.status is None or self.status in RETRY_STATUSES


#: Statuses that are retried (with the same Idempotency-Key for rows): 408 may have been applied
#: and the service's README asks for a retry with the same key; 429 and 503 are the service's
#: back-pressure answers (with Retry-After); 502 and 504 come from proxies in front of it.
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
