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

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse as sp
from sklearn.cluster import AgglomerativeClustering

Matrix = npt.NDArray[np.float32]


class Rows:
    """Posts in the combined space, kept as two blocks instead of one stacked matrix.

    Why not `scipy.sparse.hstack`: stacking 20k dense rows with the sparse term
    rows costs a second per call, more than the clustering; every product here
    splits into a dense product plus a sparse one, which is exact and cheap.
    Both blocks are pre-scaled by the square roots of their weights.
    """

    def __init__(self, dense: Matrix, lexical: sp.csr_matrix) -> None:
        self.dense = dense
        self.lexical = lexical

    def __len__(self) -> int:
        return int(self.dense.shape[0])

    def take(self, index: npt.NDArray[np.int64]) -> Rows:
        return Rows(self.dense[index], self.lexical[index])

    def gram(self) -> npt.NDArray[np.float64]:
        """Pairwise combined similarity (n x n)."""
        out = (self.dense @ self.dense.T).astype(np.float64)
        out += (self.lexical @ self.lexical.T).toarray()
        return out

    def similarity(self, centres: Matrix) -> Matrix:
        """Combined similarity of every row to every centre (n x k)."""
        d = self.dense.shape[1]
        out = self.dense @ centres[:, :d].T
        out += np.asarray(self.lexical @ centres[:, d:].T, dtype=np.float32)
        return np.asarray(out, dtype=np.float32)


def shrink_common(dense: Matrix, target: float) -> Matrix:
    """The vectors with the direction they all share shrunk until the mean pairwise cosine
    is `target` (unchanged when it is already at or below it).

    Why: the similarity thresholds of `TrendParams` were tuned on all-MiniLM-L6-v2,
    whose posts' mean pairwise cosine is ~0.19 (crisislex posts: 0.17 across events,
    0.25 within one). multilingual-e5-small puts every post near one direction: 0.82 and
    0.83, so every threshold would hold for every pair. Writing each vector as the
    mean m plus its own part u, shrinking m to g*m leaves the parts' geometry intact and
    sets the mean cosine to g^2|m|^2 / (|u|^2 + g^2|m|^2); on those crisislex posts e5
    then reads 0.17 across events and 0.24 within one, MiniLM's scale
    (docs/decisions/0024-multilingual-default.md).
    """
    return shrink_like(dense, dense, target)


def shrink_like(vectors: Matrix, reference: Matrix, target: float) -> Matrix:
    """`vectors` shifted as `shrink_common` shifts `reference` (the same mean, the same
    factor): history posts brought to the scale of the posts they are compared with."""
    if len(reference) < 2:
        return vectors
    mean = reference.mean(axis=0)
    common = float(mean @ mean)
    if common <= target or common >= 1.0:
        return vectors
    g = np.sqrt(target * (1.0 - common) / ((1.0 - target) * common))
    shrunk = vectors - np.float32(1.0 - g) * mean
    norms = np.linalg.norm(shrunk, axis=1, keepdims=True)
    out: Matrix = (shrunk / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def combine(dense: Matrix, lexical: sp.csr_matrix, dense_weight: float) -> Rows:
    """The posts' rows whose dot products are the combined similarity."""
    return Rows(np.asarray(dense, dtype=np.float32) * np.float32(np.sqrt(dense_weight)),
                sp.csr_matrix(lexical * np.float32(np.sqrt(1.0 - dense_weight)), dtype=np.float32))


def cluster(rows: Rows, min_similarity: float) -> npt.NDArray[np.int64]:
    """Cluster label per row; rows more similar than `min_similarity` on average join."""
    n = len(rows)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    distance = np.clip(1.0 - rows.gram(), 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=1.0 - min_similarity)
    return np.asarray(model.fit_predict(distance), dtype=np.int64)


def centroids(rows: Rows, groups: list[npt.NDArray[np.int64]]) -> Matrix:
    """Unit-length mean row of each group, dense block then term block (one row per group)."""
    dense = np.vstack([rows.dense[g].mean(axis=0) for g in groups])
    terms = np.vstack([np.asarray(rows.lexical[g].mean(axis=0)).ravel() for g in groups])
    out = np.hstack([dense, terms]).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def dense_centroids(dense: Matrix, groups: list[npt.NDArray[np.int64]]) -> Matrix:
    """Unit-length mean dense vector of each group."""
    out = np.vstack([dense[g].mean(axis=0) for g in groups]).astype(np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


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


def join_stories(dense: Matrix, terms: list[Counter[str]], sizes: list[int],
                 min_similarity: float, word_share: float) -> list[list[int]]:
    """Groups of hot topics that are one story.

    Two topics join when their dense centroids are `min_similarity` close, or
    when more than `word_share` of one topic's posts use the other's commonest word
    ("#westtx" in "firefighters missing" posts). Why the word rule: on the public
    streams, dense centroids of two fragments of one story (median 0.56) are no
    closer than those of two different disasters (median 0.35, 90th percentile
    0.55), while a fragment shares the story's own word in half of the pairs and
    different stories in under 1 % at 0.5. `terms[i]` counts topic i's posts per
    word, `sizes[i]` its posts. Joined by union-find: a story told three ways is one.
    """
    n = len(sizes)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Ties broken by the word itself: `Counter` order follows set iteration, which
    # changes with the process's hash seed.
    lead = [min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] if c else "" for c in terms]
    sim = dense @ dense.T
    for a in range(n):
        for b in range(a + 1, n):
            shared = max(terms[b][lead[a]] / max(sizes[b], 1), terms[a][lead[b]] / max(sizes[a], 1))
            if sim[a, b] >= min_similarity or shared > word_share:
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def lexical_rows(terms: Sequence[frozenset[str]],
                 also: Sequence[frozenset[str]] = ()) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Unit-length TF-IDF rows (binary term frequency, smoothed idf over `terms`) of
    `terms`, and of `also` in the same space (its terms unknown to `terms` dropped)."""
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for doc in terms:
        for term in doc:
            indices.append(vocab.setdefault(term, len(vocab)))
        indptr.append(len(indices))
    n = len(terms)
    width = max(len(vocab), 1)
    rows = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                         shape=(n, width))
    df = np.bincount(np.asarray(indices, dtype=np.int64), minlength=width)
    idf = sp.diags(np.log((1.0 + n) / (1.0 + df)).astype(np.float32) + 1.0)
    extra_ind: list[int] = []
    extra_ptr = [0]
    for doc in also:
        extra_ind.extend(vocab[t] for t in doc if t in vocab)
        extra_ptr.append(len(extra_ind))
    extra = sp.csr_matrix((np.ones(len(extra_ind), dtype=np.float32), extra_ind, extra_ptr),
                          shape=(len(also), width))
    return _unit(rows @ idf), _unit(extra @ idf)


def _unit(rows: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ rows, dtype=np.float32)
