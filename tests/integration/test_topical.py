"""Trending's gate by the watches' rule (`search.topical`), on a real Qdrant Edge index with
vectors placed by hand: what counts for a query is decided relative to what is usual for it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from migrations import open_live
from search.contracts import Encoded, ModelInfo, SearchParams, SearchRequest
from search.models import Post, SparseVector
from search.store.edge_catalog import EdgeCatalog
from search.embed.base import Embedder
from search.pipeline import SearchPipeline
from search.store.base import Store
from search.store.payload import point_id
from search.topical import Topical, lexical_terms
from tests.factories import BASE_TIME, make_post

DIM = 256
MODEL = ModelInfo(model_id="hand-placed-256", dense_dim=DIM, sparse_idf=True)
QUERY_WORDS = [7, 9]  # the query's two words, as sparse indices
OTHER_WORD = 100


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _orthogonal(v: np.ndarray, to: np.ndarray) -> np.ndarray:
    """A direction as far from `to` as random posts are on average (cosine 0)."""
    return _unit(v - float(v @ to) * to)


def _post(post_id: str, minutes_ago: int) -> Post:
    return Post(id=post_id, text=post_id, lang="en", platform="reddit",
                created_at=BASE_TIME - timedelta(minutes=minutes_ago))


def _index(tmp_path: Path, rows: list[tuple[str, np.ndarray, list[int]]],
           ) -> tuple[EdgeCatalog, object]:
    catalog = EdgeCatalog(tmp_path / "edge")
    store = open_live(catalog, MODEL, create=True)
    posts = [_post(pid, i + 1) for i, (pid, _, _) in enumerate(rows)]
    dense = np.stack([v for _, v, _ in rows])
    sparse = [SparseVector(indices=words, values=[1.0] * len(words)) for _, _, words in rows]
    store.upsert(posts, Encoded(dense=dense, sparse=sparse))
    store.flush()
    return catalog, store


def test_a_post_counts_by_meaning_and_words_measured_against_the_query_usual(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    query = _unit(rng.normal(size=DIM))
    background = [(f"bg{i}", _unit(rng.normal(size=DIM)), [OTHER_WORD]) for i in range(60)]
    # A feed that is partly about the query already: close posts that hold its words. They
    # are left out of the calibration, or the query's closeness would look ordinary.
    story = [(f"story{i}", _unit(query + rng.normal(0, 0.25, size=DIM)), QUERY_WORDS)
             for i in range(40)]
    probes = [
        ("named", _unit(query + rng.normal(0, 0.3, size=DIM)), QUERY_WORDS),
        ("meaning-alone", _unit(query + rng.normal(0, 0.1, size=DIM)), [OTHER_WORD]),
        ("words-alone", _orthogonal(background[0][1], query), QUERY_WORDS),
        ("neither", _orthogonal(background[1][1], query), [OTHER_WORD]),
    ]
    catalog, store = _index(tmp_path, background + story + probes)
    try:
        gate = Topical(store)  # type: ignore[arg-type]
        sparse = SparseVector(indices=QUERY_WORDS, values=[1.0, 1.0])
        cal = gate.calibration(query, sparse, BASE_TIME)
        assert cal is not None and cal.dense is not None
        assert cal.dense.n == 60 + 2  # background and the two probes without the words
        verdicts = gate.verdicts([p for p, _, _ in probes], query, cal)
        assert {p: v.on_topic for (p, _, _), v in zip(probes, verdicts, strict=True)} == {
            "named": True, "meaning-alone": True, "words-alone": False, "neither": False}
        assert all(v.rule == "watch" and v.z is not None for v in verdicts)
        assert verdicts[2].terms == 2.0 and verdicts[3].terms == 0.0
        # Calibrated on every post instead, the story would set the usual: the median
        # would sit well above the background's.
        every = np.asarray([v for _, v, _ in background + story + probes]) @ query
        assert float(np.median(every)) > cal.dense.median + cal.dense.spread
    finally:
        catalog.close()


def test_lexical_evidence_is_the_idf_weighted_share_in_average_query_terms(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    # Word 7 is in half the feed, word 9 in one post: holding 9 is the stronger evidence.
    rows = [(f"p{i}", _unit(rng.normal(size=DIM)), [7] if i % 2 else [OTHER_WORD])
            for i in range(40)] + [("rare", _unit(rng.normal(size=DIM)), [9])]
    catalog, store = _index(tmp_path, rows)
    try:
        cal = Topical(store).calibration(  # type: ignore[arg-type]
            _unit(rng.normal(size=DIM)), SparseVector(indices=[7, 9], values=[1.0, 1.0]),
            BASE_TIME)
        assert cal is not None
        common = lexical_terms(SparseVector(indices=[7], values=[1.0]), cal)
        rare = lexical_terms(SparseVector(indices=[9], values=[1.0]), cal)
        both = lexical_terms(SparseVector(indices=[7, 9], values=[1.0, 1.0]), cal)
        assert 0 < common < 1 < rare < 2 and both == 2.0
    finally:
        catalog.close()


def test_too_few_posts_to_calibrate_leaves_the_decision_to_the_caller(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = [(f"p{i}", _unit(rng.normal(size=DIM)), QUERY_WORDS) for i in range(5)]
    catalog, store = _index(tmp_path, rows)
    try:
        assert Topical(store).calibration(  # type: ignore[arg-type]
            _unit(rng.normal(size=DIM)), SparseVector(indices=QUERY_WORDS, values=[1.0, 1.0]),
            BASE_TIME) is None
    finally:
        catalog.close()


WORDS = ["flood", "bridge", "river", "storm", "school", "exam", "campus", "vote", "market", "train"]


def _feed(n: int, start_minutes: int) -> list[Post]:
    return [make_post(id=f"f{start_minutes}-{i}",
                      text=f"{WORDS[i % 10]} {WORDS[(3 * i + 1) % 10]} {WORDS[(i // 10) % 10]} "
                           f"note {i}",
                      created_at=BASE_TIME - timedelta(minutes=start_minutes + i),
                      comments=i % 7) for i in range(n)]


def test_trending_pages_decide_the_gate_with_page_one_calibration(
        catalog: Any, tiny_embedder: Embedder) -> None:
    """A backfill moves the query's calibration; the next page still weighs each post's
    meaning and words with page 1's numbers (carried in the cursor), so no post changes tier."""
    store: Store = open_live(catalog, tiny_embedder.info, create=True)
    feed = _feed(60, 5)
    store.upsert(feed, tiny_embedder.encode_documents([p.text for p in feed]))
    store.flush()
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    ask = SearchRequest(query="flood bridge", mode="trending", limit=5, as_of=BASE_TIME,
                        explain=True)
    first = pipeline.search(ask)
    assert first.next_cursor is not None
    assert all(h.explain.on_topic_rule == "watch" and h.explain.topic_z is not None
               for h in first.hits)
    verdicts = [h.explain.on_topic for h in first.hits]
    assert verdicts == sorted(verdicts, reverse=True)  # counting posts come first
    encoded = tiny_embedder.encode_queries(["flood bridge"])
    before = pipeline.topical.calibration(encoded.dense[0], encoded.sparse[0], BASE_TIME)
    assert before is not None

    backfill = [make_post(id=f"late{i}", text=f"market vote train exam {i}",
                          created_at=BASE_TIME - timedelta(hours=3, minutes=i))
                for i in range(40)]
    store.upsert(backfill, tiny_embedder.encode_documents([p.text for p in backfill]))
    store.flush()
    pipeline.topical._samples.clear()
    after = pipeline.topical.calibration(encoded.dense[0], encoded.sparse[0], BASE_TIME)
    assert after is not None and after.dense != before.dense  # the backfill moved it

    second = pipeline.search(msgspec.structs.replace(ask, cursor=first.next_cursor))
    assert second.hits and not {h.post.id for h in second.hits} & {h.post.id for h in first.hits}
    stored = store.vectors([point_id(h.post.id) for h in second.hits])
    assert before.dense is not None
    for hit in second.hits:
        dense, sparse = stored[point_id(hit.post.id)]
        cosine = float(np.dot(np.asarray(dense, dtype=np.float32), encoded.dense[0]))
        assert hit.explain.topic_z == round((cosine - before.dense.median) / before.dense.spread, 3)
        assert hit.explain.topic_terms == round(lexical_terms(sparse, before), 3)
