"""The rerank stage: a cross-encoder reads query and post together.

Recall ranks by vectors computed apart; a cross-encoder sees both texts at
once and so separates "about X" from "mentions X". It is the expensive stage,
so it runs on the top `depth` candidates only, batched, within a time budget.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import msgspec

from search.embed.loading import (
    check_max_length,
    choose_device,
    local_model_id,
    resolve_model_folder,
    use_fp16,
)
from search.errors import ModelLoadFailed


@runtime_checkable
class Reranker(Protocol):
    @property
    def model_id(self) -> str: ...

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Relevance in [0, 1] per text, in input order."""


class RerankOutcome(msgspec.Struct, frozen=True):
    """Scores for the first `len(scores)` candidates; the rest kept recall order."""

    scores: list[float]
    note: str


def rerank_within_budget(reranker: Reranker | None, query: str, texts: list[str], *,
                         batch_size: int, budget_ms: float) -> RerankOutcome:
    """Score `texts` batch by batch until done or the budget is spent.

    Why batches: a single huge forward pass cannot be interrupted, so the
    budget is checked between batches and the answer degrades to recall order
    for the unscored tail instead of arriving late.
    """
    if reranker is None:
        return RerankOutcome(scores=[], note="no reranker in this profile: recall order kept")
    scores: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        elapsed_ms = (time.perf_counter() - started) * 1000
        if scores and elapsed_ms > budget_ms:
            return RerankOutcome(
                scores=scores,
                note=(f"time budget {budget_ms:.0f} ms spent after {len(scores)} of "
                      f"{len(texts)} candidates: the rest keep recall order"),
            )
        scores.extend(reranker.score(query, texts[start:start + batch_size]))
    return RerankOutcome(scores=scores, note=f"{len(scores)} candidates reranked by {reranker.model_id}")


class CrossEncoderReranker:
    """`Reranker` over a cross-encoder loaded by FlagEmbedding's `FlagReranker`.

    FlagReranker loads tokenizer and model; its `compute_score` is not used:
    it runs the first batch twice per call to probe memory, and since
    `rerank_within_budget` calls `score` once per batch, every candidate would
    be scored twice. It also swallows RuntimeErrors and draws tqdm bars. The
    loop below sorts pairs by length, pads per batch, restores input order and
    applies the same sigmoid; a test holds it to FlagReranker's scores.
    """

    def __init__(self, name_or_path: str, *, model_id: str | None = None,
                 device: str | None = None, batch_size: int = 32,
                 max_length: int = 512) -> None:
        """Load from a local folder or a cached hub name; ModelLoadFailed otherwise.

        FlagEmbedding is imported here: its import costs 4-9 s, paid only by
        profiles that rerank.
        """
        folder = resolve_model_folder(name_or_path, what="reranker",
                                      setting="TRENDSEARCH_RERANKER")
        check_max_length(folder, max_length, what="reranker")
        self._device = choose_device(device)
        self._batch_size = batch_size
        self._max_length = max_length
        from FlagEmbedding import FlagReranker

        try:
            flag = FlagReranker(str(folder), use_fp16=use_fp16(self._device), devices=self._device)
        except Exception as error:  # corrupt or incomplete folders raise many types
            raise ModelLoadFailed(
                f"cannot load the reranker from {folder}: {type(error).__name__}: {error}"
            ) from error
        # Kept alive on purpose: its __del__ moves the model back to the CPU.
        self._flag = flag
        self._tokenizer = flag.tokenizer
        net = flag.model.half() if use_fp16(self._device) else flag.model
        self._net = net.to(self._device).eval()
        self._model_id = model_id or local_model_id("bge-reranker", name_or_path, folder)

    @property
    def model_id(self) -> str:
        return self._model_id

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Sigmoid of the cross-encoder logit per text, in input order.

        Truncation trims the longer side of each pair first, which for a
        short query and a long post is the post, and never fails on a long query.
        """
        import torch

        if not texts:
            return []
        pairs = self._tokenizer([query] * len(texts), texts, truncation="longest_first",
                                max_length=self._max_length)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: -len(pairs[i]))
        scores = [0.0] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self._batch_size):
                rows = order[start:start + self._batch_size]
                batch = self._tokenizer.pad({"input_ids": [pairs[i] for i in rows]},
                                            padding=True, return_tensors="pt").to(self._device)
                logits = self._net(**batch, return_dict=True).logits.view(-1).float()
                for i, value in zip(rows, torch.sigmoid(logits).cpu().tolist()):
                    scores[i] = float(value)
        return scores
