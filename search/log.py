"""Structured logs: one JSON line per event, with its duration.

`with event("rerank", n=50):` logs `{"event": "rerank", "n": 50, "ms": 12.3}`
when the block ends (and `"error"` if it raised). Event names are stable
dotted nouns so logs can be grepped and charted.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

logger = logging.getLogger("trendsearch")


def log(name: str, **fields: Any) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info(msgspec.json.encode({"event": name, **fields}, enc_hook=str).decode())


@contextmanager
def event(name: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Time a block; callers may add fields to the yielded dict before it ends."""
    extra: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        yield extra
    except Exception as exc:
        log(name, **fields, **extra, ms=round((time.perf_counter() - started) * 1000, 2),
            error=type(exc).__name__)
        raise
    log(name, **fields, **extra, ms=round((time.perf_counter() - started) * 1000, 2))


class StageClock:
    """Milliseconds per stage of one request, each stage timed from the end of the last.

    `clock.lap("embed")` closes the stage that just ran; `clock.ms` holds them in order,
    for the response's `timings_ms` and the log line's `*_ms` fields.
    """

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.ms[stage] = round((now - self._last) * 1000, 3)
        self._last = now

    def fields(self) -> dict[str, float]:
        """The stages as log fields: `embed_ms`, `recall_ms`, ..."""
        return {f"{stage}_ms": ms for stage, ms in self.ms.items()}


def configure(level: str = "INFO") -> None:
    """Plain JSON lines on stderr; called once by the front doors (CLI, server)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
