"""Phrases and -exclusions through the real pipeline, on Qdrant Edge and qdrant-client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from migrations import MIGRATIONS, migrate, open_live
from search.contracts import IndexManifest, SearchParams, SearchRequest
from search.embed.base import Embedder
from search.errors import FieldError, IndexNotReady
from search.models import Post
from search.pipeline import SearchPipeline
from search.store import payload
from search.store.base import Store
from tests.factories import BASE_TIME, corpus
from tests.integration.conftest import make_catalog

EXTRA = [
    ("sport-2", "en", "twitter", "Sports clubs raise money for Calgary flood relief"),
    ("zh-5", "zh", "weibo", "深圳市交警开始查处电动车"),
    ("zh-6", "zh", "weibo", "电动车车主在广州上班"),
    ("bike-1", "en", "reddit", "My e-bike survived the Calgary flood"),
    ("bike-2", "en", "twitter", "Bike lanes under water in Calgary after the flood"),
]


def posts() -> list[Post]:
    extra = [Post(id=pid, text=text, platform=platform, lang=lang,
                  created_at=BASE_TIME - timedelta(minutes=30 + i))
             for i, (pid, lang, platform, text) in enumerate(EXTRA)]
    return corpus() + extra


def fill(store: Store, embedder: Embedder) -> Store:
    items = posts()
    store.upsert(items, embedder.encode_documents([p.text for p in items]))
    store.flush()
    return store


@pytest.fixture(scope="module", params=["edge", "server"])
def pipeline(request: pytest.FixtureRequest, tiny_embedder: Embedder,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchPipeline]:
    """One filled index per back end for the read-only tests of this module."""
    catalog = make_catalog(request.param, tmp_path_factory.mktemp("query"))
    store = fill(open_live(catalog, tiny_embedder.info, create=True), tiny_embedder)
    yield SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    catalog.close()


def ids(pipeline: SearchPipeline, query: str, **fields: object) -> set[str]:
    request = msgspec.convert({"query": query, "limit": 50, **fields}, SearchRequest)
    return {h.post.id for h in pipeline.search(request, now=BASE_TIME).hits}


def test_a_phrase_must_occur_in_order(pipeline: SearchPipeline) -> None:
    assert ids(pipeline, '"flood damage"') == {"flood-3"}
    assert ids(pipeline, '"damage flood"') == set()  # both words, wrong order
    assert ids(pipeline, 'Calgary "broke its banks"') == {"flood-2"}
    assert ids(pipeline, '“West Texas”') == {"fire-1", "fire-2"}


def test_a_phrase_matches_across_punctuation_not_inside_words(pipeline: SearchPipeline) -> None:
    assert ids(pipeline, '"texas explosion"') == {"fire-2"}  # "West Texas explosion:"
    assert ids(pipeline, '"e bike"') == {"bike-1"}  # "e-bike"
    assert ids(pipeline, '"flood"') >= {"flood-1", "flood-3", "bike-1"}
    assert "flood-2" not in ids(pipeline, '"flood"')  # "flooding" is another word


def test_an_exclusion_removes_posts_with_the_term_in_any_inflection(pipeline: SearchPipeline) -> None:
    everything = ids(pipeline, "Calgary flood")
    assert {"flood-1", "sport-2"} <= everything
    # "evacuation" and "evacuated" stem alike
    assert ids(pipeline, "Calgary flood -evacuation") == everything - {"flood-1", "quake-1"}
    assert ids(pipeline, "Calgary flood -sport") == everything - {"sport-2"}  # "Sports"
    assert ids(pipeline, "Calgary flood -#yycflood") == everything - {"flood-2"}


def test_a_multi_word_exclusion_needs_every_word(pipeline: SearchPipeline) -> None:
    found = ids(pipeline, "Calgary flood -e-bike")
    assert "bike-1" not in found and "bike-2" in found


def test_chinese_phrases_match_inside_jieba_words(pipeline: SearchPipeline) -> None:
    # jieba reads 深圳禁摩限电 as 深圳/禁摩/限电: 摩限 is no token, yet it is in the text
    assert ids(pipeline, '"摩限"') == {"zh-1"}
    assert ids(pipeline, "「禁摩限电」") == {"zh-1"}
    assert ids(pipeline, '"电动车"') == {"zh-1", "zh-5", "zh-6"}


def test_a_chinese_exclusion_drops_longer_words_that_contain_it(pipeline: SearchPipeline) -> None:
    # jieba reads 深圳市 as one word; the post still mentions 深圳
    assert ids(pipeline, '"电动车" -深圳') == {"zh-6"}


def test_phrases_exclusions_and_filters_combine(pipeline: SearchPipeline) -> None:
    assert ids(pipeline, '"Calgary" -evacuated', filters={"platform": ["twitter"]}) == {
        "flood-2", "sport-2", "bike-2"}
    assert ids(pipeline, '"Calgary" -evacuated -bike', filters={"platform": ["twitter"]},
               mode="latest") == {"flood-2", "sport-2"}


def test_a_query_with_nothing_to_search_for_names_the_field(pipeline: SearchPipeline) -> None:
    with pytest.raises(FieldError) as info:
        pipeline.search(SearchRequest(query="-sport"))
    assert info.value.field == "query"


def test_m0003_backfills_terms_on_an_index_built_by_earlier_steps(
        catalog: Any, tiny_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    store = catalog.create("old")
    for step in MIGRATIONS[:2]:
        step.upgrade(store, tiny_embedder.info)
    store.write_manifest(IndexManifest(name="old", model=tiny_embedder.info, created_at="2024-01-01",
                                       migrations=[m.id for m in MIGRATIONS[:2]]))
    before_terms = payload.to_payload
    # points as m0002 wrote them (both back ends build payloads through payload.with_history)
    monkeypatch.setattr("search.store.payload.to_payload", lambda post: {
        k: v for k, v in before_terms(post).items() if k != "terms"})
    fill(store, tiny_embedder)
    monkeypatch.undo()
    catalog.activate("old")
    with pytest.raises(IndexNotReady, match="0003_terms"):
        open_live(catalog, tiny_embedder.info, create=False)
    old = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    assert ids(old, '"flood damage"') == set()  # no terms yet: nothing can match

    assert migrate(store, tiny_embedder.info, "old") == [m.id for m in MIGRATIONS[2:]]
    assert store.manifest().migrations == [m.id for m in MIGRATIONS]
    live = open_live(catalog, tiny_embedder.info, create=False)
    after = SearchPipeline(live, tiny_embedder, None, SearchParams(rerank_depth=0))
    assert ids(after, '"flood damage"') == {"flood-3"}
    assert ids(after, '"电动车" -深圳') == {"zh-6"}
    assert store.count() == len(posts())
    assert migrate(store, tiny_embedder.info, "old") == []


def test_terms_stay_inside_the_store(pipeline: SearchPipeline) -> None:
    post = pipeline.store.get(["zh-1"])[0]
    assert isinstance(post, Post) and post.text == "深圳禁摩限电，电动车车主怎么上班？"
    assert all(isinstance(p, Post) for p in pipeline.store.scroll(batch_size=5))
    hit = pipeline.search(SearchRequest(query='"禁摩限电"'), now=BASE_TIME).hits[0]
    assert "terms" not in msgspec.to_builtins(hit)["post"]


@pytest.mark.parametrize("query", ["Calgary flood -evacuation", "Calgary flood -e-bike",
                                   '"电动车" -深圳', "Calgary flood -sport -#yycflood"])
def test_edge_excludes_alike_by_ids_and_by_terms(pipeline: SearchPipeline, query: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Edge turns exclusions held by few posts into point ids; both ways drop the same posts."""
    by_ids = ids(pipeline, query)
    monkeypatch.setattr("search.store.edge.MAX_EXCLUDED_IDS", 0)
    assert ids(pipeline, query) == by_ids
