"""Clustering a window and merging clusters that are one story (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse as sp

from search.trends import cluster


def unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_combine_is_a_weighted_cosine() -> None:
    dense = unit([1, 0], [0.6, 0.8])
    lexical = sp.csr_matrix(unit([0, 1, 0], [0, 1, 0]))
    rows = cluster.combine(dense, lexical, 0.25)
    sim = rows.gram()
    assert sim[0, 1] == pytest.approx(0.25 * 0.6 + 0.75 * 1.0)
    assert np.allclose(np.diag(sim), 1.0)
    # Similarity to a centroid is the same number, computed block by block.
    centre = cluster.centroids(rows, [np.array([1])])
    assert rows.similarity(centre).ravel() == pytest.approx(sim[:, 1], abs=1e-6)


def test_cluster_keeps_apart_what_is_far_and_joins_what_is_near() -> None:
    dense = unit([1, 0.05, 0], [1, 0, 0.05], [0, 1, 0], [0, 1, 0.1], [0, 0, 1])
    labels = cluster.cluster(cluster.combine(dense, sp.csr_matrix(dense), 0.5), 0.8)
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert len({labels[0], labels[2], labels[4]}) == 3


def test_merge_joins_one_story_and_not_a_chain() -> None:
    # A and B are one story split by phrasing; C is near B but far from A+B together.
    centres = unit([1, 0.1, 0], [1, 0.3, 0], [0, 1, 0.2], [0.2, 0, 1])
    groups = cluster.merge(centres, [10, 10, 10, 10], 0.9)
    assert sorted(sorted(g) for g in groups) == [[0, 1], [2], [3]]


def test_merge_below_threshold_keeps_every_cluster() -> None:
    centres = unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    assert cluster.merge(centres, [3, 3, 3], 0.5) == [[0], [1], [2]]


def test_centroids_are_unit_means() -> None:
    dense = np.asarray([[1, 0], [0, 1], [3, 4]], dtype=np.float32)
    out = cluster.dense_centroids(dense, [np.array([0, 1]), np.array([2])])
    assert np.allclose(out, [[0.70710677, 0.70710677], [0.6, 0.8]])
    both = cluster.centroids(cluster.combine(dense, sp.csr_matrix(dense), 0.5), [np.array([2])])
    assert np.allclose(both, [[0.6 / 2**0.5, 0.8 / 2**0.5, 0.6 / 2**0.5, 0.8 / 2**0.5]])


def test_shrink_common_brings_a_narrow_band_model_to_the_tuned_scale() -> None:
    """Vectors that all lean one way (e5: mean pairwise cosine ~0.82) come out with the
    mean cosine the thresholds were tuned at, and stories still closer within than across."""
    import numpy as np

    from search.trends.cluster import shrink_common

    rng = np.random.default_rng(3)
    shared = 12 * rng.normal(size=64)
    stories = 3 * rng.normal(size=(4, 64))
    label = np.repeat(np.arange(4), 50)
    dense = (shared + stories[label] + rng.normal(size=(200, 64))).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    upper = np.triu_indices(200, 1)
    same = (label[:, None] == label[None, :])[upper]
    before = (dense @ dense.T)[upper]
    assert before.mean() > 0.7
    out = shrink_common(dense, 0.19)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    after = (out @ out.T)[upper]
    assert abs(after.mean() - 0.19) < 0.03
    # Within a story against across: the gap widens from a sliver to most of the scale.
    assert before[same].mean() - before[~same].mean() < 0.1
    assert after[same].mean() - after[~same].mean() > 0.4
    # Already at or below the scale: untouched.
    spread = rng.normal(size=(50, 64)).astype(np.float32)
    spread /= np.linalg.norm(spread, axis=1, keepdims=True)
    assert shrink_common(spread, 0.19) is spread
