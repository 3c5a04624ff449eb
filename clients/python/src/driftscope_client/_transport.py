"""HTTP over the standard library (http.client), with retries, backoff and Retry-After.

Each thread keeps one persistent connection; driftscope closes the connection after every error
answer, and after `server.header_read_timeout` of idleness, so a failure on a reused connection
before any answer is retried once at once on a fresh one.
"""

import email.utils
import gzip
import http.client
import json
import logging
import random
import socket
import ssl
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import quote, urlsplit

from ._errors import RETRY_STATUSES, DriftscopeError

log = logging.getLogger("driftscope_client")

#: Exceptions that mean "no (complete) answer arrived".
CONNECTION_ERRORS = (OSError, http.client.HTTPException, socket.timeout)


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except ValueError as e:
            raise DriftscopeError(
                self.status, "invalid_response", f"answer is not JSON ({e}): {self.body[:200]!r}"
            ) from None


class RawBody:
    """A request body sent as given (not JSON-encoded), with its Content-Type."""

    __slots__ = ("data", "content_type")

    def __init__(self, data: bytes, content_type: str):
        self.data = data
        self.content_type = content_type


def error_from(response: Response) -> DriftscopeError:
    """The service's `{"error": {"code", "message"}}`, or a description of whatever came back."""
    try:
        err = json.loads(response.body.decode("utf-8"))["error"]
        return DriftscopeError(response.status, str(err["code"]), str(err["message"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        text = response.body[:200].decode("utf-8", "replace")
        return DriftscopeError(response.status, f"http_{response.status}", text or "(empty body)")


def retry_after_seconds(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP-date; None when absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Transport:
    def __init__(
        self,
        url: str,
        token: Optional[str],
        timeout: float,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
        user_agent: str,
        compress: Optional[str] = None,
    ):
        if compress not in (None, "gzip"):
            raise ValueError(f"compress must be None or 'gzip', got {compress!r}")
        self.compress = compress
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http://host[:port][/prefix] or https://..., got {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token.strip()}"
        self._local = threading.local()
        self._ssl = ssl.create_default_context() if self.scheme == "https" else None

    def path(self, *segments: str) -> str:
        return self.prefix + "/" + "/".join(quote(s, safe="") for s in segments)

    # -- one attempt ------------------------------------------------------------------------

    def _connection(self) -> Tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self._local.conn = conn
        return conn, False

    def close_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _attempt(self, method: str, path: str, body: Optional[bytes], headers: Dict[str, str]) -> Response:
        for fresh_retry in (False, True):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
            except CONNECTION_ERRORS as e:
                self.close_connection()
                # A kept-alive connection the server already closed fails before any answer:
                # one immediate retry on a fresh connection, not counted as a retry.
                stale = isinstance(
                    e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                )
                if reused and stale and not fresh_retry:
                    continue
                raise
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
            if raw.will_close or response.headers.get("connection", "").lower() == "close":
                self.close_connection()
            return response
        raise AssertionError("unreachable")

    # -- with retries -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        idempotency_key: Optional[str] = None,
        sleep: Optional[Callable[[float], bool]] = None,
        on_retry: Optional[Callable[[DriftscopeError, float], None]] = None,
    ) -> Any:
        """Sends one request, retrying connection errors and RETRY_STATUSES up to max_retries
        times; returns the decoded JSON answer or raises DriftscopeError. ``payload`` is sent as
        JSON, or as it is with its own Content-Type when it is a :class:`RawBody`.

        ``sleep(seconds)`` waits between attempts and returns False to give up (the background
        sender's stop); ``on_retry(error, delay)`` is told about each retry."""
        headers = dict(self.headers)
        body = None
        if isinstance(payload, RawBody):
            body = payload.data
            headers["Content-Type"] = payload.content_type
        elif payload is not None:
            body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if body is not None and self.compress == "gzip":
            # The service inflates within its body limit; gzip is in the standard library.
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        while True:
            retry_after = None
            try:
                response = self._attempt(method, path, body, headers)
            except CONNECTION_ERRORS as e:
                error = DriftscopeError(None, "connection_failed", f"{type(e).__name__}: {e}")
            else:
                if 200 <= response.status < 300:
                    return response.json()
                error = error_from(response)
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if not error.retryable or attempt >= self.max_retries:
                raise error
            delay = self.delay(attempt, retry_after)
            attempt += 1
            log.debug("driftscope %s %s: %s; retry %d in %.2fs", method, path, error, attempt, delay)
            if on_retry is not None:
                on_retry(error, delay)
            if sleep is None:
                time.sleep(delay)
            elif not sleep(delay):
                raise error

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """Retry-After when the service sent one (capped at max_retry_after); otherwise
        exponential backoff with jitter: half of backoff * 2**attempt (capped at max_backoff)
        plus a uniformly random part up to the other half."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base / 2 + random.uniform(0, base / 2)
