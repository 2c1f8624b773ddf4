"""MiniLMEmbedder with the real packaged weights: the offline profile works as an Embedder."""

from __future__ import annotations

import numpy as np
import pytest

from search.embed.base import Embedder
from search.embed.lexical import LexicalSparseEncoder
from search.embed.minilm import MiniLMEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder(LexicalSparseEncoder())


def test_info_names_both_halves(minilm: MiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder)
    lexical_id = LexicalSparseEncoder().model_id
    assert minilm.info.model_id == f"minilm-l6-v2+{lexical_id}"
    assert minilm.info.dense_dim == 384
    assert minilm.info.sparse_idf is True


def test_paraphrase_is_closer_than_unrelated_text(minilm: MiniLMEmbedder) -> None:
    dense = minilm.encode_documents([
        "The hurricane flooded the subway tunnels in New York",
        "Storm water filled NYC metro stations after the hurricane",
        "My cat loves sleeping on the warm laptop keyboard",
    ]).dense
    assert dense.shape == (3, 384)
    assert dense.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(dense, axis=1), 1.0, atol=1e-5)
    assert dense[0] @ dense[1] > dense[0] @ dense[2] + 0.2


def test_order_kept_and_sparse_from_lexical(minilm: MiniLMEmbedder) -> None:
    texts = ["flood", "深圳禁摩限电 最新消息", "A much longer tweet about the power outage downtown"]
    forward = minilm.encode_queries(texts)
    backward = minilm.encode_queries(texts[::-1])
    np.testing.assert_allclose(forward.dense, backward.dense[::-1], atol=1e-5)
    assert forward.sparse == LexicalSparseEncoder().encode_queries(texts)


def test_empty_batch(minilm: MiniLMEmbedder) -> None:
    encoded = minilm.encode_documents([])
    assert encoded.dense.shape == (0, 384)
    assert encoded.sparse == []


def test_coverage_says_how_much_of_a_query_the_dense_model_knows(minilm: MiniLMEmbedder) -> None:
    english, chinese, mixed = minilm.encode_queries(["flood evacuation", "深圳禁摩限电",
                                                     "iPhone SE 价格"]).coverage or []
    assert english == 1.0
    assert chinese < 0.3
    assert chinese < mixed < english
    assert minilm.encode_documents(["x"]).coverage is None


def test_dense_half_caches_apart_from_the_lexical_settings(minilm: MiniLMEmbedder,
                                                           tmp_path) -> None:
    """The eval cache wraps `dense` alone: another BM25 setting must still hit it."""
    from search.embed.cache import CachedEmbedder

    texts = ["floods in Calgary", "深圳禁摩限电"]
    fresh = minilm.encode_documents(texts)
    cached = CachedEmbedder(minilm.dense, tmp_path)
    minilm.dense = cached
    try:
        first = minilm.encode_documents(texts)
        other = MiniLMEmbedder(LexicalSparseEncoder(avg_len=9.0))
        other.dense = CachedEmbedder(other.minilm, tmp_path)
        second = other.encode_documents(texts)
        assert other.dense.hits == 2 and other.dense.misses == 0
    finally:
        minilm.dense = minilm.minilm
    assert np.array_equal(first.dense, fresh.dense) and np.array_equal(second.dense, fresh.dense)
    assert first.sparse == fresh.sparse and second.sparse != fresh.sparse
    assert cached.info.model_id == "minilm-l6-v2"
