"""Engagement updates, one or thousands at once: checked whole, then written in one call.

Newsrooms receive counts for thousands of posts at a time, so the bulk form is
the unit and the single PATCH is a batch of one. Every snapshot time is checked
against its post (`search.history.snapshot_problem`) before anything is written,
and every bad one is named (index and field): a client fixes its batch and sends
it again, which is harmless, since a snapshot at the same instant replaces itself.
Ids the index does not hold are answered, not refused: a feed of counts runs
ahead of ingestion and should not lose the batch for one unknown post.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.errors import FieldError, ValidationFailed
from search.history import snapshot_problem
from search.models import Engagement
from search.store.base import Store
from search.store.payload import ENGAGEMENT_KEYS, updated_engagement


def apply_updates(store: Store, items: Sequence[tuple[str, Engagement]], now: float,
                  indexed: bool = True) -> list[str]:
    """Write every update as a snapshot; answer the ids not in the index. Raises
    `ValidationFailed` (nothing written) when a snapshot time is out of bounds.
    `indexed`: name errors by item index (the bulk form) or by field alone."""
    stored = store.payloads([post_id for post_id, _ in items], ENGAGEMENT_KEYS)
    errors: list[FieldError] = []
    fields_by_post = {}
    missing = []
    for index, (post_id, update) in enumerate(items):
        payload = stored.get(post_id)
        if payload is None:
            missing.append(post_id)
            continue
        at = update.at.timestamp() if update.at is not None else now
        problem = snapshot_problem(at, float(payload.get("created_ts") or 0.0), now)
        if problem is not None:
            errors.append(FieldError("at", problem, index=index if indexed else None))
            continue
        if update.sets_nothing():
            continue
        fields = updated_engagement(payload, update, at)
        if fields is not None:
            fields_by_post[post_id] = fields
    if errors:
        raise ValidationFailed(errors)
    if fields_by_post:
        store.set_payload(fields_by_post)
    return missing
