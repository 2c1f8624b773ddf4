"""The Store contract, run against both back ends (Qdrant Edge and qdrant-client)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from migrations import MIGRATIONS, migrate, open_live
from search.contracts import ModelInfo
from search.embed.base import Embedder
from search.errors import IndexNotReady, ModelMismatch, StoreLocked
from search.models import Engagement, SearchFilters
from search.recall import RecallQuery, recall
from search.store.base import Store
from search.store.edge_catalog import EdgeCatalog
from tests.factories import BASE_TIME, corpus
from tests.integration.conftest import make_catalog


def recall_ids(store: Store, embedder: Embedder, text: str, filters: SearchFilters | None = None,
               fusion: str = "rrf") -> list[str]:
    enc = embedder.encode_queries([text])
    response = recall(store, RecallQuery(dense=enc.dense[0].tolist(), sparse=enc.sparse[0],
                                         filters=filters, fusion=fusion, rrf_k=60,  # type: ignore[arg-type]
                                         prefetch_limit=50, limit=50))
    return [post.id for _, post in response.fused]


def test_reindexing_the_same_posts_changes_nothing(filled_store: Store, tiny_embedder: Embedder) -> None:
    before = filled_store.count()
    posts = corpus()
    filled_store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    assert before == filled_store.count() == len(posts)


def test_get_returns_posts_in_request_order_and_skips_unknown(filled_store: Store) -> None:
    got = filled_store.get(["zh-2", "nope", "flood-1"])
    assert [p.id for p in got] == ["zh-2", "flood-1"]
    assert got[0].text == "春节放鞭炮是传统，但是污染太严重了"
    assert got[1].created_at == corpus()[0].created_at


@pytest.mark.parametrize(("filters", "expected"), [
    (SearchFilters(platform=["reddit"]), {"flood-3", "food-1"}),
    (SearchFilters(lang=["zh"]), {"zh-1", "zh-2", "zh-3", "zh-4"}),
    (SearchFilters(author=["user0"]), {"flood-1", "fire-1", "zh-1", "mix-1"}),
    (SearchFilters(min_likes=120), {"mix-1", "mix-2"}),
    (SearchFilters(has_image=True), {"flood-1", "fire-2", "zh-3"}),
    (SearchFilters(since=BASE_TIME - timedelta(hours=2)), {"mix-1", "mix-2"}),
    (SearchFilters(until=BASE_TIME - timedelta(hours=13)), {"flood-1", "flood-2"}),
    (SearchFilters(platform=["weibo"], min_comments=2), {"zh-1", "zh-4"}),
])
def test_filters_apply_to_recall_and_count(filled_store: Store, tiny_embedder: Embedder,
                                           filters: SearchFilters, expected: set[str]) -> None:
    assert set(recall_ids(filled_store, tiny_embedder, "flood", filters)) == expected
    assert filled_store.count(filters) == len(expected)


def test_recall_reports_each_signal_separately(filled_store: Store, tiny_embedder: Embedder) -> None:
    enc = tiny_embedder.encode_queries(["Calgary flood"])
    response = recall(filled_store, RecallQuery(dense=enc.dense[0].tolist(), sparse=enc.sparse[0],
                                                filters=None, fusion="dbsf", rrf_k=60,
                                                prefetch_limit=5, limit=8))
    assert len(response.dense) == 5
    assert len(response.fused) <= 8
    fused_ids = {sid.point_id for sid, _ in response.fused}
    assert fused_ids <= {s.point_id for s in response.dense} | {s.point_id for s in response.sparse}


def test_engagement_updates_without_touching_text(filled_store: Store) -> None:
    assert filled_store.update_engagement("zh-1", Engagement(likes=999, comments=5))
    post = filled_store.get(["zh-1"])[0]
    assert (post.likes, post.comments, post.reposts) == (999, 5, corpus()[8].reposts)
    assert filled_store.count(SearchFilters(min_likes=999)) == 1
    assert not filled_store.update_engagement("missing", Engagement(likes=1))


def test_deleted_posts_are_gone_from_every_read(filled_store: Store, tiny_embedder: Embedder) -> None:
    assert filled_store.delete(["flood-1", "missing"]) == 1
    assert filled_store.get(["flood-1"]) == []
    assert "flood-1" not in recall_ids(filled_store, tiny_embedder, "Calgary flood")
    assert filled_store.count() == len(corpus()) - 1


def test_scroll_returns_every_post_once(filled_store: Store) -> None:
    assert sorted(p.id for p in filled_store.scroll(batch_size=4)) == sorted(p.id for p in corpus())


def test_manifest_records_model_and_every_migration(filled_store: Store, tiny_embedder: Embedder) -> None:
    manifest = filled_store.manifest()
    assert manifest.model == tiny_embedder.info
    assert manifest.migrations == [m.id for m in MIGRATIONS]


def test_opening_with_another_model_names_both(catalog: Any, filled_store: Store,
                                               tiny_embedder: Embedder) -> None:
    other = ModelInfo(model_id="someone-elses-model", dense_dim=384, sparse_idf=True)
    with pytest.raises(ModelMismatch) as info:
        open_live(catalog, other, create=True)
    assert tiny_embedder.info.model_id in str(info.value)
    assert "someone-elses-model" in str(info.value)


def test_an_index_behind_the_code_must_be_migrated(catalog: Any, tiny_embedder: Embedder) -> None:
    store = catalog.create("partial")
    MIGRATIONS[0].upgrade(store, tiny_embedder.info)
    from search.contracts import IndexManifest
    store.write_manifest(IndexManifest(name="partial", model=tiny_embedder.info,
                                       created_at="2024-01-01", migrations=[MIGRATIONS[0].id]))
    catalog.activate("partial")
    with pytest.raises(IndexNotReady, match="run `trendsearch migrate`"):
        open_live(catalog, tiny_embedder.info, create=True)
    assert migrate(store, tiny_embedder.info, "partial") == [m.id for m in MIGRATIONS[1:]]
    assert open_live(catalog, tiny_embedder.info, create=False).manifest().migrations == [
        m.id for m in MIGRATIONS]


def test_a_second_process_on_the_same_edge_folder_gets_a_clear_error(tmp_path: Path) -> None:
    first = EdgeCatalog(tmp_path / "edge")
    try:
        with pytest.raises(StoreLocked, match="in use by another trendsearch process"):
            EdgeCatalog(tmp_path / "edge")
    finally:
        first.close()
    EdgeCatalog(tmp_path / "edge").close()


def test_recall_reusing_the_first_pass_lists_answers_as_searching_again(
        filled_store: Store, tiny_embedder: Embedder) -> None:
    """Feedback's second recall reuses the first pass's lists: same answer, two searches fewer."""
    enc = tiny_embedder.encode_queries(["Calgary flood"])
    first = RecallQuery(dense=enc.dense[0].tolist(), sparse=enc.sparse[0], filters=None,
                        fusion="rrf", rrf_k=60, prefetch_limit=10, limit=10, weights=(1.0, 0.3))
    moved = tiny_embedder.encode_queries(["river banks evacuation"])
    second = msgspec.structs.replace(first, feedback=(moved.dense[0].tolist(), moved.sparse[0]))
    searched = recall(filled_store, first)
    again = recall(filled_store, second)
    reused = recall(filled_store, second, (searched.dense, searched.sparse))
    assert again.fused == reused.fused
    for got, want in ((reused.dense, again.dense), (reused.sparse, again.sparse)):
        # Local mode's cosines differ in the last bits between a batch of 2 and of 4 searches.
        assert sorted((round(h.score, 5), h.point_id) for h in got) == sorted(
            (round(h.score, 5), h.point_id) for h in want)
    assert [p.id for _, p in again.fused] != [p.id for _, p in searched.fused]


class CountingStore:
    """The real store, counting the signal searches it is asked for."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.searched: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def search(self, signals: Any, *args: Any) -> Any:
        self.searched += [using for using, _ in signals]
        return self.store.search(signals, *args)


def test_a_signal_of_weight_zero_is_not_searched(filled_store: Store,
                                                 tiny_embedder: Embedder) -> None:
    enc = tiny_embedder.encode_queries(["Calgary flood"])
    counting = CountingStore(filled_store)
    base = RecallQuery(dense=enc.dense[0].tolist(), sparse=enc.sparse[0], filters=None,
                       fusion="rrf", rrf_k=60, prefetch_limit=10, limit=10, weights=(0.0, 1.0),
                       feedback=(enc.dense[0].tolist(), enc.sparse[0]), feedback_weights=(1.0, 0.0))
    response = recall(counting, base)  # type: ignore[arg-type]
    assert counting.searched == ["sparse", "dense"]
    assert response.dense == [] and response.sparse and response.fused
    nothing = recall(counting, msgspec.structs.replace(base, weights=(0.0, 0.0), feedback=None))  # type: ignore[arg-type]
    assert nothing.fused == [] and counting.searched == ["sparse", "dense"]


def test_a_relevance_search_with_feedback_runs_four_signal_searches(
        filled_store: Store, tiny_embedder: Embedder) -> None:
    """Feedback's second recall reuses the first pass's lists (same depth on page 1)."""
    from search.contracts import SearchParams, SearchRequest
    from search.pipeline import SearchPipeline

    counting = CountingStore(filled_store)
    pipeline = SearchPipeline(counting, tiny_embedder, None, SearchParams(rerank_depth=0))  # type: ignore[arg-type]
    result = pipeline.search(SearchRequest(query="Calgary flood", explain=True))
    assert "feedback" in result.hits[0].explain.fusion
    assert sorted(counting.searched) == ["dense", "dense", "sparse", "sparse"]


def test_posts_at_skips_points_it_does_not_hold(filled_store: Store) -> None:
    from search.store.payload import point_id

    known, gone = point_id("flood-1"), point_id("no-such-post")
    assert {pid: p.id for pid, p in filled_store.posts_at([known, gone]).items()} == {known: "flood-1"}
    assert filled_store.posts_at([]) == {}


def test_a_replica_stops_searching_once_another_moves_the_alias_to_another_model(
        tmp_path: Path, tiny_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Server back end: replica A serves the alias with its model; replica B (another
    process, here another serving handle) reindexes with another model and moves the alias.
    A's next search is refused with the model-mismatch error instead of searching its query
    vectors among another model's (checked at most every `SEARCH_MODEL_CHECK_S`)."""
    from search.store import server as server_store

    catalog = make_catalog("server", tmp_path)
    try:
        first = open_live(catalog, tiny_embedder.info, create=True)
        posts = corpus()
        encoded = tiny_embedder.encode_documents([p.text for p in posts])
        first.upsert(posts, encoded)
        replica = catalog.serving(catalog.live_name(), tiny_embedder.info.model_id)
        signals = [("dense", encoded.dense[0].tolist())]
        assert replica.search(signals, None, None, 3)[0]
        other = ModelInfo(model_id="another-model", dense_dim=tiny_embedder.info.dense_dim,
                          sparse_idf=True)
        moved = catalog.create("moved")
        migrate(moved, other, "moved")
        moved.upsert(posts, encoded)
        catalog.activate("moved")  # replica B's switch
        monkeypatch.setattr(server_store, "SEARCH_MODEL_CHECK_S", 0.0)
        with pytest.raises(ModelMismatch, match="another-model"):
            replica.search(signals, None, None, 3)
        # Throttled: within the interval the mismatch is raised again without reading the alias.
        monkeypatch.setattr(server_store, "SEARCH_MODEL_CHECK_S", 60.0)
        reads = []
        behind = replica._behind
        replica._behind = lambda: reads.append(1) or behind()
        for _ in range(2):
            with pytest.raises(ModelMismatch, match="another-model"):
                replica.search(signals, None, None, 3)
        assert reads == []
    finally:
        catalog.close()
