"""Webhook delivery: signed POSTs, retried with back-off, then the dead-letter list.

Each new alert of a watch with a webhook owes one delivery, recorded with the
alert in one transaction (`search.watches.ledger`). The deliverer POSTs the
JSON body with:

    Content-Type: application/json
    Idempotency-Key: <alert id>           the same for every retry and replay
    X-Trendsearch-Timestamp: <unix seconds>
    X-Trendsearch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

so a receiver verifies the body came from us (the secret is the watch's own),
refuses old replays by the timestamp, and drops duplicates by the key. A 2xx
answer is delivered; a connection error, a timeout, 408, 429 or 5xx is retried
(tenacity, jittered exponential back-off); anything else, or the retries spent,
moves the delivery to the dead-letter list, where an operator lists and replays
it (`/v1/webhooks/dead-letters`, `trendsearch deliveries`). At-least-once: a
process killed after a receiver answered but before the answer was recorded
sends it again on restart, with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import msgspec
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from search.errors import FieldError
from search.log import log
from search.watches.ledger import Ledger
from search.watches.models import Alert, Delivery, Watch
from server.watches.urlguard import UrlGuard

SIGNATURE_HEADER = "X-Trendsearch-Signature"
TIMESTAMP_HEADER = "X-Trendsearch-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           tolerance_s: float = 300.0, now: float | None = None) -> bool:
    """What a receiver does (and the tests do): signature and freshness."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    fresh = abs((time.time() if now is None else now) - stamp) <= tolerance_s
    return fresh and hmac.compare_digest(sign(secret, stamp, body), signature)


def render(watch: Watch, alert: Alert) -> bytes:
    """The webhook body: the alert as `GET /v1/alerts` shows it, and its watch."""
    return msgspec.json.encode({"type": "watch.alert", "alert": alert,
                                "watch": {"id": watch.id, "name": watch.name,
                                          "query": watch.query}})


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Permanent(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Deliverer:
    def __init__(self, ledger: Ledger, guard: UrlGuard, *, attempts: int = 6,
                 wait_initial_s: float = 1.0, wait_max_s: float = 60.0, timeout_s: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.ledger = ledger
        self.guard = guard
        self.attempts = attempts
        self.wait_initial_s = wait_initial_s
        self.wait_max_s = wait_max_s
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is owed; returns how many were delivered."""
        done = 0
        for delivery, body in self.ledger.due(limit):
            done += self.deliver(delivery, body)
        return done

    def deliver(self, delivery: Delivery, body: bytes) -> bool:
        watch = self.ledger.db.get_watch(delivery.watch_id)
        if watch is None or watch.webhook is None:
            self.ledger.dead(delivery.alert_id, 0, "the watch or its webhook was deleted", None)
            return False
        secret = watch.webhook.secret
        tries = 0

        def attempt() -> int:
            nonlocal tries
            tries += 1
            return self._post(delivery, body, secret)

        retrying = Retrying(stop=stop_after_attempt(self.attempts),
                            wait=wait_exponential_jitter(initial=self.wait_initial_s,
                                                         max=self.wait_max_s),
                            retry=retry_if_exception_type(_Retryable), reraise=False)
        try:
            status = retrying(attempt)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            self._dead(delivery, tries, cause)
            return False
        except _Permanent as exc:
            self._dead(delivery, tries, exc)
            return False
        self.ledger.delivered(delivery.alert_id, tries, status)
        log("webhook.delivered", alert=delivery.alert_id, watch=delivery.watch_id,
            attempts=tries, status=status)
        return True

    def _post(self, delivery: Delivery, body: bytes, secret: str) -> int:
        try:
            self.guard.check(delivery.url)
        except FieldError as exc:
            raise _Permanent(f"refused by the URL guard: {exc.problem}") from None
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: delivery.alert_id,
                   TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body)}
        try:
            response = self._client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        if 200 <= response.status_code < 300:
            return response.status_code
        message = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise _Retryable(message, response.status_code)
        raise _Permanent(message, response.status_code)

    def _dead(self, delivery: Delivery, tries: int, cause: BaseException | None) -> None:
        status = getattr(cause, "status", None)
        self.ledger.dead(delivery.alert_id, tries, str(cause), status)
        log("webhook.dead_letter", alert=delivery.alert_id, watch=delivery.watch_id,
            attempts=tries, error=str(cause)[:300])

    def close(self) -> None:
        self._client.close()
