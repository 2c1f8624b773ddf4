"""Representative posts: copies collapsed, window first, reranked by the tiny cross-encoder."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from search.rerank import Reranker
from search.trends import represent
from tests.factories import BASE_TIME, make_post

TEXTS = [
    "Explosion at the fertilizer plant in West, Texas; many injured",
    "RT @news: Explosion at the fertilizer plant in West, Texas; many injured http://t.co/x1",
    "Firefighters among the missing after the West Texas blast",
    "Praying for the town of West tonight #prayforwest",
    "West, Texas: the plant blast levelled a nursing home",
]


def posts_and_vectors() -> tuple[list, np.ndarray]:
    posts = [make_post(id=f"w{i}", text=t, created_at=BASE_TIME - timedelta(minutes=i))
             for i, t in enumerate(TEXTS)]
    rng = np.random.default_rng(7)
    dense = rng.normal(size=(len(posts), 16)).astype(np.float32)
    dense[4] = dense[2] + 0.01  # a near-copy by meaning of post 2
    return posts, dense / np.linalg.norm(dense, axis=1, keepdims=True)


def test_copies_and_near_copies_collapse_into_the_best_ranked() -> None:
    posts, dense = posts_and_vectors()
    reps, method = represent.choose(posts, [0.9, 0.95, 0.8, 0.7, 0.6], dense, k=10,
                                    label="west, explosion", reranker=None)
    assert [r.id for r in reps] == ["w1", "w2", "w3"]
    assert (reps[0].copies, reps[0].duplicate_ids) == (2, ["w0"])
    assert (reps[1].copies, reps[1].duplicate_ids) == (2, ["w4"])
    assert reps[2].copies == 1
    assert method == "centroid similarity (no reranker in this profile)"


def test_window_posts_come_before_baseline_posts() -> None:
    posts, dense = posts_and_vectors()
    reps, _ = represent.choose(posts, [0.9, 0.95, 0.8, 0.7, 0.6], dense, k=2, label="west",
                               reranker=None, recent=[False, False, True, True, False])
    assert [r.id for r in reps] == ["w2", "w3"]


def test_the_cross_encoder_orders_the_heads_against_the_label(tiny_reranker: Reranker) -> None:
    posts, dense = posts_and_vectors()
    label = "west, explosion, fertilizer"
    reps, method = represent.choose(posts, [0.9, 0.95, 0.8, 0.7, 0.6], dense, k=3, label=label,
                                    reranker=tiny_reranker)
    heads = {"w1": TEXTS[1], "w2": TEXTS[2], "w3": TEXTS[3]}
    scores = dict(zip(heads, tiny_reranker.score(label, list(heads.values()))))
    assert [r.id for r in reps] == sorted(heads, key=lambda i: -scores[i])
    assert method.startswith(f"cross-encoder {tiny_reranker.model_id} against the label")
