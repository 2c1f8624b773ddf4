"""The offline profile's move from MiniLM to multilingual-e5-small, on a real index.

An index built by the old offline profile (MiniLM) must be refused at start-up
with the model-mismatch error; `trendsearch reindex` must move its posts to e5;
the demo, whose index is the sample's, builds the new index itself. Real weights
on both sides, a handful of posts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrations import open_live
from search.contracts import SearchRequest
from search.embed.lexical import LexicalSparseEncoder
from search.embed.minilm import MiniLMEmbedder
from search.errors import ModelMismatch
from search.store.edge_catalog import EdgeCatalog
from server.cli import main
from server.cli.serve import demo_index
from server.live_profile import recorded
from server.profiles import load_models
from server.services import Services
from server.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

POSTS = [
    {"id": "w1", "text": "今年春节放鞭炮吗？深圳市区全面禁止燃放烟花爆竹", "platform": "weibo",
     "created_at": "2016-02-01T09:00:00+08:00"},
    {"id": "w2", "text": "开放二胎后，很多家庭开始考虑生第二个孩子", "platform": "weibo",
     "created_at": "2016-02-02T09:00:00+08:00"},
    {"id": "w3", "text": "俄罗斯空军在叙利亚打击极端组织目标", "platform": "weibo",
     "created_at": "2016-02-03T09:00:00+08:00"},
    {"id": "t1", "text": "Happy new year to everyone!", "platform": "twitter",
     "created_at": "2016-02-04T09:00:00Z"},
]


def background() -> list[dict[str, object]]:
    """Sample posts on other stories (none about fireworks): an index a search can rank
    in, larger than the 10 posts feedback reads."""
    lines = (REPO / "data" / "sample" / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    posts = [json.loads(line) for line in lines]
    return [p for p in posts if not any(w in str(p["text"]) for w in ("鞭炮", "烟花", "爆竹",
                                                                       "春节", "firework"))
            ][::150][:30]


@pytest.fixture
def minilm_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder whose live index the old offline profile built."""
    data = tmp_path / "data"
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(data))
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "offline")
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in POSTS + background())
                     + "\n", encoding="utf-8")
    from indexer.run import index_files

    minilm = MiniLMEmbedder(LexicalSparseEncoder())
    catalog = EdgeCatalog(data / "edge")
    try:
        store = open_live(catalog, minilm.info, create=True)
        index_files([posts], store, minilm, show_progress=False)
    finally:
        catalog.close()
    return data


def test_a_minilm_index_is_refused_at_start_up(minilm_index: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "春节放鞭炮"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("trendsearch: error: the index at ")
    assert "was built with embedding model `minilm-l6-v2+lexical-bm25" in err
    assert "but this process runs `multilingual-e5-small-q4:" in err
    assert err.endswith("build a new index with `trendsearch reindex` (searches keep using the "
                        "old one until it is done)")


def test_reindex_moves_it_to_e5_and_cross_lingual_search_works(
        minilm_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reindex"]) == 0
    total = len(POSTS) + len(background())
    assert f"reindexed {total} posts from " in capsys.readouterr().out
    catalog = EdgeCatalog(minilm_index / "edge")
    try:
        e5 = load_models(load_settings()).embedder
        store = open_live(catalog, e5.info, create=False)
        assert store.count() == total
        assert store.manifest().model.model_id.startswith("multilingual-e5-small-q4:")
        # The next start that names no profile runs the one that rebuilt it.
        entry = recorded(minilm_index)
        assert entry is not None and entry.profile == "offline"
        assert entry.model == store.manifest().model.model_id
        with pytest.raises(ModelMismatch):
            open_live(catalog, MiniLMEmbedder(LexicalSparseEncoder()).info, create=False)
    finally:
        catalog.close()
    services = Services.build(load_settings())
    try:
        chinese = services.pipeline.search(SearchRequest(query="春节放鞭炮"))
        english = services.pipeline.search(SearchRequest(
            query="setting off firecrackers at Spring Festival"))
    finally:
        services.close()
    assert chinese.hits[0].post.id == "w1"
    # English words, Chinese post: only the dense side can find it. Among mostly English
    # posts e5 favours its own language by a hair (0.787 for the answer, 0.790-0.792 for
    # two unrelated English tweets), so it is found near the top, not first
    # (docs/decisions/0024-multilingual-default.md, "Consequences").
    assert "w1" in [hit.post.id for hit in english.hits[:3]]


def test_the_demo_builds_the_new_index_beside_an_old_one(
        minilm_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings()
    models = load_models(settings)
    sample = tmp_path / "sample.jsonl"
    sample.write_text(json.dumps(POSTS[0], ensure_ascii=False) + "\n", encoding="utf-8")
    demo_index(settings, models, sample)
    err = capsys.readouterr().err
    assert "the live index was built with `minilm-l6-v2+lexical-bm25" in err
    assert "(the old one is kept)" in err and "indexed 1 sample posts" in err
    catalog = EdgeCatalog(minilm_index / "edge")
    try:
        assert len(catalog.names()) == 2
        assert open_live(catalog, models.embedder.info, create=False).count() == 1
    finally:
        catalog.close()
    demo_index(settings, models, sample)  # the second run finds it done
    assert "sample already indexed (1 posts)" in capsys.readouterr().err
