"""Bounded, jittered retries around every Qdrant server call.

Transient failures (connection refused, timeouts, 502/503/504, 429) are
retried by tenacity with jittered exponential back-off, bounded in attempts
and seconds, then surface as `StoreUnavailable`: a dead server is an error in
seconds, never a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from search.errors import StoreUnavailable

__all__ = ["Retry"]

T = TypeVar("T")


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ResponseHandlingException | httpx.TransportError | ConnectionError):
        return True
    return isinstance(exc, UnexpectedResponse) and exc.status_code in {429, 502, 503, 504}


class Retry:
    """Bounded, jittered retries around every client call."""

    def __init__(self, where: str, attempts: int = 4, max_seconds: float = 15.0) -> None:
        self._where = where
        self._attempts = attempts
        self._max_seconds = max_seconds

    def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._max_seconds),
            wait=wait_random_exponential(multiplier=0.2, max=2.0),
            reraise=False,
        )
        try:
            return retrying(fn, *args, **kwargs)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise StoreUnavailable(
                f"Qdrant server at {self._where} did not answer after {self._attempts} attempts "
                f"({type(cause).__name__}: {cause}); check QDRANT_URL and that the server is up"
            ) from cause
