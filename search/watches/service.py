"""`WatchService`: the watches' life cycle and the periodic pass that raises alerts.

The pass (every `pass_minutes` by default in `serve` and `trendsearch watch`;
every checkpoint in `eval-alerts`):
1. calibrates every watch against a sample of recent posts' stored vectors
   (`relevance.calibrate`: no embedding, one read of the posts index);
2. for each watch, reads its matches of the baseline and the window from the
   database (the percolator wrote them at ingest), counts and assesses the
   burst (`detect`), and checks the engagement trigger;
3. opens an alert, or updates the watch's running episode (`Ledger.record`,
   one transaction with the webhook it owes).
The pass is idempotent for a given `now`: running it twice opens nothing twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np

from search.errors import FieldError, NotFound
from search.log import log
from search.query import parse_query
from search.store.base import Store
from search.watches import detect, relevance
from search.watches.db import SLOT_S, WatchDB, at, ts
from search.watches.engagement import engagement_alert
from search.watches.ledger import Ledger
from search.watches.models import Alert, AlertPost, Watch, WatchPatch, WatchSpec
from search.watches.percolate import Percolator

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WatchService:
    def __init__(self, db: WatchDB, percolator: Percolator | None, store: Store | None,
                 params: detect.DetectParams | None = None) -> None:
        """Without a percolator and a store (the CLI beside a running server), watches are
        managed in the database only; the process that percolates follows the changes."""
        self.db = db
        self.ledger = Ledger(db)
        self.percolator = percolator
        self.store = store
        self.params = params or detect.DetectParams()

    # -- watches ------------------------------------------------------------
    def create(self, spec: WatchSpec, now: datetime | None = None) -> Watch:
        parse_query(spec.query)  # nothing to search for: a FieldError naming `query`
        _check_filters(spec.filters)
        now = now or datetime.now(UTC)
        watch_id = spec.id or "w-" + secrets.token_hex(6)
        if self.db.get_watch(watch_id) is not None:
            raise FieldError("id", f"a watch with id {watch_id!r} exists; choose another or "
                                   f"update it (PATCH /v1/watches/{watch_id})")
        watch = Watch(id=watch_id, name=spec.name, query=spec.query, filters=spec.filters,
                      triggers=spec.triggers, webhook=spec.webhook, enabled=spec.enabled,
                      created_at=now, updated_at=now)
        self.db.put_watch(watch)
        if self.percolator is not None:
            self.percolator.put(watch)
            self._backfill(watch, now)
        return watch

    def _backfill(self, watch: Watch, now: datetime) -> None:
        """A new (or re-queried) watch starts with the matches of its baseline span."""
        if self.percolator is None or self.store is None:
            return
        trigger = watch.triggers.burst
        since = now - timedelta(hours=trigger.baseline_hours, minutes=trigger.window_minutes)
        self.percolator.backfill(watch.id, self.store, since, now)

    def update(self, watch_id: str, patch: WatchPatch, now: datetime | None = None) -> Watch:
        old = self.get(watch_id)
        changes = {f: v for f in patch.__struct_fields__
                   if (v := getattr(patch, f)) is not msgspec.UNSET}
        if "query" in changes:
            parse_query(changes["query"])
        if "filters" in changes:
            _check_filters(changes["filters"])
        watch = msgspec.structs.replace(old, **changes, updated_at=now or datetime.now(UTC))
        self.db.put_watch(watch)
        if self.percolator is not None:
            self.percolator.put(watch)
            if (watch.query, watch.filters) != (old.query, old.filters):
                self.db.forget_watch_matches(watch.id)
                self._backfill(watch, watch.updated_at)
        return watch

    def delete(self, watch_id: str) -> None:
        if not self.db.delete_watch(watch_id):
            raise NotFound(f"no watch with id {watch_id!r}")
        if self.percolator is not None:
            self.percolator.remove(watch_id)

    def get(self, watch_id: str) -> Watch:
        watch = self.db.get_watch(watch_id)
        if watch is None:
            raise NotFound(f"no watch with id {watch_id!r}")
        return watch

    def watches(self) -> list[Watch]:
        return self.db.watches()

    # -- the pass -------------------------------------------------------------
    def run_pass(self, now: datetime, render: Callable[[Watch, Alert], bytes] | None = None
                 ) -> list[Alert]:
        """One pass as of `now`; returns the alerts it opened (updates are stored, not
        returned). `render` turns a new alert into the webhook body it owes."""
        percolator, store = self.percolator, self.store
        if percolator is None or store is None:
            raise RuntimeError("the pass needs the percolator and the posts store")
        percolator.refresh()
        watches = [w for w in self.db.watches() if w.enabled]
        if not watches:
            return []
        now_ts = ts(now)
        self._calibrate(percolator, store, watches, now)
        longest = max(w.triggers.burst.baseline_hours * 3600 + w.triggers.burst.window_minutes * 60
                      for w in watches)
        traffic = self.db.traffic(now_ts - longest, now_ts)
        opened = []
        for watch in watches:
            alert = self._assess(percolator, store, watch, now, now_ts, traffic)
            if alert is None:
                continue
            stored, new = self.ledger.record(
                watch, alert, (lambda a, w=watch: render(w, a)) if render else None)
            if new:
                opened.append(stored)
                log("watch.alert", watch=watch.id, alert=stored.id, trigger=stored.trigger,
                    observed=stored.observed, expected=stored.expected, z=stored.z)
        return opened

    def _assess(self, percolator: Percolator, store: Store, watch: Watch, now: datetime,
                now_ts: float, traffic: dict[int, int]) -> Alert | None:
        trigger = watch.triggers.burst
        window_s = trigger.window_minutes * 60.0
        since = now_ts - trigger.baseline_hours * 3600 - window_s
        matches = self.db.matches(watch.id, since, now_ts)
        counted = detect.evidence(matches, percolator.calibrations.get(watch.id),
                                  relevance.LEVELS[watch.triggers.relevance],
                                  percolator.dense_trusted(watch.id),
                                  percolator.query_terms(watch.id), self.params.max_behind)
        burst = detect.assess(counted, now_ts=now_ts, trigger=trigger, traffic=traffic,
                              params=self.params, slot_s=SLOT_S,
                              weights=percolator.term_weights(watch.id))
        latest = self.ledger.latest(watch.id)
        running = (latest is not None
                   and now - latest.last_hot_at <= timedelta(hours=trigger.quiet_hours))
        if running and latest is not None:
            if latest.last_hot_at < now and detect.episode_active(burst, latest.expected,
                                                                   self.params):
                return self._alert(store, watch, now, burst, episode=latest.episode,
                                   expected=latest.expected)
            return None
        if trigger.enabled and burst.hot(trigger, self.params):
            return self._alert(store, watch, now, burst, episode=0, expected=burst.expected)
        if watch.triggers.engagement.enabled:
            return engagement_alert(watch, now, counted, store, self.db)
        return None

    @staticmethod
    def _alert(store: Store, watch: Watch, now: datetime, burst: detect.Burst, *, episode: int,
               expected: float) -> Alert:
        return Alert(id="", watch_id=watch.id, episode=episode, trigger="burst", fired_at=now,
                     updated_at=now, last_hot_at=now, observed=burst.observed,
                     expected=round(expected, 3), z=burst.z,
                     window_minutes=watch.triggers.burst.window_minutes,
                     posts=alert_posts(store, burst.top))

    @staticmethod
    def _calibrate(percolator: Percolator, store: Store, watches: list[Watch],
                   now: datetime) -> None:
        """Each watch's cosine to a sample of recent posts without its words: those of the
        baseline before the window, or (too few there) the newest of any age."""
        known = set(percolator.watch_ids())
        ids = [w.id for w in watches if w.id in known]
        if not ids:
            return
        trigger = watches[0].triggers.burst
        window = timedelta(minutes=trigger.window_minutes)
        read = store.window_vectors(now - timedelta(hours=trigger.baseline_hours), now - window,
                                    relevance.CALIBRATION_POSTS)
        for until in (now - window, now):  # too few: the newest of any age, the window last
            if len(read.ids) >= relevance.CALIBRATION_MIN_POSTS:
                break
            read = store.window_vectors(_EPOCH, until, relevance.CALIBRATION_POSTS)
        if not read.ids:
            return
        cosines = np.asarray(read.dense, dtype=np.float32) @ percolator.dense_matrix(ids).T
        # Each watch against the sampled posts that hold none of its words: in a feed that is
        # mostly about the watch's own story (a keyword-collected stream), the others would
        # make its story look ordinary.
        row = {post_id: i for i, post_id in enumerate(read.ids)}
        column = {w: j for j, w in enumerate(ids)}
        worded = np.zeros(cosines.shape, dtype=bool)
        for watch_id, post_id in percolator.db.lexical_matches(list(row)):
            if watch_id in column and post_id in row:
                worded[row[post_id], column[watch_id]] = True
        fresh = dict(zip(ids, relevance.calibrate(cosines, ts(now), exclude=worded), strict=True))
        percolator.calibrations.update(fresh)
        percolator.db.put_calibrations(fresh)


def alert_posts(store: Store, top: list[detect.Evidence]) -> list[AlertPost]:
    """The alert's posts as shown, best first; a post deleted meanwhile is left out."""
    found = {p.id: p for p in store.get([e.post_id for e in top])}
    return [AlertPost(id=e.post_id, text=found[e.post_id].text,
                      created_at=found[e.post_id].created_at, platform=found[e.post_id].platform,
                      relevance=round(e.score, 3), dense=round(e.dense, 4), z=round(e.z, 2),
                      lexical=round(e.lexical, 3),
                      engagement=_engagement(found[e.post_id]))
            for e in top if e.post_id in found]


def _engagement(post: object) -> int:
    return int(getattr(post, "likes", 0) + 2 * getattr(post, "reposts", 0)
               + 2 * getattr(post, "comments", 0))


def _check_filters(filters: object) -> None:
    if filters is not None and (getattr(filters, "since", None) or getattr(filters, "until", None)):
        raise FieldError("filters.since" if getattr(filters, "since", None) else "filters.until",
                         "a watch looks at new posts as they come; it takes no time range")


__all__ = ["WatchService", "alert_posts", "at"]
