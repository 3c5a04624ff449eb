"""The driftscope client: a background sender for a model's request path, plus synchronous calls."""

import atexit
import collections
import functools
import logging
import os
import threading
import time
import uuid
import weakref
from typing import Any, Deque, Dict, Iterable, List, Optional, Tuple

from . import __version__
from ._arrow import ARROW_STREAM, arrow_stream, import_pyarrow
from ._convert import to_json_value, to_rows
from ._errors import DriftscopeError
from ._transport import RawBody, Transport

log = logging.getLogger("driftscope_client")

ROWS = "rows"
LABELS = "labels"

# How often (seconds) a dropped-rows warning may be logged, so a full queue cannot flood the log.
_DROP_WARNING_INTERVAL = 60.0


class _Flush:
    """A marker in the queue: the sender sends everything before it, then sets ``done``."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class Client:
    """A driftscope client.

    ``log_rows`` / ``log_labels`` never wait on the network: they convert the rows, put them in a
    bounded in-memory queue and return; one background thread sends them in batches of
    ``batch_size`` (or whatever has waited ``flush_interval`` seconds) with an ``Idempotency-Key``
    per batch, retrying connection errors, 408, 429, 502, 503 and 504 up to ``max_retries``
    times (exponential backoff with jitter, or the service's ``Retry-After``). When the queue
    holds ``max_queue`` items (rows plus labels not yet sent), further ones are dropped and
    counted in ``stats()``. A batch the service refuses (any other 4xx, 500) or that still fails
    after the retries is counted as failed, logged, and its error kept as ``stats()["last_error"]``.

    ``send_rows``, ``send_labels``, ``results`` and ``monitors`` are synchronous: they retry the
    same way and raise :class:`DriftscopeError` on failure.

    ``body_format="columns"`` sends rows as one columnar body per batch, ``body_format="arrow"``
    as one Arrow IPC stream per batch (needs pyarrow: ``pip install driftscope-client[arrow]``;
    a batch with a column no single Arrow type carries as JSON does, such as numbers mixed with
    strings, is sent as JSON rows and counted in ``stats()["arrow_fallback_batches"]``);
    ``compress="gzip"`` gzips every request body.
    """

    def __init__(
        self,
        url: str,
        token: Optional[str] = None,
        *,
        timeout: float = 10.0,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        body_format: str = "rows",
        compress: Optional[str] = None,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be at least 0")
        if body_format not in ("rows", "columns", "arrow"):
            raise ValueError(
                f"body_format must be 'rows', 'columns' or 'arrow', got {body_format!r}"
            )
        # pyarrow only for the Arrow format, imported now so a missing one fails here, not in
        # the sender thread (ImportError naming the `arrow` extra).
        self._pa = import_pyarrow() if body_format == "arrow" else None
        self.body_format = body_format
        self.url = url
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self._transport = Transport(
            url,
            token,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            user_agent=f"driftscope-client-python/{__version__}",
            compress=compress,
        )
        self._closed = False
        self._last_drop_warning = float("-inf")
        self._stats: Dict[str, Any] = {
            "rows_queued": 0,  # accepted by log_rows (total)
            "rows_sent": 0,  # acknowledged by the service
            "rows_dropped": 0,  # queue full, or logged after close()
            "rows_failed": 0,  # in batches refused, out of retries, or abandoned at close()
            "rows_dropped_by_service": 0,  # sent, but the service's window dropped them
            "labels_queued": 0,
            "labels_sent": 0,
            "labels_dropped": 0,
            "labels_failed": 0,
            "labels_unmatched": 0,  # sent, but not joined (unknown_id, duplicate, invalid_*)
            "batches_sent": 0,
            "batches_failed": 0,
            "arrow_fallback_batches": 0,  # body_format="arrow" batches sent as JSON rows
            "retries": 0,
            "last_error": None,
        }
        self._start_state()
        # Closed at interpreter exit unless closed before (close() unregisters this).
        self._atexit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._atexit)

    # -- background state (recreated in a forked child) ---------------------------------------

    def _start_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: Deque[Any] = collections.deque()
        self._pending = 0  # items queued or being sent: what max_queue bounds
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _ensure_thread(self) -> None:
        # Called with the lock held.
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="driftscope-client-sender", daemon=True
            )
            self._thread.start()

    def _check_fork(self) -> None:
        # Called without the lock: right after a fork the child has this one thread.
        if self._pid != os.getpid():
            # A fork (e.g. a pre-forking server) copies the queue but not the sender thread:
            # the child starts with an empty queue and its own thread.
            self._start_state()

    # -- background API ----------------------------------------------------------------------

    def log_rows(self, monitor: str, rows: Any) -> int:
        """Queues rows (a list of dicts, one dict, or a pandas DataFrame) for monitor
        ``monitor``; returns how many were queued (the rest were dropped: queue full or closed).
        Never blocks on the network."""
        items = to_rows(rows)
        return self._enqueue(ROWS, monitor, items)

    def log_labels(self, monitor: str, ids: Iterable[Any], targets: Iterable[Any]) -> int:
        """Queues ground truth: ``targets[i]`` for the prediction logged with id ``ids[i]``.
        Returns how many labels were queued."""
        items = _labels(ids, targets)
        return self._enqueue(LABELS, monitor, items)

    def _enqueue(self, kind: str, monitor: str, items: List[Dict[str, Any]]) -> int:
        if not items:
            return 0
        self._check_fork()
        with self._lock:
            if self._closed:
                room = 0
            else:
                room = max(0, self.max_queue - self._pending)
            taken = items if len(items) <= room else items[:room]
            dropped = len(items) - len(taken)
            if taken:
                self._queue.append((kind, monitor, taken))
                self._pending += len(taken)
                self._stats[f"{kind}_queued"] += len(taken)
                self._ensure_thread()
                self._cond.notify()
            if dropped:
                self._stats[f"{kind}_dropped"] += dropped
                now = time.monotonic()
                warn = now - self._last_drop_warning >= _DROP_WARNING_INTERVAL
                if warn:
                    self._last_drop_warning = now
        if dropped and warn:
            why = "the client is closed" if self._closed else f"the queue is full ({self.max_queue})"
            log.warning(
                "driftscope: dropped %d %s for monitor %r: %s (further drops are counted in "
                "stats() and logged at most once a minute)",
                dropped,
                kind,
                monitor,
                why,
            )
        return len(taken)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything queued before this call has been sent (or has failed for
        good); returns False if ``timeout`` seconds passed first."""
        marker = _Flush()
        self._check_fork()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                return not self._queue
            self._queue.append(marker)
            self._cond.notify()
        return marker.done.wait(timeout)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flushes (waiting at most ``timeout`` seconds) and stops the sender thread; rows logged
        afterwards are dropped and counted. Whatever could not be sent in time is counted in
        ``rows_failed`` / ``labels_failed``. Returns whether everything was sent in time."""
        with self._lock:
            if self._closed:
                return True
        atexit.unregister(self._atexit)
        start = time.monotonic()
        flushed = self.flush(timeout)
        with self._lock:
            self._closed = True
            thread = self._thread
            self._stop.set()
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
            thread.join(left)
        return flushed

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def stats(self) -> Dict[str, Any]:
        """Counters of the background path (see the README) plus ``queued``: items waiting now."""
        with self._lock:
            out = dict(self._stats)
            out["queued"] = self._pending
        return out

    # -- synchronous API ---------------------------------------------------------------------

    def send_rows(self, monitor: str, rows: Any, *, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        """POSTs rows now and returns the service's answer (``accepted``, ``dropped``,
        ``windows_evaluated``, ``replayed``, ...). One Idempotency-Key (``idempotency_key`` or a
        new UUID) covers every retry, so a retried request is applied once."""
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        return self._transport.request(
            "POST",
            self._transport.path("v1", "monitors", monitor, "rows"),
            self._rows_body(to_rows(rows)),
            idempotency_key=key,
        )

    def send_labels(self, monitor: str, ids: Iterable[Any], targets: Iterable[Any]) -> Dict[str, Any]:
        """POSTs labels now; returns ``received``, ``matched``, ``unmatched`` and per-item
        ``outcomes``. (A retried label that had arrived is reported ``duplicate``, never joined
        twice.)"""
        return self._transport.request(
            "POST",
            self._transport.path("v1", "monitors", monitor, "labels"),
            {"labels": _labels(ids, targets)},
        )

    def results(self, monitor: str) -> Dict[str, Any]:
        """GET /v1/monitors/{monitor}: latest window, history, buffered rows, labelled windows."""
        return self._transport.request("GET", self._transport.path("v1", "monitors", monitor))

    def monitors(self) -> List[Dict[str, Any]]:
        """The configured monitors with their columns and window settings."""
        return self._transport.request("GET", self._transport.path("v1", "monitors"))["monitors"]

    # -- the sender thread -------------------------------------------------------------------

    def _run(self) -> None:
        # Rows waiting to be batched, per (kind, monitor), with the time the oldest arrived.
        buffers: Dict[Tuple[str, str], Tuple[float, List[Dict[str, Any]]]] = {}
        while True:
            with self._lock:
                while not self._queue and not self._stop.is_set():
                    due = _next_due(buffers, self.flush_interval)
                    wait = None if due is None else due - time.monotonic()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                taken = list(self._queue)
                self._queue.clear()
                stopping = self._stop.is_set()
            for entry in taken:
                if isinstance(entry, _Flush):
                    # Everything before the marker is buffered now: send it all.
                    self._send_all(buffers, force=True)
                    entry.done.set()
                    continue
                kind, monitor, items = entry
                since, buf = buffers.setdefault((kind, monitor), (time.monotonic(), []))
                buf.extend(items)
                while len(buf) >= self.batch_size and not self._stop.is_set():
                    self._send_batch(kind, monitor, buf[: self.batch_size])
                    del buf[: self.batch_size]
                if not buf:
                    del buffers[(kind, monitor)]
            if stopping or self._stop.is_set():
                self._abandon(buffers)
                return
            self._send_all(buffers, force=False)

    def _send_all(self, buffers: Dict[Tuple[str, str], Tuple[float, List[Dict[str, Any]]]], force: bool) -> None:
        now = time.monotonic()
        for key in list(buffers):
            since, buf = buffers[key]
            if not force and now - since < self.flush_interval:
                continue
            kind, monitor = key
            while buf and not self._stop.is_set():
                self._send_batch(kind, monitor, buf[: self.batch_size])
                del buf[: self.batch_size]
            if not buf:
                del buffers[key]

    def _send_batch(self, kind: str, monitor: str, items: List[Dict[str, Any]]) -> None:
        transport = self._transport
        path = transport.path("v1", "monitors", monitor, kind)
        # Rows carry one key per batch, reused on every retry; labels are idempotent by id.
        key = str(uuid.uuid4()) if kind == ROWS else None

        def on_retry(error: DriftscopeError, delay: float) -> None:
            with self._lock:
                self._stats["retries"] += 1

        def sleep(delay: float) -> bool:
            return not self._stop.wait(delay)

        try:
            body = self._rows_body(items) if kind == ROWS else {kind: items}
            answer = transport.request(
                "POST", path, body, idempotency_key=key, sleep=sleep, on_retry=on_retry
            )
        except DriftscopeError as e:
            with self._lock:
                self._stats[f"{kind}_failed"] += len(items)
                self._stats["batches_failed"] += 1
                self._stats["last_error"] = e
                self._pending -= len(items)
            log.warning("driftscope: %d %s for monitor %r not sent: %s", len(items), kind, monitor, e)
            return
        except Exception as e:  # a bug or unserialisable value: keep the thread alive
            with self._lock:
                self._stats[f"{kind}_failed"] += len(items)
                self._stats["batches_failed"] += 1
                self._stats["last_error"] = e
                self._pending -= len(items)
            log.exception("driftscope: %d %s for monitor %r not sent", len(items), kind, monitor)
            return
        with self._lock:
            self._stats[f"{kind}_sent"] += len(items)
            self._stats["batches_sent"] += 1
            self._pending -= len(items)
            if isinstance(answer, dict):
                if kind == ROWS:
                    dropped = answer.get("dropped") or {}
                    self._stats["rows_dropped_by_service"] += sum(
                        v for v in dropped.values() if isinstance(v, int)
                    )
                else:
                    self._stats["labels_unmatched"] += int(answer.get("unmatched") or 0)

    def _rows_body(self, rows: List[Dict[str, Any]]) -> Any:
        """``{"rows": [...]}``, or with ``body_format="columns"`` one list per column
        (``{"columns": {...}}``: the names once per batch, not per row; a row without a column
        sends null, which the service reads as missing, as it reads an absent field), or with
        ``body_format="arrow"`` one Arrow IPC stream (a :class:`RawBody`; nulls as in columns),
        falling back to ``{"rows": [...]}`` when a column has no faithful Arrow type."""
        if self.body_format == "arrow" and rows:
            data, why = arrow_stream(self._pa, rows)
            if data is not None:
                return RawBody(data, ARROW_STREAM)
            with self._lock:
                self._stats["arrow_fallback_batches"] += 1
            log.debug("driftscope: %d rows sent as JSON, not Arrow: %s", len(rows), why)
            return {"rows": rows}
        if self.body_format == "rows":
            return {"rows": rows}
        names: Dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        return {"columns": {name: [row.get(name) for row in rows] for name in names}}

    def _abandon(self, buffers: Dict[Tuple[str, str], Tuple[float, List[Dict[str, Any]]]]) -> None:
        with self._lock:
            rest = list(self._queue)
            self._queue.clear()
            lost = {ROWS: 0, LABELS: 0}
            for (kind, _), (_, buf) in buffers.items():
                lost[kind] += len(buf)
            for entry in rest:
                if isinstance(entry, _Flush):
                    entry.done.set()
                else:
                    lost[entry[0]] += len(entry[2])
            for kind, n in lost.items():
                self._stats[f"{kind}_failed"] += n
                self._pending -= n
        buffers.clear()
        if lost[ROWS] or lost[LABELS]:
            log.warning(
                "driftscope: closed with %d rows and %d labels unsent", lost[ROWS], lost[LABELS]
            )


def _next_due(buffers: Dict[Any, Tuple[float, List[Any]]], interval: float) -> Optional[float]:
    if not buffers:
        return None
    return min(since for since, _ in buffers.values()) + interval


def _labels(ids: Iterable[Any], targets: Iterable[Any]) -> List[Dict[str, Any]]:
    ids = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    targets = list(targets.tolist() if hasattr(targets, "tolist") else targets)
    if len(ids) != len(targets):
        raise ValueError(f"{len(ids)} ids but {len(targets)} targets")
    return [{"id": to_json_value(i), "target": to_json_value(t)} for i, t in zip(ids, targets)]


def _close_at_exit(ref: "weakref.ReferenceType[Client]") -> None:
    client = ref()
    if client is not None and not client._closed:
        client.close(timeout=client._transport.timeout)
