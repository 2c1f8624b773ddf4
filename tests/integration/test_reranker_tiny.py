"""CrossEncoderReranker on a tiny random cross-encoder: ranges, order, edge cases."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from search.errors import ModelLoadFailed
from search.rerank import CrossEncoderReranker, Reranker, rerank_within_budget

QUERY = "深圳 flooding"
TEXTS = [
    "Flooding hits Shenzhen tonight, roads closed and trains delayed",
    "深圳今天暴雨，交通受到严重影响，请市民减少出行",
    "lol",
    "The new phone launches in Berlin next week. Live updates at the link, RT if you care",
    "比特币 Bitcoin 热搜",
]


def test_implements_reranker(tiny_reranker: CrossEncoderReranker) -> None:
    assert isinstance(tiny_reranker, Reranker)
    assert re.fullmatch(r"bge-reranker:tiny-bge-reranker:[0-9a-f]{8}", tiny_reranker.model_id)


def test_scores_are_floats_in_unit_interval(tiny_reranker: CrossEncoderReranker) -> None:
    scores = tiny_reranker.score(QUERY, TEXTS)
    assert len(scores) == len(TEXTS)
    assert all(type(s) is float and 0.0 <= s <= 1.0 for s in scores)
    assert len({round(s, 6) for s in scores}) > 1  # random weights still tell texts apart


def test_one_text_gives_a_list_of_one(tiny_reranker: CrossEncoderReranker) -> None:
    scores = tiny_reranker.score(QUERY, TEXTS[:1])
    assert isinstance(scores, list) and len(scores) == 1
    assert scores[0] == pytest.approx(tiny_reranker.score(QUERY, TEXTS)[0], abs=1e-5)


def test_input_order_is_kept(tiny_reranker: CrossEncoderReranker) -> None:
    forward = tiny_reranker.score(QUERY, TEXTS)
    backward = tiny_reranker.score(QUERY, TEXTS[::-1])
    assert backward[::-1] == pytest.approx(forward, abs=1e-5)


def test_empty_list_gives_empty_list(tiny_reranker: CrossEncoderReranker) -> None:
    assert tiny_reranker.score(QUERY, []) == []


def test_works_inside_the_budgeted_stage(tiny_reranker: CrossEncoderReranker) -> None:
    outcome = rerank_within_budget(tiny_reranker, QUERY, TEXTS, batch_size=2, budget_ms=60_000)
    assert outcome.scores == pytest.approx(tiny_reranker.score(QUERY, TEXTS), abs=1e-5)


def test_hub_name_offline_fails_at_once_naming_the_model() -> None:
    started = time.perf_counter()
    with pytest.raises(ModelLoadFailed) as caught:
        CrossEncoderReranker("BAAI/bge-reranker-v2-m3", device="cpu")
    assert time.perf_counter() - started < 5
    assert str(caught.value) == (
        "cannot load the reranker `BAAI/bge-reranker-v2-m3`: there is no such local folder, "
        "it is not in the Hugging Face cache, and this machine cannot reach a model hub "
        "(HF_HUB_OFFLINE is set); download it on a machine with access and pass the local "
        "folder instead (for the server: TRENDSEARCH_RERANKER=/path/to/folder)"
    )


def test_two_loads_agree(tiny_reranker_path: Path,
                         tiny_reranker: CrossEncoderReranker) -> None:
    again = CrossEncoderReranker(str(tiny_reranker_path), device="cpu")
    assert again.model_id == tiny_reranker.model_id
    assert again.score(QUERY, TEXTS) == pytest.approx(tiny_reranker.score(QUERY, TEXTS), abs=1e-6)


def test_same_scores_as_flagreranker(tiny_reranker_path: Path,
                                     tiny_reranker: CrossEncoderReranker) -> None:
    """Our batching loop replaces FlagReranker.compute_score; it must not change the scores."""
    from FlagEmbedding import FlagReranker

    reference = FlagReranker(str(tiny_reranker_path), use_fp16=False, devices="cpu")
    expected = reference.compute_score([(QUERY, text) for text in TEXTS], batch_size=2,
                                       max_length=128, normalize=True)
    assert tiny_reranker.score(QUERY, TEXTS) == pytest.approx(expected, abs=1e-5)
