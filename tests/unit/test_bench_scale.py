"""The bench's synthetic posts: one index grows in chunks, so chunks must not depend on
how a run was cut, and stories must stay matchable as the index grows."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import numpy as np
import pytest

from lab.bench.scale import synthetic_chunk
from lab.cli import _sizes
from search.models import Post


def sample() -> tuple[list[Post], np.ndarray]:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(5, 32)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    posts = [Post(id=f"p{i}", text=f"flood evacuation river {i} bridge closed downtown",
                  platform="twitter", lang="en" if i % 2 else "zh",
                  created_at=datetime(2024, 1, 1, tzinfo=UTC)) for i in range(5)]
    return posts, dense


def test_a_chunk_is_the_same_whichever_run_made_it() -> None:
    posts, dense = sample()
    a, va = synthetic_chunk(posts, dense, 100, 10)
    b, vb = synthetic_chunk(posts, dense, 100, 10)
    assert [p.id for p in a] == [f"syn-{i}" for i in range(100, 110)]
    assert [p.text for p in a] == [p.text for p in b] and np.array_equal(va, vb)
    c, _ = synthetic_chunk(posts, dense, 110, 10)
    assert {p.id for p in a}.isdisjoint(p.id for p in c)


def test_variants_stay_close_to_a_sample_post_in_words_and_meaning() -> None:
    posts, dense = sample()
    made, vectors = synthetic_chunk(posts, dense, 0, 200)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    best = (vectors @ dense.T).max(axis=1)
    assert best.min() > 0.98  # noise of norm ~0.1 keeps each past a model's threshold
    with_both = sum({"flood", "evacuation"} <= set(p.text.split()) for p in made)
    assert with_both > 100  # a story's words co-occur at scale
    assert {p.lang for p in made} == {"en", "zh"}  # the source post's language


def test_sizes_are_a_comma_list_named_in_errors() -> None:
    assert _sizes("100000,1_000_000") == [100_000, 1_000_000]
    assert _sizes("0") == []
    with pytest.raises(argparse.ArgumentTypeError, match="integer"):
        _sizes("100k")
    with pytest.raises(argparse.ArgumentTypeError, match="10000000"):
        _sizes("20000000")
