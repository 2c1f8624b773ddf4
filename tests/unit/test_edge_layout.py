"""The dense search parameters of the embedded store (`search.store.edge_layout`)."""

from __future__ import annotations

import pytest

from search.store.edge_layout import MAX_RESCORED, EdgeLayout, dense_search_params


def test_wide_dense_queries_rescore_at_most_max_rescored() -> None:
    """A top 10 rescores `oversampling` candidates per hit; the counting's threshold
    search (1,001 hits) would rescore 8,000 at the same rate, so it takes fewer per hit."""
    layout = EdgeLayout()
    top = dense_search_params(layout).quantization.oversampling
    wide = dense_search_params(layout, limit=1001).quantization.oversampling
    assert top == layout.oversampling > wide
    assert wide * 1001 == pytest.approx(MAX_RESCORED)
    assert dense_search_params(layout, limit=10**6).quantization.oversampling == 1.0
