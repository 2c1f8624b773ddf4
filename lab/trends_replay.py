"""Replaying a time-ordered stream through the trends service, checkpoint by checkpoint.

Posts are indexed into the store they are handed in time order, and at each
checkpoint the service is asked what is hot, as of that checkpoint, with only
the posts created before it indexed: the same code `GET /v1/trends` runs, on
the same kind of store, so the scores measure the product.

Every post is treated alike: `platform` and the id are stored but never looked
at by the engine. Engagement counts in a stream were taken at collection time,
often days later, so using them would be looking ahead: they are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from search.embed.base import Embedder
from search.models import Post
from search.store.base import Store
from search.trends.models import TrendsRequest
from search.trends.service import TrendsService

INDEX_BATCH = 512


class StreamPost(msgspec.Struct, frozen=True):
    """One line of a stream; engagement fields are read and dropped (see above)."""

    id: str
    text: str
    created_at: datetime
    platform: str = "unknown"
    lang: str | None = None


class ReplayStats(msgspec.Struct):
    posts: int = 0
    checkpoints: int = 0
    topics: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0
    trends_seconds: float = 0.0

    @property
    def posts_per_s(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0


def read_stream(path: Path) -> Iterator[Post]:
    decoder = msgspec.json.Decoder(StreamPost)
    previous: datetime | None = None
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            raw = decoder.decode(line)
            created = raw.created_at.astimezone(UTC)
            if previous is not None and created < previous:
                raise ValueError(f"{path}:{n}: the stream is not in time order "
                                 f"({created.isoformat()} after {previous.isoformat()})")
            previous = created
            yield Post(id=raw.id, text=raw.text, platform=raw.platform, created_at=created,
                       lang=raw.lang)


def checkpoints(events: dict[str, Any]) -> list[datetime]:
    """The events file's schedule: every `step_seconds` from `first` to `last`."""
    spec = events["checkpoints"]
    first = datetime.fromisoformat(spec["first"].replace("Z", "+00:00"))
    last = datetime.fromisoformat(spec["last"].replace("Z", "+00:00"))
    step = timedelta(seconds=int(spec.get("step_seconds", 3600)))
    out = []
    while first <= last:
        out.append(first)
        first += step
    return out


def run_line(checkpoint: datetime, topics: Iterable[Any], max_ids: int = 10) -> dict[str, Any]:
    """One run-file line: each topic's representatives first, then their copies, as
    evidence (distinct ids, at most `max_ids`)."""
    out = []
    for topic in topics:
        ids = [r.id for r in topic.representatives]
        for rep in topic.representatives:
            ids.extend(rep.duplicate_ids)
        out.append({"label": topic.label, "score": topic.score,
                    "post_ids": list(dict.fromkeys(ids))[:max_ids]})
    return {"checkpoint": checkpoint.strftime("%Y-%m-%dT%H:%M:%SZ"), "topics": out}


def replay(posts: Iterable[Post], schedule: list[datetime], store: Store, embedder: Embedder,
           service: TrendsService, *, window: timedelta, baseline: timedelta, limit: int,
           on_checkpoint: Any = None) -> tuple[list[dict[str, Any]], ReplayStats]:
    """Index `posts` in time order, ask the service at each checkpoint, return the run lines."""
    stats = ReplayStats()
    started = time.perf_counter()
    lines: list[dict[str, Any]] = []
    pending: list[Post] = []
    source = iter(posts)
    upcoming: Post | None = next(source, None)
    for checkpoint in schedule:
        while upcoming is not None and upcoming.created_at < checkpoint:
            pending.append(upcoming)
            upcoming = next(source, None)
            if len(pending) >= INDEX_BATCH:
                stats.index_seconds += _index(store, embedder, pending)
                stats.posts += len(pending)
                pending = []
        if pending:
            stats.index_seconds += _index(store, embedder, pending)
            stats.posts += len(pending)
            pending = []
        clock = time.perf_counter()
        result = service.trends(TrendsRequest(window=window, baseline=baseline, as_of=checkpoint,
                                              limit=limit))
        stats.trends_seconds += time.perf_counter() - clock
        stats.checkpoints += 1
        stats.topics += len(result.topics)
        lines.append(run_line(checkpoint, result.topics))
        if on_checkpoint is not None:
            on_checkpoint(checkpoint, result)
    stats.seconds = time.perf_counter() - started
    return lines, stats


def _index(store: Store, embedder: Embedder, posts: list[Post]) -> float:
    clock = time.perf_counter()
    store.upsert(posts, embedder.encode_documents([p.text for p in posts]))
    return time.perf_counter() - clock
