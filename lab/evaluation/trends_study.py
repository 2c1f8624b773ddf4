"""Trends knobs on the public streams without the store: `engine.detect` on in-memory slices.

Why: a replay through Qdrant Edge costs ~10 min on the overlap stream, most of it
indexing and reading back. This study reads each stream and its cached vectors
once, then for every checkpoint hands `detect` what `scroll_window` would read
(posts of [as_of - window - baseline, as_of), newest first, at most `max_posts`,
unit-length vectors as Qdrant stores them for cosine), and scores each knob set
with the unchanged scorer. It approximates the replay (equal timestamps may come
back in another order); shipped numbers come from `eval/trends/regenerate.sh`.

    python -m lab.evaluation.trends_study crisislex6_sparse '{}' '{"min_posts": 10}'

A variant's `"identity": false` runs without the last passes' traces; `"before17"` is the
engine as it was before issue 17 (no rhythm, voices, growth or identity). With
`--proxy lsa` the dense vectors are a 128-dimension LSA of the posts' label terms instead
of the model's: seconds instead of an hour of embedding when the cache is cold. A proxy
for comparing rules, never the product's numbers (those need the model's vectors).
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lab.trends_eval import score_run
from lab.trends_replay import checkpoints, read_stream, run_line
from search.embed.base import Embedder
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.trends import cluster, engine, identity, label, rhythm
from search.trends.models import TrendParams
from server.profiles import load_models
from server.settings import load_settings

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval" / "trends"
WINDOW_S = 3600.0
BASELINE_S = 48 * 3600.0


BEFORE_17 = {"rhythm_days": 0, "rhythm_weeks": 0, "min_voices": 1, "growth_doublings": 0,
             "identity": False}


def lsa(terms: list[frozenset[str]], dim: int = 128) -> npt.NDArray[np.float32]:
    """Unit-length LSA vectors of the posts' label terms (see the module docstring)."""
    from sklearn.decomposition import TruncatedSVD

    rows, _ = cluster.lexical_rows(terms)
    out: npt.NDArray[np.float32] = np.asarray(
        TruncatedSVD(n_components=dim, random_state=0).fit_transform(rows), dtype=np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def load(stream: str, proxy: str | None = None) -> tuple[engine.Corpus, dict[str, Any]]:
    """The whole stream, oldest first, with its cached vectors and label terms."""
    posts = list(read_stream(EVAL / "streams" / f"{stream}.jsonl"))
    events = json.loads((EVAL / "streams" / f"{stream}.events.json").read_text())
    terms = [label.post_terms(p.text) for p in posts]
    ts = np.asarray([p.created_at.timestamp() for p in posts], dtype=np.float64)
    if proxy == "lsa":
        return engine.Corpus(posts=posts, ts=ts, dense=lsa(terms), terms=terms), events
    settings = load_settings()
    embedder = load_models(settings).embedder
    # The dense half alone, cached as `eval-trends` caches it (the lexical half is not used).
    split = getattr(embedder, "dense", None)
    inner = split if isinstance(split, Embedder) else embedder
    cached = CachedEmbedder(inner, default_cache_dir(settings.data_path, inner.info.model_id))
    dense = cached.encode_documents([p.text for p in posts]).dense.astype(np.float32)
    dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)
    return engine.Corpus(posts=posts, ts=ts, dense=dense, terms=terms), events


def newest_first(corpus: engine.Corpus, since: float, until: float, limit: int) -> npt.NDArray[np.int64]:
    """Rows of [since, until), newest first, at most `limit`: what `scroll_window` reads."""
    lo = int(np.searchsorted(corpus.ts, since, side="left"))
    hi = int(np.searchsorted(corpus.ts, until, side="left"))
    return np.arange(hi - 1, lo - 1, -1)[:limit]


def history(corpus: engine.Corpus, now: float, params: TrendParams) -> engine.History | None:
    """The same span on previous days and weeks, as `TrendsService._history` reads it."""
    span = WINDOW_S * params.span_windows
    slots = rhythm.slots(span, params.rhythm_days, params.rhythm_weeks)
    if not slots or not params.rhythm_posts:
        return None
    parts = [(off, newest_first(corpus, now - off - span, now - off, params.rhythm_posts))
             for off in rhythm.offsets(slots)]
    rows = np.concatenate([r for _o, r in parts]).astype(np.int64)
    return engine.History(dense=corpus.dense[rows], terms=[corpus.terms[i] for i in rows],
                          offset_s=np.concatenate([np.full(len(r), o, dtype=np.int64)
                                                   for o, r in parts]))


# Checkpoints a worker replays before its share of the schedule, for the traces of the
# passes before it (identity); their lines are dropped.
WARM_UP = 6
_SHARED: dict[str, Any] = {}


def run(corpus: engine.Corpus, events: dict[str, Any], params: TrendParams,
        keep_identity: bool = True, workers: int = 1) -> list[dict[str, Any]]:
    """Every checkpoint's line; with `workers` > 1 the schedule is cut into that many runs
    of consecutive checkpoints, replayed in forked processes (each warmed up on the
    `WARM_UP` checkpoints before its first)."""
    schedule = checkpoints(events)
    if workers <= 1:
        return _run(corpus, schedule, params, keep_identity, 0)
    import multiprocessing

    _SHARED["args"] = (corpus, schedule, params, keep_identity)
    cuts = np.linspace(0, len(schedule), workers + 1).astype(int)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_part, list(itertools.pairwise(cuts.tolist())))
    return [line for part in parts for line in part]


def _part(bounds: tuple[int, int]) -> list[dict[str, Any]]:
    corpus, schedule, params, keep = _SHARED["args"]
    start = max(0, bounds[0] - WARM_UP)
    return _run(corpus, schedule[start:bounds[1]], params, keep, bounds[0] - start)


def _run(corpus: engine.Corpus, schedule: list[Any], params: TrendParams, keep_identity: bool,
         skip: int) -> list[dict[str, Any]]:
    lines = []
    memory = identity.Memory()
    for as_of in schedule:
        now = as_of.timestamp()
        rows = newest_first(corpus, now - WINDOW_S - BASELINE_S, now, params.max_posts + 1)
        truncated = len(rows) > params.max_posts
        rows = rows[:params.max_posts]
        part = engine.Corpus(posts=[corpus.posts[i] for i in rows], ts=corpus.ts[rows],
                             dense=corpus.dense[rows], terms=[corpus.terms[i] for i in rows],
                             truncated=truncated, history=history(corpus, now, params))
        topics, traces = engine.detect_traced(
            part, as_of=as_of, window_s=WINDOW_S, baseline_s=BASELINE_S, params=params,
            limit=10, previous=memory.previous(now, BASELINE_S) if keep_identity else ())
        memory.remember(now, traces, BASELINE_S)
        lines.append(run_line(as_of, topics))
    return lines[skip:]


def score(stream: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return score_run(EVAL / "scoring.py", EVAL / "streams" / f"{stream}.events.json", path)


def summary(scores: dict[str, Any]) -> str:
    ev = scores["events"]
    per = " ".join(f"{e['event'][5:12]}:{e['delay_h@10']}/{e['coverage24']}" for e in scores["per_event"])
    return (f"rec {ev['recall@10']} delay {ev['delay_h@10']['median']} P@10 {scores['precision@10']} "
            f"frag {scores['fragmentation']} label {ev['label_hit']} ({ev['label_hit_specific']}) "
            f"cov24 {ev['coverage24']} tpc {scores['topics_per_active_checkpoint']} | {per}")


def main(argv: list[str]) -> int:
    proxy = save = None
    workers = 1
    while argv[:1] in (["--proxy"], ["--save"], ["--workers"]):
        if argv[0] == "--proxy":
            proxy = argv[1]
        elif argv[0] == "--workers":
            workers = int(argv[1])
        else:
            save = Path(argv[1])
        argv = argv[2:]
    stream, variants = argv[0], argv[1:] or ["{}"]
    corpus, events = load(stream, proxy)
    for variant in variants:
        clock = time.perf_counter()
        knobs = dict(BEFORE_17) if variant == "before17" else json.loads(variant)
        keep = bool(knobs.pop("identity", True))
        lines = run(corpus, events, TrendParams(**knobs), keep, workers)
        scores = score(stream, lines)
        if save is not None:
            name = "".join(ch if ch.isalnum() else "_" for ch in variant)[:60]
            (save / f"{stream}.{name}.run.jsonl").write_text(
                "".join(json.dumps(line) + "\n" for line in lines))
        print(f"{stream} {variant} [{time.perf_counter() - clock:.0f} s] {summary(scores)}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
