"""The engagement trigger: one matching post whose engagement grows unusually fast.

Growth is measured between passes: the pass records each recent matching
post's engagement (likes + 2 reposts + 2 comments, as trending mode weighs
them) and compares it with what it saw last time; a post seen for the first
time grows from zero since it was posted. "Unusually" is relative to the
watch's own matching posts: at least `min_factor` times their median growth,
and `min_per_hour` at least, so a quiet watch's one liked post is no news.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime

from search.store.base import Store
from search.watches.db import WatchDB, ts
from search.watches.detect import Evidence
from search.watches.models import Alert, AlertPost, Watch

# Matching posts followed, newest first, and how far back.
FOLLOW_POSTS = 500
FOLLOW_HOURS = 24.0
# Growth is never measured over less than this (a post a minute old is not "fast").
MIN_HOURS = 0.25


def engagement_alert(watch: Watch, now: datetime, counted: Sequence[Evidence], store: Store,
                     db: WatchDB) -> Alert | None:
    trigger = watch.triggers.engagement
    now_ts = ts(now)
    recent = sorted((e for e in counted if now_ts - e.created_ts <= FOLLOW_HOURS * 3600),
                    key=lambda e: -e.created_ts)[:FOLLOW_POSTS]
    if not recent:
        return None
    posts = {p.id: p for p in store.get([e.post_id for e in recent])}
    seen = db.engagement_seen(list(posts))
    growth: dict[str, float] = {}
    snapshot: dict[str, tuple[float, int]] = {}
    for e in recent:
        post = posts.get(e.post_id)
        if post is None:
            continue
        total = post.likes + 2 * post.reposts + 2 * post.comments
        since_ts, before = seen.get(post.id, (e.created_ts, 0))
        growth[post.id] = (total - before) / max((now_ts - since_ts) / 3600, MIN_HOURS)
        snapshot[post.id] = (now_ts, total)
    db.see_engagement(snapshot)
    if len(growth) < 3:
        return None
    usual = statistics.median(growth.values())
    best = max(growth, key=lambda p: (growth[p], p))
    if growth[best] < max(trigger.min_per_hour, trigger.min_factor * usual):
        return None
    post = posts[best]
    e = next(x for x in recent if x.post_id == best)
    shown = AlertPost(id=post.id, text=post.text, created_at=post.created_at,
                      platform=post.platform, relevance=round(e.score, 3), dense=round(e.dense, 4),
                      z=round(e.z, 2), lexical=round(e.lexical, 3),
                      engagement=snapshot[best][1])
    return Alert(id="", watch_id=watch.id, episode=0, trigger="engagement", fired_at=now,
                 updated_at=now, last_hot_at=now, observed=snapshot[best][1],
                 expected=round(usual, 3), z=round(growth[best] / max(usual, 1.0), 3),
                 window_minutes=watch.triggers.burst.window_minutes, posts=[shown],
                 growth_per_hour=round(growth[best], 3))
