"""The payload layout both Qdrant back ends write and read: one definition, so they cannot drift.

A post is stored as its own fields plus fields derived for filtering, decay and
counting (`created_ts`, day and hour buckets, `image_count`, `terms`), and its
engagement history (`search.history`). Point ids are derived from post ids, so
re-indexing a file overwrites instead of duplicating.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from search.history import HISTORY_FIELDS, apply_update, ingest_fields
from search.models import Engagement, Post
from search.query import post_terms

POINT_NAMESPACE = uuid.UUID("0b7c1a36-3f52-5c1e-9d5e-7a1c2b3d4e5f")
DERIVED_FIELDS = ("created_ts", "created_day", "created_hour", "image_count", "terms")
# Large (a Weibo post holds ~90 Han unigrams and bigrams) and only ever filtered
# on: reads leave it out (`PayloadSelector.Exclude`).
FILTER_ONLY_FIELDS = ["terms"]
# What `from_payload` drops: a read for whole posts leaves these out too (the history
# grows a snapshot per engagement update; leaving it and the derived fields out cut a
# 60-post read from 1.0 to 0.75 ms at 100k, decision 0031, session 17).
NOT_IN_POST = list(dict.fromkeys([*FILTER_ONLY_FIELDS, *DERIVED_FIELDS, *HISTORY_FIELDS]))


def point_id(post_id: str) -> str:
    """A UUID derived from the post id: re-indexing a file overwrites, never duplicates."""
    return str(uuid.uuid5(POINT_NAMESPACE, post_id))


def to_payload(post: Post) -> dict[str, Any]:
    """The stored payload: the post plus fields derived for filtering and decay.

    `created_at` is stored in UTC (`Z`) so range filters compare like with like.
    """
    payload: dict[str, Any] = msgspec.to_builtins(post)
    created = post.created_at.astimezone(UTC)
    payload["created_at"] = created.isoformat().replace("+00:00", "Z")
    payload["created_ts"] = created.timestamp()
    payload.update(time_buckets(created))
    # An int, not a bool: Qdrant Edge 0.9 never matches MatchValue(True/False) on a
    # bool payload (indexed or not), so has-image filters use a range on this count.
    payload["image_count"] = len(post.image_urls)
    # Exact matching for phrases and -exclusions (`search.query`); m0003 backfills it.
    payload["terms"] = post_terms(post.text)
    return payload


def time_buckets(created: datetime) -> dict[str, int]:
    """Whole UTC days and hours since the epoch (m0004). Written for indexes that have
    them; counting no longer reads them (Qdrant's `facet` on them walked every day's
    posts, 47 s at 1M): the histogram buckets `created_ts` instead (decision 0025)."""
    ts = int(created.astimezone(UTC).timestamp() // 1)
    return {"created_day": ts // 86_400, "created_hour": ts // 3_600}


def from_payload(payload: dict[str, Any]) -> Post:
    return msgspec.convert({k: v for k, v in payload.items()
                            if k not in DERIVED_FIELDS and k not in HISTORY_FIELDS}, Post)


MATURED_KEYS = ["id", "platform", "created_ts", "history"]

# What an engagement update reads before it writes (`search.history`).
ENGAGEMENT_KEYS = ["created_ts", "likes", "reposts", "comments", "history"]


def with_history(posts: Sequence[Post], previous: Mapping[str, Mapping[str, Any]],
                 observed_at: float | None) -> list[dict[str, Any]]:
    """Payloads for an upsert: a re-ingest keeps the stored history and adds a
    snapshot of the counts it brings (`search.history.ingest_fields`)."""
    at = time.time() if observed_at is None else observed_at
    out = []
    for post in posts:
        payload = to_payload(post)
        payload.update(ingest_fields(previous.get(point_id(post.id)),
                                     (post.likes, post.reposts, post.comments),
                                     payload["created_ts"], at))
        out.append(payload)
    return out


def updated_engagement(payload: Mapping[str, Any] | None, update: Engagement,
                       at: float | None) -> dict[str, Any] | None:
    """The fields an engagement update sets, or None when the post is not stored."""
    if payload is None:
        return None
    return apply_update(payload, update, time.time() if at is None else at)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
