"""`LexicalSparseEncoder` writes BM25's term-frequency half; Qdrant adds IDF."""

from __future__ import annotations

import math
import subprocess
import sys
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.embed.lexical import LexicalSparseEncoder, token_id
from search.models import SparseVector
from search.text import tokenize
from search.text.tokenize import fingerprint

TEXTS = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)


def test_token_id_is_crc32_in_31_bits() -> None:
    assert token_id("flood") == zlib.crc32(b"flood") & 0x7FFFFFFF
    assert token_id("禁摩") == zlib.crc32("禁摩".encode()) & 0x7FFFFFFF


def test_token_id_is_the_same_in_another_process() -> None:
    # Python's hash() is salted per process; an index would not survive a restart.
    code = "from search.embed.lexical import token_id; print(token_id('禁摩'), token_id('flood'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(token_id("禁摩")), str(token_id("flood"))]


def test_document_values_are_bm25_tf_saturation() -> None:
    k1, b, avg_len = 1.2, 0.75, 4.0
    [vector] = LexicalSparseEncoder(k1, b, avg_len).encode_documents(["flood flood calgary"])
    tokens = tokenize("flood flood calgary")
    assert tokens == ["flood", "flood", "calgari"]
    norm = k1 * (1 - b + b * len(tokens) / avg_len)
    expected = {
        token_id("flood"): 2 * (k1 + 1) / (2 + norm),
        token_id("calgari"): 1 * (k1 + 1) / (1 + norm),
    }
    assert dict(zip(vector.indices, vector.values, strict=True)) == pytest.approx(expected)


def test_query_values_are_one_per_unique_token() -> None:
    [vector] = LexicalSparseEncoder().encode_queries(["floods flooding Calgary"])
    assert vector == SparseVector(
        indices=sorted({token_id("flood"), token_id("calgari")}), values=[1.0, 1.0]
    )


def test_empty_and_stopword_only_texts_give_empty_vectors() -> None:
    encoder = LexicalSparseEncoder()
    empty = SparseVector(indices=[], values=[])
    assert encoder.encode_documents(["", "the of and", "http://t.co/x"]) == [empty] * 3
    assert encoder.encode_queries(["", "的了"]) == [empty] * 2


def test_longer_documents_weigh_a_term_less() -> None:
    short, long = LexicalSparseEncoder().encode_documents(
        ["flood", "flood " + " ".join(f"word{i}" for i in range(40))]
    )
    flood = token_id("flood")
    assert short.values[short.indices.index(flood)] > long.values[long.indices.index(flood)]


def test_model_id_names_parameters_and_tokeniser() -> None:
    encoder = LexicalSparseEncoder(k1=1.2, b=0.75, avg_len=20.0)
    assert encoder.model_id == f"lexical-bm25-v1(k1=1.2,b=0.75,avg_len=20,tok={fingerprint()})"
    assert LexicalSparseEncoder(avg_len=13.5).model_id != encoder.model_id


@pytest.mark.parametrize(
    ("k1", "b", "avg_len"),
    [(-0.1, 0.75, 20.0), (1.2, 1.5, 20.0), (1.2, 0.75, 0.0), (math.nan, 0.5, 1.0)],
)
def test_rejects_parameters_outside_bm25(k1: float, b: float, avg_len: float) -> None:
    with pytest.raises(ValueError, match="BM25 needs k1 >= 0, 0 <= b <= 1 and avg_len > 0"):
        LexicalSparseEncoder(k1, b, avg_len)


@given(st.lists(TEXTS, max_size=4))
def test_vectors_are_sorted_unique_and_bounded(texts: list[str]) -> None:
    encoder = LexicalSparseEncoder()
    for vector in encoder.encode_documents(texts) + encoder.encode_queries(texts):
        assert vector.indices == sorted(set(vector.indices))
        assert len(vector.values) == len(vector.indices)
        assert all(0 <= i < 2**31 for i in vector.indices)
        assert all(0 < v <= encoder.k1 + 1 for v in vector.values)
