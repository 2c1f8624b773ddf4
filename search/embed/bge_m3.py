"""BGE-M3: dense and learned sparse vectors from one forward pass.

One model covers both recall signals in 100+ languages, Chinese included,
which the offline MiniLM profile cannot (see docs/facts.md). Its sparse weights
are learned per token, so the index must not apply IDF on top (`sparse_idf`
is False).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from search.contracts import Encoded, ModelInfo
from search.embed.loading import (
    check_max_length,
    choose_device,
    local_model_id,
    resolve_model_folder,
    use_fp16,
)
from search.errors import ModelLoadFailed
from search.models import SparseVector

SETTING = "TRENDSEARCH_MODEL"


class BgeM3Embedder:
    """`Embedder` over FlagEmbedding's BGE-M3 model, with our own batching loop.

    FlagEmbedding loads the model (weights plus the sparse and ColBERT heads);
    its `encode` is not used, for three measured reasons:
    - it runs the first (longest) batch twice per call, to probe memory: a
      one-query search pays two forward passes (~130 ms each for an XLM-R
      large shaped model on 2 CPU cores), a 500-post batch 17 instead of 16;
    - the probe swallows every RuntimeError and retries with a smaller batch,
      so a real error surfaces as `AttributeError: 'list' object has no
      attribute 'keys'` (docs/facts.md);
    - it draws tqdm bars on stderr for any call of `batch_size` texts or more.
    The loop below sorts by token length (longest first, so a batch that does
    not fit fails at once), pads per batch and restores input order, as
    FlagEmbedding does; a test holds the two to the same vectors.
    """

    def __init__(self, name_or_path: str, *, model_id: str | None = None,
                 device: str | None = None, batch_size: int = 32,
                 max_length: int = 512) -> None:
        """Load from a local folder or a cached hub name; ModelLoadFailed otherwise.

        FlagEmbedding is imported here, not at module level: its import takes
        4-9 s (datasets, peft, pandas), which the offline profile never needs.
        """
        folder = resolve_model_folder(name_or_path, what="BGE-M3 embedder", setting=SETTING)
        check_max_length(folder, max_length, what="BGE-M3 embedder")
        self._device = choose_device(device)
        self._batch_size = batch_size
        self._max_length = max_length
        from FlagEmbedding import BGEM3FlagModel

        try:
            flag_model = BGEM3FlagModel(str(folder), use_fp16=use_fp16(self._device),
                                        devices=self._device, return_dense=True,
                                        return_sparse=True, return_colbert_vecs=False)
        except Exception as error:  # corrupt or incomplete folders raise many types
            raise ModelLoadFailed(
                f"cannot load the BGE-M3 embedder from {folder}: {type(error).__name__}: {error}"
            ) from error
        # Kept alive on purpose: its __del__ moves the model back to the CPU.
        self._flag_model = flag_model
        self._tokenizer = flag_model.tokenizer
        self._net = flag_model.model.to(self._device).eval()
        # FlagEmbedding drops <s>, </s>, <pad>, <unk>; <mask> is no evidence either.
        self._special_ids = frozenset(self._tokenizer.all_special_ids)
        self._info = ModelInfo(
            model_id=model_id or local_model_id("bge-m3", name_or_path, folder),
            dense_dim=int(flag_model.model.model.config.hidden_size), sparse_idf=False,
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return self._encode(texts)

    def encode_queries(self, texts: list[str]) -> Encoded:
        """Same as documents: BGE-M3 uses no query instruction."""
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> Encoded:
        import torch

        dense = np.zeros((len(texts), self._info.dense_dim), dtype=np.float32)
        sparse: list[SparseVector] = [SparseVector(indices=[], values=[])] * len(texts)
        if not texts:
            return Encoded(dense=dense, sparse=[])
        ids: list[list[int]] = self._tokenizer(texts, truncation=True,
                                               max_length=self._max_length)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self._batch_size):
                rows = order[start:start + self._batch_size]
                batch = self._tokenizer.pad({"input_ids": [ids[i] for i in rows]}, padding=True,
                                            return_tensors="pt").to(self._device)
                out = self._net(batch, return_dense=True, return_sparse=True,
                                return_colbert_vecs=False)
                batch_dense = out["dense_vecs"].float().cpu().numpy()
                weights = out["sparse_vecs"].squeeze(-1).float().cpu().numpy()
                tokens = batch["input_ids"].cpu().numpy()
                for k, i in enumerate(rows):
                    dense[i] = batch_dense[k]
                    sparse[i] = to_sparse(tokens[k], weights[k], self._special_ids)
        return Encoded(dense=normalise(dense), sparse=sparse)


def normalise(dense: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """L2-normalise rows again in float32.

    Why again: on GPU the model normalises in fp16, whose rounding leaves
    norms a few 1e-4 off 1; cosine and dot-product scores must agree.
    """
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = (dense / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def to_sparse(tokens: npt.NDArray[np.int64], weights: npt.NDArray[np.float32],
              skip: frozenset[int]) -> SparseVector:
    """Per-token weights as Qdrant wants them: unique int ids, sorted, weight > 0.

    A token that occurs twice keeps its larger weight, as in M3's lexical
    matching; padding and special tokens are dropped.
    """
    best: dict[int, float] = {}
    for token, weight in zip(tokens.tolist(), weights.tolist()):
        if weight > 0 and token not in skip and weight > best.get(token, 0.0):
            best[token] = weight
    indices = sorted(best)
    return SparseVector(indices=indices, values=[best[i] for i in indices])
