"""`trendsearch eval` in-process on tiny BEIR sets: real Qdrant Edge, tiny models, ranx."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lab.evaluation import evaluate
from lab.evaluation.beir import Doc
from lab.evaluation.trending import Replay
from migrations import open_live
from search.contracts import SearchParams
from search.embed.base import Embedder
from search.rerank import Reranker
from search.store.edge_catalog import EdgeCatalog
from tests.factories import make_post

METRIC_KEYS = {"ndcg@10", "recall@100", "recall@1000", "mrr@10", "ms_per_query"}
EXTRA_KEYS = {"note", "stages_ms", "requests_per_query", "page_duplicates"}
PLAIN_CONFIGS = {"bm25", "sparse", "dense", "hybrid-rrf", "hybrid-dbsf", "hybrid+rerank",
                 "shipped"}

DOCS = [
    ("zebra", "", "zebra crossing painted purple by night"),
    ("flood-1", "Flood evacuation", "flood evacuation ordered in Calgary"),
    ("flood-2", "", "flood waters rising downtown, more evacuations tonight"),
    ("flood-3", "", "sandbags and volunteers at the river, flood warning stays"),
    ("fire-1", "", "explosion at the fertilizer plant, many injured"),
    ("fire-2", "", "firefighters injured in the plant explosion"),
    ("food-1", "", "dumplings recipe with pork and cabbage"),
    ("food-2", "", "the best noodle soup in town"),
    ("sport-1", "", "what a goal in the final minute"),
    ("sport-2", "", "the match went to penalties"),
    ("misc-1", "", "my cat sleeps all day"),
    ("misc-2", "", "new phone, old habits"),
]
QRELS = [("zebra", "zebra", 1), ("flood", "flood-1", 2), ("flood", "flood-2", 1),
         ("flood", "flood-3", 1), ("flood", "fire-1", 0), ("unjudged", "misc-1", 0)]


def write_set(folder: Path, docs: list[dict[str, Any]], queries: list[dict[str, Any]],
              qrels: list[tuple[str, str, int]], **extra_files: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in qrels))
    for name, text in extra_files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def plain_set(tmp_path: Path) -> Path:
    docs = [{"_id": i, "title": t, "text": x, "created_at": None, "lang": "en",
             "platform": "twitter"} for i, t, x in DOCS]
    queries = [{"_id": "zebra", "text": "zebra purple"},
               {"_id": "flood", "text": "flood evacuation"},
               {"_id": "unjudged", "text": "cat"}]
    variant = "".join(json.dumps(q) + "\n" for q in [{"_id": "zebra", "text": "purple zebra"},
                                                     {"_id": "flood", "text": "river flood"}])
    return write_set(tmp_path / "tinyset", docs, queries, QRELS, **{"queries_en.jsonl": variant})


def run(dirs: list[Path], embedder: Embedder, reranker: Reranker | None,
        **kwargs: Any) -> Any:
    return evaluate(dirs, embedder=embedder, reranker=reranker, params=SearchParams(),
                    profile="tiny", show_progress=False, **kwargs)


def test_json_shape_keys_and_metric_ranges(plain_set: Path, tiny_embedder: Embedder,
                                           tiny_reranker: Reranker) -> None:
    evaluation = run([plain_set], tiny_embedder, tiny_reranker)
    document = json.loads(json.dumps(evaluation.to_json()))
    assert set(document) == {"datasets", "profile"}
    assert set(document["datasets"]) == {"tinyset", "tinyset[queries_en]"}
    for entry in document["datasets"].values():
        assert set(entry) == {"n_docs", "n_queries", "configs"}
        assert (entry["n_docs"], entry["n_queries"]) == (12, 2)  # "unjudged" has no relevant doc
        assert set(entry["configs"]) == PLAIN_CONFIGS
        for name, config in entry["configs"].items():
            assert set(config) >= METRIC_KEYS and set(config) - METRIC_KEYS <= EXTRA_KEYS, name
            for metric in METRIC_KEYS - {"ms_per_query"}:
                assert isinstance(config[metric], float) and 0.0 <= config[metric] <= 1.0
            assert config["ms_per_query"] > 0
        shipped = entry["configs"]["shipped"]
        assert set(shipped["stages_ms"]) >= {"embed", "recall", "rerank"}
        assert shipped["requests_per_query"] == 1  # a dozen posts fit on the first page
    profile = document["profile"]
    assert profile["name"] == "tiny"
    assert profile["embedder"]["model_id"] == tiny_embedder.info.model_id
    assert profile["reranker"] == tiny_reranker.model_id
    assert {"bm25s", "ranx", "qdrant-edge-py"} <= set(profile["versions"])


def test_exact_match_scores_one_and_runs_hold_only_corpus_ids(
        plain_set: Path, tiny_embedder: Embedder) -> None:
    evaluation = run([plain_set], tiny_embedder, None)
    main = next(r for r in evaluation.results if r.name == "tinyset")
    # Only the zebra post holds "zebra" and "purple": BM25 ranks it first and alone; the
    # graded flood query has the three flood posts on top, the grade-2 one first.
    # (The tiny profile's sparse signal is a random learned head, not BM25.)
    assert main.runs["bm25"]["zebra"] == ["zebra"]
    assert main.runs["bm25"]["flood"][:3] == ["flood-1", "flood-2", "flood-3"]
    bm25 = main.configs["bm25"].metrics
    assert (bm25["ndcg@10"], bm25["mrr@10"], bm25["recall@100"]) == (1.0, 1.0, 1.0)
    corpus = {d[0] for d in DOCS}
    for config, per_query in main.runs.items():
        assert set(per_query) == {"zebra", "flood"}
        for ids in per_query.values():
            assert set(ids) <= corpus and len(ids) == len(set(ids)), config
    rerank = main.configs["hybrid+rerank"]
    assert rerank.note == "no reranker in this profile: identical to hybrid-rrf"
    assert main.runs["hybrid+rerank"] == main.runs["hybrid-rrf"]


def test_only_named_variants_run_when_queries_given(plain_set: Path,
                                                    tiny_embedder: Embedder) -> None:
    (plain_set / "queries_fr.jsonl").write_text('{"_id": "zebra", "text": "zèbre violet"}\n')
    assert [r.name for r in run([plain_set], tiny_embedder, None).results] == [
        "tinyset", "tinyset[queries_en]", "tinyset[queries_fr]"]
    assert [r.name for r in run([plain_set], tiny_embedder, None,
                                queries=["queries_fr"]).results] == [
        "tinyset", "tinyset[queries_fr]"]


# -- time-aware sets -------------------------------------------------------------
T0 = "2024-05-01T00:00:00Z"
T1 = "2024-05-02T00:00:00Z"


@pytest.fixture
def timed_set(tmp_path: Path) -> Path:
    docs = [
        {"_id": "old", "title": "", "text": "storm warning for the coast", "platform": "reddit",
         "created_at": "2024-04-29T10:00:00Z", "lang": "en", "comments": 999},
        {"_id": "a", "title": "", "text": "storm hits the coast tonight", "platform": "reddit",
         "created_at": "2024-04-30T20:00:00Z", "lang": "en"},
        {"_id": "b", "title": "Storm", "text": "storm damage pictures", "platform": "reddit",
         "created_at": "2024-04-30T22:00:00Z", "lang": "en"},
        {"_id": "c", "title": "", "text": "storm storm storm coast", "platform": "reddit",
         "created_at": T0, "lang": "en"},  # created exactly at the first as_of: not visible
        {"_id": "d", "title": "", "text": "storm over, cleanup begins on the coast",
         "platform": "reddit", "created_at": "2024-05-01T12:00:00Z", "lang": "en"},
        {"_id": "e", "title": "", "text": "recipes for a rainy day", "platform": "reddit",
         "created_at": "2024-04-30T21:00:00Z", "lang": "en"},
    ]
    queries = [{"_id": "storm@1", "text": "storm coast", "as_of": T0},
               {"_id": "storm@2", "text": "storm coast", "as_of": T1}]
    qrels = [("storm@1", "a", 1), ("storm@1", "b", 3), ("storm@2", "c", 2), ("storm@2", "d", 1)]
    engagement = ("as_of\tcorpus-id\tn_comments\n"
                  f"{T1}\ta\t7\n{T0}\ta\t2\n{T0}\tb\t5\n{T1}\td\t1\n")
    return write_set(tmp_path / "timed", docs, queries, qrels,
                     **{"engagement_as_of.tsv": engagement})


def test_time_aware_set_hides_later_posts_and_replays_engagement_in_order(
        timed_set: Path, tiny_embedder: Embedder, tiny_reranker: Reranker) -> None:
    evaluation = run([timed_set], tiny_embedder, tiny_reranker)
    (result,) = evaluation.results
    assert set(result.configs) == PLAIN_CONFIGS | {"recency", "trending"}
    assert (result.n_docs, result.n_queries) == (6, 2)
    for config, per_query in result.runs.items():
        # "c" (created exactly at T0) and "d" (after) match the query best, and must not exist yet.
        assert not {"c", "d"} & set(per_query["storm@1"]), config
        assert set(per_query["storm@2"]) <= {"old", "a", "b", "c", "d", "e"}
    assert {"c", "d"} <= set(result.runs["bm25"]["storm@2"])
    steps = evaluation.replays["timed"]
    assert [s.as_of for s in steps] == [datetime(2024, 5, 1, tzinfo=UTC),
                                        datetime(2024, 5, 2, tzinfo=UTC)]
    # T0: old, a, e, b visible; a 0->2, b 0->5. T1: c, d arrive; a 2->7, d 0->1, and b
    # 5->0 (no row at T1 means 0 comments then: reset, not kept). "old" never gets its
    # corpus count (999): a final total would leak the future.
    assert [(s.visible, s.ingested, s.updated, s.reset) for s in steps] == [
        (4, 4, 2, 0), (6, 2, 3, 1)]
    # BM25 prefers the short, 38 h old post; x 12 h decay prefers the 4 h old one.
    assert result.runs["bm25"]["storm@1"][0] == "old"
    assert result.runs["recency"]["storm@1"][0] == "a"


def test_replay_applies_counts_in_as_of_order_and_resets_absent_posts(
        tmp_path: Path, tiny_embedder: Embedder) -> None:
    catalog = EdgeCatalog(tmp_path / "edge")
    try:
        store = open_live(catalog, tiny_embedder.info, create=True)
        posts = [make_post(id=f"p{i}", text=f"post number {i}",
                           created_at=datetime(2024, 5, 1, hour, tzinfo=UTC))
                 for i, hour in enumerate((0, 1, 3))]
        docs = [Doc(corpus_id=f"c{i}", post=p) for i, p in enumerate(posts)]
        t1, t2, t3 = (datetime(2024, 5, 1, h, 30, tzinfo=UTC) for h in (0, 1, 2))
        table = {t1: {"c0": 3}, t2: {"c0": 4, "c1": 1}, t3: {"c1": 2, "c2": 9}}
        replay = Replay(store, tiny_embedder, docs, table, batch_size=2)
        comments = []
        for moment in (t1, t2, t3):
            replay.advance(moment)
            comments.append({p.id: p.comments for p in store.get(["p0", "p1", "p2"])})
        # Ingested as of its creation, then every count observed at a moment is a snapshot
        # taken at that moment (not the wall clock's), the reset included.
        history = {pid: [(s[0], s[3]) for s in payload["history"]]
                   for pid, payload in store.payloads(["p0", "p1"], ["history"]).items()}
        ts = [t.timestamp() for t in (t1, t2, t3)]
        created = [p.created_at.timestamp() for p in posts]
        assert history["p0"] == [(created[0], 0), (ts[0], 3), (ts[1], 4), (ts[2], 0)]
        assert history["p1"] == [(created[1], 0), (ts[1], 1), (ts[2], 2)]
        assert comments == [{"p0": 3}, {"p0": 4, "p1": 1}, {"p0": 0, "p1": 2}]
        assert [s.ignored for s in replay.steps] == [0, 0, 1]  # p2 is created after t3
        assert [s.visible for s in replay.steps] == [1, 2, 2]
        with pytest.raises(ValueError, match="forward only"):
            replay.advance(t1)
    finally:
        catalog.close()


def test_cli_writes_json_and_markdown_and_reruns_from_the_cache(
        plain_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    out = tmp_path / "out" / "results.json"
    assert main(["eval", str(plain_set), "--output", str(out), "--queries", "queries_en"]) == 0
    first = capsys.readouterr()
    assert "| shipped |" in first.out and "## tinyset[queries_en]" in first.out
    assert "12 misses" in first.err
    assert set(json.loads(out.read_text())["datasets"]) == {"tinyset", "tinyset[queries_en]"}
    assert out.with_suffix(".md").read_text() == first.out
    assert list((tmp_path / "data" / "embed-cache").glob("*/embeddings.sqlite"))
    assert main(["eval", str(plain_set), "--output", str(out)]) == 0
    assert "12 hits, 0 misses" in capsys.readouterr().err
    assert main(["eval", str(plain_set), "--queries", "queries_xx"]) == 2
    assert "--queries" in capsys.readouterr().err
