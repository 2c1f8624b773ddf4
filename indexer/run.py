"""Files -> validated posts -> embeddings -> the store, in bounded batches.

A bad record never stops a run: it goes to the rejects file with its line,
field and problem, and the good records around it are indexed. So does a
second record with an id seen earlier in the run (it would overwrite the first
and be counted twice). Memory is one batch plus the ids seen (about 100 bytes
a post), whatever the file size. Timings are kept per stage so the summary
shows where the time went (embedding, almost always).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from indexer.sources import cells_are_text, read_any
from indexer.takedowns import Takedowns
from indexer.validate import to_post
from search.embed.base import Embedder
from search.errors import FieldError
from search.log import log
from search.models import Post
from search.store.base import Store


class IndexSummary(msgspec.Struct):
    indexed: int = 0
    rejected: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = {}
    rejects_file: str | None = None

    @property
    def posts_per_s(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0


def write_batch(store: Store, embedder: Embedder, posts: Sequence[Post],
                stage_seconds: dict[str, float] | None = None,
                observed_at: float | None = None) -> None:
    """Embed and upsert one batch; the unit both the CLI and the API use. `observed_at`:
    when the counts were read (default now; a replay passes its own clock)."""
    if not posts:
        return
    started = time.perf_counter()
    encoded = embedder.encode_documents([p.text for p in posts])
    embedded = time.perf_counter()
    store.upsert(posts, encoded, observed_at=observed_at)
    if stage_seconds is not None:
        stage_seconds["embed"] = stage_seconds.get("embed", 0.0) + embedded - started
        stage_seconds["upsert"] = stage_seconds.get("upsert", 0.0) + time.perf_counter() - embedded


def _batches(records: Iterable[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in records:
        batch.append(post)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Rejects:
    """Opened on the first reject only, so a clean run leaves no empty file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def write(self, source: Path, error: FieldError, record: Any) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("wb")
        self._fh.write(msgspec.json.encode({"file": str(source), **error.as_dict(),
                                            "record": record}, enc_hook=str) + b"\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def index_files(paths: Sequence[Path], store: Store, embedder: Embedder, *, batch_size: int = 64,
                rejects_path: Path | None = None, show_progress: bool = True,
                takedowns: Takedowns | None = None) -> IndexSummary:
    """Index files in batches; a taken-down id is a reject (`indexer.takedowns`)."""
    summary = IndexSummary(stage_seconds={"read": 0.0, "embed": 0.0, "upsert": 0.0},
                           rejects_file=str(rejects_path) if rejects_path else None)
    rejects = _Rejects(rejects_path)
    started = time.perf_counter()
    progress = Progress(TextColumn("[bold]indexing[/] {task.description}"), BarColumn(),
                        TextColumn("{task.fields[done]} posts, {task.fields[rate]:.0f} posts/s, "
                                   "{task.fields[bad]} rejected"),
                        TimeElapsedColumn(), disable=not show_progress, transient=False,
                        redirect_stdout=False, redirect_stderr=False)

    seen: dict[str, tuple[str, int]] = {}  # id -> (file, line) of its first record

    def valid_posts(path: Path) -> Iterator[Post]:
        for line, record in read_any(path):
            t0 = time.perf_counter()
            try:
                if isinstance(record, FieldError):
                    raise record
                post = to_post(record, line=line, strict=not cells_are_text(path))
                if takedowns is not None and post.id in takedowns:
                    raise takedowns.refusal(post.id)
                if post.id in seen:
                    first_file, first_line = seen[post.id]
                    where = "" if first_file == str(path) else f" of {first_file}"
                    raise FieldError("id", f"the id of line {first_line}{where} again; the first "
                                           f"record is kept")
                seen[post.id] = (str(path), line)
            except FieldError as error:
                error.line = line
                rejects.write(path, error, record if not isinstance(record, FieldError) else None)
                summary.rejected += 1
                log("index.reject", file=str(path), **error.as_dict())
                continue
            finally:
                summary.stage_seconds["read"] += time.perf_counter() - t0
            yield post

    try:
        with progress:
            for path in paths:
                task = progress.add_task(path.name, total=None, done=0, rate=0.0,
                                         bad=summary.rejected)
                for batch in _batches(valid_posts(path), batch_size):
                    write_batch(store, embedder, batch, summary.stage_seconds)
                    summary.indexed += len(batch)
                    elapsed = time.perf_counter() - started
                    progress.update(task, done=summary.indexed, rate=summary.indexed / elapsed,
                                    bad=summary.rejected)
                    log("index.batch", file=path.name, posts=len(batch), total=summary.indexed)
        store.flush()
    finally:
        rejects.close()
    summary.seconds = time.perf_counter() - started
    log("index.done", indexed=summary.indexed, rejected=summary.rejected,
        seconds=round(summary.seconds, 2), posts_per_s=round(summary.posts_per_s, 1),
        **{f"{k}_s": round(v, 2) for k, v in summary.stage_seconds.items()})
    return summary
