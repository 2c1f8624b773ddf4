"""Grouping a window's posts into stories, and stories that came out split into one.

Similarity is one number for all decisions: a weighted sum of the cosine of the
stored dense vectors (meaning: "explosion" near "blast") and the cosine of
TF-IDF term vectors (names: "Calgary" is not "Queensland", which a small
English embedder places close). Both halves are unit vectors, so the sum is
itself a cosine of their concatenation scaled by the weights.

Clustering is average-linkage agglomerative (scikit-learn) on the window's
posts: no number of clusters to guess, and background chatter stays in small
groups that never reach a topic's minimum size. Merging then joins clusters
whose centroids are close: agglomerative clustering at a strict threshold
splits one story along its hashtags and phrasings ("#prayforboston",
"marathon explosion"), and one story must be one topic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse as sp
from sklearn.cluster import AgglomerativeClustering

Matrix = npt.NDArray[np.float32]


def combine(dense: Matrix, lexical: sp.csr_matrix, dense_weight: float) -> sp.csr_matrix:
    """One row per post whose dot products are the combined similarity."""
    left = sp.csr_matrix(dense * np.float32(np.sqrt(dense_weight)))
    right = lexical * np.float32(np.sqrt(1.0 - dense_weight))
    return sp.hstack([left, right], format="csr", dtype=np.float32)


def cluster(rows: sp.csr_matrix, min_similarity: float) -> npt.NDArray[np.int64]:
    """Cluster label per row; rows more similar than `min_similarity` on average join."""
    n = rows.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    sim = (rows @ rows.T).toarray()
    distance = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=1.0 - min_similarity)
    return np.asarray(model.fit_predict(distance), dtype=np.int64)


def centroids(rows: sp.csr_matrix, groups: list[npt.NDArray[np.int64]]) -> Matrix:
    """Unit-length mean row of each group (dense array, one row per group)."""
    out = np.vstack([np.asarray(rows[g].mean(axis=0)).ravel() for g in groups]).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def merge(centres: Matrix, sizes: list[int], min_similarity: float) -> list[list[int]]:
    """Groups of cluster indexes that are one story.

    Greedy average linkage on centroids: repeatedly join the most similar pair
    above `min_similarity` and recompute the joined centroid (size-weighted), so
    a chain A~B~C never joins A and C when they are far apart.
    """
    members = [[i] for i in range(len(sizes))]
    vecs = [centres[i].astype(np.float64) * sizes[i] for i in range(len(sizes))]
    alive = list(range(len(sizes)))
    while len(alive) > 1:
        unit = np.vstack([vecs[i] / max(np.linalg.norm(vecs[i]), 1e-12) for i in alive])
        sim = unit @ unit.T
        np.fill_diagonal(sim, -1.0)
        a, b = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[a, b] < min_similarity:
            break
        keep, drop = alive[min(a, b)], alive[max(a, b)]
        members[keep] += members[drop]
        vecs[keep] = vecs[keep] + vecs[drop]
        alive.remove(drop)
    return [members[i] for i in alive]
