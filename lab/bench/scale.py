"""Synthetic posts for the scale rows of `trendsearch bench`, made and loaded in chunks.

Synthetic posts recombine sample words; their dense vectors are sample vectors plus
noise rather than model output, because embedding a million posts would take days
on 2 cores and the engine's cost does not depend on what the vectors mean. Each
chunk is made from its own seed, so one index grows from 100k to 1M posts and the
first 100k are the same posts whichever size a run stops at; nothing holds all N
posts in memory at once (a million of them as dicts and float64 noise ran to GBs).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from indexer.validate import to_post
from search.contracts import Encoded
from search.embed.lexical import LexicalSparseEncoder
from search.models import Post, SparseVector
from search.store.base import Store

__all__ = ["CHUNK", "grow", "synthetic_chunk"]

CHUNK = 4096
_PLATFORMS = ("twitter", "weibo", "reddit")


def synthetic_chunk(sample: list[Post], sample_dense: npt.NDArray[np.float32], start: int, n: int,
                    seed: int = 7) -> tuple[list[Post], npt.NDArray[np.float32]]:
    """Posts `start` .. `start + n` of the synthetic stream, and their dense vectors.

    Each is a variant of one sample post: most of its words in a new order plus a few
    drawn from any post, and its vector plus noise of norm ~0.1 (cosine ~0.995 to the
    original). Why not fully random: a story's words must co-occur and its vectors
    stay close, or no query matches anything at scale and counting is measured on
    empty sets (noise of norm 1, then 0.3, put e5's vectors below its threshold).
    """
    rng = random.Random(seed * 1_000_003 + start)
    nrng = np.random.default_rng(seed * 1_000_003 + start)
    picks = nrng.integers(0, len(sample_dense), size=n)
    sigma = 0.1 / np.sqrt(sample_dense.shape[1])
    dense = sample_dense[picks] + nrng.normal(0, sigma, size=(n, sample_dense.shape[1])).astype(
        np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    posts = []
    for i, pick in zip(range(start, start + n), picks, strict=True):
        words = sample[pick].text.split()
        kept = [w for w in words if rng.random() < 0.8] or words[:1]
        rng.shuffle(kept)
        extra = [rng.choice(rng.choice(sample).text.split() or ["post"]) for _ in range(rng.randint(0, 4))]
        posts.append(to_post({
            "id": f"syn-{i}", "text": " ".join(kept + extra), "platform": rng.choice(_PLATFORMS),
            "created_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                          f"{rng.randint(0, 23):02d}:00:00Z",
            "likes": rng.randint(0, 5000), "lang": sample[pick].lang}))
    return posts, dense


def grow(store: Store, sample: list[Post], sample_dense: npt.NDArray[np.float32],
         sample_sparse: list[SparseVector], model_id: str, have: int, want: int,
         progress: Callable[[int, float], None] | None = None) -> float:
    """Add synthetic posts `have` .. `want` to `store`; seconds taken.

    The offline profile's sparse side is the lexical encoder: computed for real (it is
    cheap). A learned sparse model's is not (it needs the model): sample vectors reused.
    """
    lexical = LexicalSparseEncoder()
    same_scheme = lexical.model_id in model_id
    t0 = time.perf_counter()
    for start in range(have, want, CHUNK):
        posts, dense = synthetic_chunk(sample, sample_dense, start, min(CHUNK, want - start))
        sparse = (lexical.encode_documents([p.text for p in posts]) if same_scheme
                  else [sample_sparse[i % len(sample_sparse)] for i in range(len(posts))])
        store.upsert(posts, Encoded(dense=dense, sparse=sparse))
        if progress is not None:
            progress(start + len(posts), time.perf_counter() - t0)
    store.flush()
    return time.perf_counter() - t0
