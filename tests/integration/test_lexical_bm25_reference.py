"""Lexical sparse vectors in a real Qdrant Edge shard score exactly as BM25.

The encoder writes only the term-frequency half of BM25 and trusts Qdrant's
IDF modifier for the rest; this test holds the pair to bm25s's Lucene variant
over the same tokens, on real tweets. bm25s "lucene" leaves out the constant
(k1 + 1) numerator (it does not change rankings), so its scores are scaled by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import bm25s
import numpy as np
import pytest
import qdrant_edge as qe

from search.embed.lexical import LexicalSparseEncoder
from search.text import tokenize

# Every 200th tweet of the crisislex6 evaluation corpus that has tokens (tests/data/README.md).
CORPUS = Path(__file__).resolve().parents[1] / "data" / "bm25" / "crisislex6_every200th.jsonl"
N_POSTS = 300
K1, B = 1.2, 0.75
QUERIES = [
    "Hurricane Sandy",
    "Alberta floods Calgary",
    "Boston Marathon bombing",
    "Oklahoma tornado",
    "Queensland floods",
    "West Texas fertilizer plant explosion",
    "#BostonStrong prayers",
    "power outage flooding in New York",
    "red cross donate",
]


@pytest.fixture(scope="module")
def posts() -> list[tuple[str, list[str]]]:
    """The 300 tweets as (text, tokens); the point id is the position."""
    with CORPUS.open(encoding="utf-8") as lines:
        out = [(text, tokenize(text)) for text in (json.loads(line)["text"] for line in lines)]
    # Qdrant's N counts only points that have the sparse vector: every tweet must have one.
    assert len(out) == N_POSTS and all(tokens for _, tokens in out)
    return out


@pytest.fixture(scope="module")
def shard(
    tmp_path_factory: pytest.TempPathFactory, posts: list[tuple[str, list[str]]]
) -> Iterator[qe.EdgeShard]:
    avg_len = sum(len(tokens) for _, tokens in posts) / len(posts)
    encoder = LexicalSparseEncoder(k1=K1, b=B, avg_len=avg_len)
    vectors = encoder.encode_documents([text for text, _ in posts])
    config = qe.EdgeConfig(
        sparse_vectors={"sparse": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}
    )
    edge = qe.EdgeShard.create(str(tmp_path_factory.mktemp("shard")), config)
    points = [
        qe.Point(
            id=point_id,
            vector={"sparse": qe.SparseVector(indices=vector.indices, values=vector.values)},
            payload={"text": text},
        )
        for point_id, ((text, _), vector) in enumerate(zip(posts, vectors, strict=True))
    ]
    edge.update(qe.UpdateOperation.upsert_points(points))
    yield edge
    edge.close()


@pytest.fixture(scope="module")
def reference(posts: list[tuple[str, list[str]]]) -> bm25s.BM25:
    retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
    retriever.index([tokens for _, tokens in posts], show_progress=False)
    return retriever


@pytest.mark.parametrize("query", QUERIES)
def test_top10_matches_reference_bm25(
    query: str, shard: qe.EdgeShard, reference: bm25s.BM25
) -> None:
    [vector] = LexicalSparseEncoder().encode_queries([query])
    hits = shard.query(
        qe.QueryRequest(
            limit=10,
            query=qe.Query.Nearest(
                qe.SparseVector(indices=vector.indices, values=vector.values), using="sparse"
            ),
            with_payload=True,
        )
    )
    known = [t for t in dict.fromkeys(tokenize(query)) if t in reference.vocab_dict]
    expected = (K1 + 1) * np.asarray(reference.get_scores(known), dtype=np.float64)
    top = np.argsort(-expected, kind="stable")[:10]
    top = top[expected[top] > 0]
    assert len(top) > 0, f"query {query!r} matches nothing in the sample: pick another"

    got_ids = [int(hit.id) for hit in hits]
    got_scores = [float(hit.score) for hit in hits]
    assert got_scores == pytest.approx(expected[top].tolist(), rel=1e-4)
    assert [expected[i] for i in got_ids] == pytest.approx(got_scores, rel=1e-4)
    # Ids must agree except where the reference itself ties at the cut-off.
    cutoff = expected[top[-1]] * (1 + 1e-4)
    assert {int(i) for i in top if expected[i] > cutoff} <= set(got_ids)
