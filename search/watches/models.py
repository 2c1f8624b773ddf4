"""The contracts of watches and alerts: what a desk saves, and what the system tells it.

A *watch* is a saved search (a query in the search-box syntax, filters) with
triggers and, optionally, a webhook. An *alert* says why a watch fired: the
trigger, what was observed against what the watch's own baseline led us to
expect, the burst z, and the top matching posts with their explain. One alert
stands for one *episode*: a burst that goes on updates its alert; only a new
burst after a quiet spell opens a new one.

Input structs (`WatchSpec`, `WatchPatch`) reject unknown fields and bad values
by name (msgspec), so a bad definition is a 422 naming the field; the rest is
what the store hands back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from search.models import SearchFilters

__all__ = ["DEFAULT_TRIGGERS", "Alert", "AlertPost", "BurstTrigger", "Delivery", "EngagementTrigger",
           "Match", "Relevance", "Triggers", "Watch", "WatchId", "WatchPatch", "WatchSpec", "Webhook",
           "WebhookView"]

WatchId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
QueryText = Annotated[str, Meta(min_length=1, max_length=1000)]
# How strict "matching" is, relative to the watch's own score distribution (see
# `search.watches.relevance`): never a raw cosine, which means something else per model.
Relevance = Literal["strict", "normal", "loose"]


class BurstTrigger(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """New matching posts in the last `window_minutes` well above the watch's own baseline.

    Defaults are what `eval-alerts` measured (docs/decisions/0026-watches.md).
    """

    enabled: bool = True
    window_minutes: Annotated[int, Meta(ge=10, le=24 * 60)] = 60
    baseline_hours: Annotated[int, Meta(ge=6, le=30 * 24)] = 48
    # Poisson z of the window's matches against the baseline's median window.
    min_z: Annotated[float, Meta(ge=1, le=100)] = 4.0
    # And at least this many matching posts in the window.
    min_posts: Annotated[int, Meta(ge=2, le=10_000)] = 4
    # A burst is one episode until the watch has been quiet this long.
    quiet_hours: Annotated[float, Meta(ge=1, le=24 * 14)] = 24.0


class EngagementTrigger(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One matching post whose engagement grows unusually fast.

    "Unusually" is relative to the watch's own matches: the post's growth per hour
    must reach `min_factor` times the median growth of the watch's matching posts
    over the baseline, and `min_per_hour` (likes + 2 reposts + 2 comments) at least.
    """

    enabled: bool = True
    min_factor: Annotated[float, Meta(ge=1, le=10_000)] = 10.0
    min_per_hour: Annotated[float, Meta(ge=0)] = 100.0


class Triggers(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    burst: BurstTrigger = BurstTrigger()
    engagement: EngagementTrigger = EngagementTrigger()
    # Loosely related posts never count, whatever the trigger.
    relevance: Relevance = "normal"


DEFAULT_TRIGGERS = Triggers()


class Webhook(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where alerts are POSTed, signed with `secret` (HMAC-SHA256); the URL must also pass
    the server's allow-list (checked by the API, which knows the settings)."""

    url: Annotated[str, Meta(min_length=8, max_length=2048, pattern=r"^https?://[^\s]+$")]
    secret: Annotated[str, Meta(min_length=16, max_length=256)]


class WebhookView(msgspec.Struct, frozen=True):
    """A webhook as answered: the secret is never sent back."""

    url: str
    secret_set: bool = True


class WatchSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A watch as created: everything but the query and the name has a default."""

    name: Name
    query: QueryText
    id: WatchId | None = None
    filters: SearchFilters | None = None
    triggers: Triggers = DEFAULT_TRIGGERS
    webhook: Webhook | None = None
    enabled: bool = True


class WatchPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A partial update: only the fields sent change (`webhook: null` removes the webhook)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    query: QueryText | msgspec.UnsetType = msgspec.UNSET
    filters: SearchFilters | None | msgspec.UnsetType = msgspec.UNSET
    triggers: Triggers | msgspec.UnsetType = msgspec.UNSET
    webhook: Webhook | None | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class Watch(msgspec.Struct, frozen=True):
    id: str
    name: str
    query: str
    filters: SearchFilters | None
    triggers: Triggers
    webhook: Webhook | None
    enabled: bool
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, object]:
        """The watch as the API and the CLI show it: the webhook secret stays here."""
        out: dict[str, object] = msgspec.to_builtins(self)
        out["webhook"] = (msgspec.to_builtins(WebhookView(url=self.webhook.url))
                          if self.webhook else None)
        return out


class Match(msgspec.Struct, frozen=True, array_like=True):
    """One post found close to one watch at ingest (the percolator's output).

    `dense` is the cosine of post and query; `lexical` the share of the query's
    weight (each term by its IDF among posts) that the post's words hold, 0..1;
    `copy` a hash of the post's copy signature (`search.dedup`): retweets and
    copy-paste of one text share it, so they count once; `terms_mask` which of the
    query's terms (bit k: the k-th) the post holds; `behind` how far the watch's score
    for this post is behind the best-scoring watch of the post (0: the nearest).
    """

    watch_id: str
    post_id: str
    created_ts: float
    dense: float
    lexical: float
    copy: int
    terms_mask: int = 0
    behind: float = 0.0


class AlertPost(msgspec.Struct, frozen=True):
    """A post that made an alert fire, best first, with why it counted."""

    id: str
    text: str
    created_at: datetime
    platform: str
    relevance: float  # the watch-relative score the posts were ordered by
    dense: float  # cosine of post and query
    z: float  # that cosine against the watch's calibration
    lexical: float  # share of the query's weight the post's words hold
    engagement: int = 0


class Alert(msgspec.Struct, frozen=True):
    """One episode of one watch. `id` is stable for the episode (the webhook's
    idempotency key); `revision` counts the passes that updated it."""

    id: str
    watch_id: str
    episode: int
    trigger: Literal["burst", "engagement"]
    fired_at: datetime
    updated_at: datetime
    last_hot_at: datetime
    observed: int
    expected: float
    z: float
    window_minutes: int
    posts: list[AlertPost]
    revision: int = 1
    # For the engagement trigger: the post's growth per hour and the watch's median.
    growth_per_hour: float | None = None


class Delivery(msgspec.Struct, frozen=True):
    """One webhook POST owed for one alert; `state` dead = the dead-letter list."""

    alert_id: str
    watch_id: str
    url: str
    state: Literal["pending", "delivered", "dead"]
    attempts: int
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    status_code: int | None = None
