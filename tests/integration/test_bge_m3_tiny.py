"""BgeM3Embedder on a tiny random M3: the contract, not relevance.

The weights are random, so these tests check what the store relies on:
shapes, unit norms, Qdrant-ready sparse vectors, input order, determinism,
a stable model id, and fast, explicit failures for models that cannot load.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from search.embed.base import Embedder
from search.embed.bge_m3 import BgeM3Embedder
from search.embed.tiny import build_tiny_m3
from search.errors import ModelLoadFailed

TEXTS = [
    "BREAKING: Flooding hits New York tonight, stay safe everyone #news",
    "深圳禁摩限电最新消息，网友热议",
    "台风来了！Typhoon warning for 香港 and Shenzhen, trains delayed",
    "lol",
    "今天",
    ("Officials say the earthquake near Tokyo is under control, 3 people injured. "
     "Live updates: volunteers needed, donate at the link. RT if you're ok"),
]
SPECIAL_IDS = {0, 1, 2, 3}  # <s> <pad> </s> <unk>: never lexical evidence


def test_implements_embedder(tiny_embedder: BgeM3Embedder) -> None:
    assert isinstance(tiny_embedder, Embedder)
    assert tiny_embedder.info.dense_dim == 64
    assert tiny_embedder.info.sparse_idf is False


def test_dense_shape_dtype_and_unit_norm(tiny_embedder: BgeM3Embedder) -> None:
    for encoded in (tiny_embedder.encode_documents(TEXTS), tiny_embedder.encode_queries(TEXTS)):
        assert encoded.dense.shape == (len(TEXTS), 64)
        assert encoded.dense.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(encoded.dense, axis=1), 1.0, atol=1e-5)
        assert len(encoded.sparse) == len(TEXTS)


def test_dense_vectors_differ_between_texts(tiny_embedder: BgeM3Embedder) -> None:
    dense = tiny_embedder.encode_documents(TEXTS).dense
    cosine = dense @ dense.T
    off_diagonal = cosine[~np.eye(len(TEXTS), dtype=bool)]
    assert off_diagonal.max() < 0.99


def test_sparse_vectors_are_qdrant_ready(tiny_embedder: BgeM3Embedder) -> None:
    for vector in tiny_embedder.encode_documents(TEXTS).sparse:
        assert all(type(index) is int for index in vector.indices)
        assert vector.indices == sorted(set(vector.indices))
        assert len(vector.values) == len(vector.indices)
        assert all(type(value) is float and value > 0 for value in vector.values)
        assert not SPECIAL_IDS & set(vector.indices)


@pytest.mark.parametrize("text", ["Flooding hits London tonight", "北京暴雨，交通受到严重影响",
                                  "地震 earthquake 热搜 #trending"])
def test_english_chinese_and_mixed_text_get_terms(tiny_embedder: BgeM3Embedder,
                                                  text: str) -> None:
    encoded = tiny_embedder.encode_documents([text])
    assert encoded.sparse[0].indices
    assert np.isfinite(encoded.dense).all()


def test_input_order_survives_length_sorting(tiny_embedder: BgeM3Embedder) -> None:
    forward = tiny_embedder.encode_documents(TEXTS)
    backward = tiny_embedder.encode_documents(TEXTS[::-1])
    np.testing.assert_allclose(forward.dense, backward.dense[::-1], atol=1e-5)
    assert [v.indices for v in forward.sparse] == [v.indices for v in backward.sparse[::-1]]
    single = tiny_embedder.encode_documents([TEXTS[1]])
    np.testing.assert_allclose(single.dense[0], forward.dense[1], atol=1e-5)


def test_empty_batch(tiny_embedder: BgeM3Embedder) -> None:
    encoded = tiny_embedder.encode_queries([])
    assert encoded.dense.shape == (0, 64)
    assert encoded.dense.dtype == np.float32
    assert encoded.sparse == []


def test_two_loads_of_one_folder_agree(tiny_m3_path: Path,
                                       tiny_embedder: BgeM3Embedder) -> None:
    again = BgeM3Embedder(str(tiny_m3_path), device="cpu", batch_size=16, max_length=128)
    first, second = tiny_embedder.encode_documents(TEXTS), again.encode_documents(TEXTS)
    np.testing.assert_array_equal(first.dense, second.dense)
    assert first.sparse == second.sparse
    assert again.info == tiny_embedder.info


def test_model_id_names_folder_and_config(tiny_embedder: BgeM3Embedder) -> None:
    assert re.fullmatch(r"bge-m3:tiny-bge-m3:[0-9a-f]{8}", tiny_embedder.info.model_id)


def test_model_id_can_be_given(tiny_m3_path: Path) -> None:
    embedder = BgeM3Embedder(str(tiny_m3_path), model_id="bge-m3:custom", device="cpu")
    assert embedder.info.model_id == "bge-m3:custom"


def test_tiny_build_is_deterministic_and_reused(tiny_m3_path: Path, tmp_path: Path) -> None:
    rebuilt = build_tiny_m3(tmp_path)
    names = sorted(p.name for p in tiny_m3_path.iterdir())
    assert names == sorted(p.name for p in rebuilt.iterdir())
    for name in names:
        assert (tiny_m3_path / name).read_bytes() == (rebuilt / name).read_bytes(), name
    stamp = (rebuilt / "model.safetensors").stat().st_mtime_ns
    assert build_tiny_m3(tmp_path) == rebuilt
    assert (rebuilt / "model.safetensors").stat().st_mtime_ns == stamp


def test_incomplete_tiny_folder_is_not_reused(tmp_path: Path) -> None:
    (tmp_path / "tiny-bge-m3").mkdir()
    (tmp_path / "tiny-bge-m3" / "config.json").write_text("{}")
    with pytest.raises(FileExistsError) as caught:
        build_tiny_m3(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'tiny-bge-m3'} exists but is not a complete tiny model (missing "
        "model.safetensors, tokenizer.json, tokenizer_config.json, colbert_linear.pt, "
        "sparse_linear.pt); remove it or pass another folder"
    )


def test_hub_name_offline_fails_at_once_naming_the_model() -> None:
    started = time.perf_counter()
    with pytest.raises(ModelLoadFailed) as caught:
        BgeM3Embedder("BAAI/bge-m3-typo", device="cpu")
    assert time.perf_counter() - started < 5
    assert str(caught.value) == (
        "cannot load the BGE-M3 embedder `BAAI/bge-m3-typo`: there is no such local folder, "
        "it is not in the Hugging Face cache, and this machine cannot reach a model hub "
        "(HF_HUB_OFFLINE is set); download it on a machine with access and pass the local "
        "folder instead (for the server: TRENDSEARCH_MODEL=/path/to/folder)"
    )


def test_missing_folder_fails_at_once_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "modles" / "bge-m3"
    started = time.perf_counter()
    with pytest.raises(ModelLoadFailed) as caught:
        BgeM3Embedder(str(missing), device="cpu")
    assert time.perf_counter() - started < 5
    assert str(caught.value) == (
        f"cannot load the BGE-M3 embedder: there is no folder `{missing}`; "
        "check the path (TRENDSEARCH_MODEL)"
    )


def test_folder_without_a_model_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadFailed, match="cannot load the BGE-M3 embedder from ") as caught:
        BgeM3Embedder(str(tmp_path), device="cpu")
    assert str(tmp_path) in str(caught.value)


def test_same_vectors_as_flagembedding_encode(tiny_m3_path: Path,
                                              tiny_embedder: BgeM3Embedder) -> None:
    """Our batching loop replaces BGEM3FlagModel.encode; it must not change the vectors."""
    from FlagEmbedding import BGEM3FlagModel

    reference = BGEM3FlagModel(str(tiny_m3_path), use_fp16=False, devices="cpu").encode(
        TEXTS, batch_size=4, max_length=128, return_dense=True, return_sparse=True)
    ours = tiny_embedder.encode_documents(TEXTS)
    np.testing.assert_allclose(ours.dense, reference["dense_vecs"], atol=1e-5)
    for vector, weights in zip(ours.sparse, reference["lexical_weights"]):
        assert vector.indices == sorted(int(token) for token in weights)
        np.testing.assert_allclose(vector.values, [weights[str(i)] for i in vector.indices],
                                   atol=1e-5)


def test_max_length_beyond_the_model_is_refused(tiny_m3_path: Path) -> None:
    with pytest.raises(ModelLoadFailed) as caught:
        BgeM3Embedder(str(tiny_m3_path), device="cpu", max_length=1000)
    assert str(caught.value) == (f"max_length 1000 is more than the BGE-M3 embedder in "
                                 f"{tiny_m3_path} can read (512 tokens); lower it")
