"""Pseudo-relevance feedback arithmetic: the second query is built as documented."""

from __future__ import annotations

import numpy as np

from search.feedback import dense_query, sparse_query
from search.models import SparseVector


def test_dense_query_moves_towards_the_feedback_centroid_and_stays_unit_length() -> None:
    q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    feedback = [[0.0, 1.0, 0.0], [0.0, 0.6, 0.8]]
    moved = np.array(dense_query(q, 1.0, feedback, 1.0))
    assert abs(np.linalg.norm(moved) - 1.0) < 1e-9
    assert moved[0] > 0 and moved[1] > moved[2] > 0


def test_dense_query_without_coverage_is_the_centroid_alone() -> None:
    q = np.array([1.0, 0.0], dtype=np.float32)
    moved = dense_query(q, 0.0, [[0.0, 2.0]], 1.0)
    assert moved == [0.0, 1.0]


def test_dense_query_without_feedback_is_the_query() -> None:
    q = np.array([0.6, 0.8], dtype=np.float32)
    assert np.allclose(dense_query(q, 1.0, [], 1.0), q)


def test_sparse_query_adds_the_heaviest_feedback_terms_below_the_query_terms() -> None:
    query = SparseVector(indices=[5], values=[1.0])
    feedback = [SparseVector(indices=[1, 2, 5], values=[1.5, 0.2, 1.0]),
                SparseVector(indices=[1, 3], values=[1.5, 0.9])]
    out = sparse_query(query, feedback, terms=2, weight=0.5)
    weights = dict(zip(out.indices, out.values, strict=True))
    assert out.indices == sorted(out.indices)
    assert weights[5] == 1.0                    # the query's own term is kept as it was
    assert set(weights) == {1, 3, 5}            # term 2 is the lightest: cut at 2 terms
    assert weights[1] == 0.5                    # heaviest added term: weight x query max
    assert abs(weights[3] - 0.5 * 0.9 / 3.0) < 1e-12  # mean 0.45 vs mean 1.5


def test_sparse_query_is_unchanged_when_feedback_is_off_or_empty() -> None:
    query = SparseVector(indices=[1], values=[0.3])
    assert sparse_query(query, [], terms=5, weight=0.5) == query
    assert sparse_query(query, [query], terms=5, weight=0.5) == query
    assert sparse_query(query, [SparseVector(indices=[2], values=[1.0])], terms=0,
                        weight=0.5) == query
