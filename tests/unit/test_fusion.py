"""Fusion of signal lists: Qdrant's formulas, with tied scores tied."""

from __future__ import annotations

import pytest
from qdrant_client.http import models as qm
from qdrant_client.hybrid.fusion import distribution_based_score_fusion, reciprocal_rank_fusion

from search.contracts import ScoredId
from search.fusion import competition_ranks, dbsf, rrf


def hits(*pairs: tuple[str, float]) -> list[ScoredId]:
    return [ScoredId(point_id=pid, score=score) for pid, score in pairs]


def test_tied_scores_share_the_best_rank_of_their_group() -> None:
    assert competition_ranks(hits(("a", 3.0), ("b", 2.0), ("c", 2.0), ("d", 1.0))) == [1, 2, 2, 4]
    assert competition_ranks(hits(("a", 1.0), ("b", 1.0), ("c", 1.0))) == [1, 1, 1]
    assert competition_ranks([]) == []


@pytest.mark.parametrize("weights", [(1.0, 1.0), (1.0, 0.5), (0.3, 2.0)])
def test_without_ties_rrf_is_qdrants_weighted_rrf(weights: tuple[float, float]) -> None:
    dense = hits(("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6))
    sparse = hits(("c", 9.0), ("e", 8.0), ("a", 7.0))
    ours = rrf([(dense, weights[0]), (sparse, weights[1])], k=60)
    theirs = reciprocal_rank_fusion(
        [[qm.ScoredPoint(id=h.point_id, version=0, score=h.score) for h in lst]
         for lst in (dense, sparse)], limit=10, ranking_constant_k=60, weights=list(weights))
    assert [(h.point_id, round(h.score, 12)) for h in ours] == [
        (str(p.id), round(p.score, 12)) for p in theirs]


def test_the_other_signal_alone_orders_posts_tied_on_one() -> None:
    """Three posts tie lexically; whichever order the back end listed them in, the
    dense list decides, and the fused order is the same."""
    dense = hits(("z", 0.9), ("y", 0.8), ("x", 0.7))
    for sparse in (hits(("x", 5.0), ("y", 5.0), ("z", 5.0)), hits(("z", 5.0), ("x", 5.0), ("y", 5.0))):
        fused = rrf([(dense, 1.0), (sparse, 1.0)], k=60)
        assert [h.point_id for h in fused] == ["z", "y", "x"]


def test_weight_zero_leaves_a_list_out_and_equal_fused_scores_order_by_id() -> None:
    fused = rrf([(hits(("b", 0.9), ("a", 0.8)), 0.0), (hits(("b", 2.0), ("a", 2.0)), 1.0)], k=60)
    assert [(h.point_id, h.score) for h in fused] == [("a", 1 / 60), ("b", 1 / 60)]


def test_dbsf_normalises_each_list_before_summing() -> None:
    dense = hits(("a", 0.9), ("b", 0.5), ("c", 0.1))
    sparse = hits(("c", 30.0), ("b", 20.0), ("a", 10.0))
    fused = {h.point_id: h.score for h in dbsf([(dense, 1.0), (sparse, 1.0)])}
    # Symmetric lists: every post ends with the same sum, b at the centre of both.
    assert fused["a"] == pytest.approx(fused["b"]) == pytest.approx(fused["c"]) == pytest.approx(1.0)
    assert [h.point_id for h in dbsf([(dense, 1.0), (sparse, 0.0)])] == ["a", "b", "c"]


@pytest.mark.parametrize("lists", [
    [[("a", 0.9), ("b", 0.5), ("c", 0.1)], [("c", 30.0), ("d", 20.0)]],
    [[("a", 0.7)], [("a", 3.0), ("b", 3.0)]],                 # one hit; equal scores
    [[("a", 0.91), ("b", 0.90), ("c", 0.2), ("d", 0.1)], []],  # an empty list
])
def test_dbsf_is_qdrants_dbsf(lists: list[list[tuple[str, float]]]) -> None:
    ours = dbsf([(hits(*lst), 1.0) for lst in lists])
    theirs = distribution_based_score_fusion(
        [[qm.ScoredPoint(id=pid, version=0, score=score) for pid, score in lst] for lst in lists if lst],
        limit=100)
    assert {h.point_id: round(h.score, 9) for h in ours} == {
        str(p.id): round(p.score, 9) for p in theirs}
    assert [h.score for h in ours] == sorted((h.score for h in ours), reverse=True)


def test_a_lexical_hit_weighs_by_the_query_it_holds() -> None:
    """Per-hit weight (`search.fusion_weights`): a hit holding the query's rare words
    (BM25 at or above the scale) counts fully, one holding a common word far less."""
    from search.fusion_weights import hit_weight

    weight = hit_weight(1.0, 22.0, 2.0)
    assert callable(weight)
    assert weight(hits(("a", 44.0))[0]) == 1.0 and weight(hits(("a", 22.0))[0]) == 1.0
    assert weight(hits(("a", 11.0))[0]) == pytest.approx(0.25)
    assert weight(hits(("a", 0.0))[0]) == 0.0
    assert hit_weight(1.0, 0.0, 2.0) == 1.0 and hit_weight(0.0, 22.0, 2.0) == 0.0
    dense = hits(("a", 0.90), ("b", 0.89), ("c", 0.88), ("d", 0.80))
    # "c" holds a common word (BM25 5), "d" the query's rare words (BM25 30); the common
    # word's hit is the dense model's choice, yet one weight for both lists puts it first.
    sparse = hits(("c", 30.0), ("d", 5.0))
    assert rrf([(dense, 1.0), (sparse, 1.0)], k=20)[0].point_id == "c"
    sparse = hits(("d", 30.0), ("c", 5.0))
    per_hit = {h.point_id: h.score for h in rrf([(dense, 1.0), (sparse, weight)], k=20)}
    uniform = {h.point_id: h.score for h in rrf([(dense, 1.0), (sparse, 1.0)], k=20)}
    assert max(per_hit, key=lambda p: per_hit[p]) == "d"   # the rare-word hit rises
    assert per_hit["c"] - 1 / 22 < (uniform["c"] - 1 / 22) / 2  # the common one adds < half
    # Ties in score weigh alike, so they still share their rank's share.
    tied = rrf([(hits(("x", 5.0), ("y", 5.0)), weight)], k=20)
    assert tied[0].score == tied[1].score


def test_a_long_post_is_weighed_at_the_nominal_length() -> None:
    """The length lift (`search.fusion_weights.length_lift`): a long post holding the
    query's words once weighs what a post of the encoder's nominal length holding them
    would; a short one keeps its own (higher) score; the lift comes from the stored
    vector alone, whatever the post's length."""
    from search.embed.lexical import LexicalSparseEncoder
    from search.fusion_weights import hit_weight, length_lift

    encoder = LexicalSparseEncoder()  # avg_len 20
    filler = [f"filler{i}" for i in range(200)]
    nominal = " ".join(["flood"] + filler[:19])
    long = " ".join(["flood"] + filler[:99])
    short = "flood warning"
    vectors = dict(zip(("nominal", "long", "short"),
                       encoder.encode_documents([nominal, long, short]), strict=True))
    lift = length_lift(vectors)
    assert lift["nominal"] == pytest.approx(1.0)
    assert lift["short"] == 1.0  # never below 1
    # The long post's once-written word weighs 1 / lift of the nominal post's.
    once = {name: min(v.values) for name, v in vectors.items()}
    assert once["long"] * lift["long"] == pytest.approx(once["nominal"])
    assert lift["long"] == pytest.approx((1 + 1.2 * (0.25 + 0.75 * 100 / 20)) / 2.2)
    # An idf of 11 for "flood": the nominal post scores 11, the long one ~4.2.
    idf = 11.0
    scored = hits(("nominal", idf * once["nominal"]), ("long", idf * once["long"]))
    plain = hit_weight(1.0, 22.0, 2.0)
    lifted = hit_weight(1.0, 22.0, 2.0, lift)
    assert callable(plain) and callable(lifted)
    assert plain(scored[1]) < plain(scored[0]) / 5          # length alone, without the lift
    assert lifted(scored[1]) == pytest.approx(lifted(scored[0]))  # the same words held
    assert length_lift({"empty": vectors["short"].__class__(indices=[], values=[])}) == {
        "empty": 1.0}
    # The shipped power (2): a long post counts more than the same words at the nominal
    # length; posts at or under it are untouched whatever the power.
    squared = length_lift(vectors, 2.0)
    # 100 tokens: lift 2.64, the extra factor capped at 2 (squared it would be 6.95).
    assert squared["long"] == pytest.approx(lift["long"] * 2.0)
    medium = encoder.encode_documents([" ".join(["flood"] + filler[:29])])[0]  # 30 tokens
    once_lift = length_lift({"m": medium})["m"]
    assert 1.0 < once_lift < 2.0
    assert length_lift({"m": medium}, 2.0)["m"] == pytest.approx(once_lift ** 2)
    assert squared["short"] == 1.0 and squared["nominal"] == pytest.approx(1.0)
    assert length_lift(vectors, 0.0)["long"] == 1.0


def test_a_hit_under_the_floor_weighs_nothing() -> None:
    """`lexical_floor`: a post holding only a common word of the query ("change" of
    "climate change", BM25 4.4 at scale 22: share 0.04) is no lexical evidence; a
    hit at or over the floor keeps its share, whatever its lift."""
    from search.fusion_weights import hit_weight

    weigh = hit_weight(1.0, 22.0, 2.0, {"long": 2.0}, floor=0.05)
    assert callable(weigh)
    common, rare, long = hits(("common", 4.4), ("rare", 11.0), ("long", 4.4))
    assert weigh(common) == 0.0
    assert weigh(rare) == pytest.approx(0.25)
    assert weigh(long) == pytest.approx((8.8 / 22.0) ** 2)  # lifted over the floor
    assert hit_weight(1.0, 22.0, 2.0)(common) == pytest.approx(0.04)  # type: ignore[operator]


def test_fusion_knobs_by_the_kind_of_sparse_list() -> None:
    from search.contracts import ModelInfo, SearchParams
    from search.scope import fusion_knobs

    p = SearchParams()
    bm25 = fusion_knobs(ModelInfo(model_id="e5+lexical", dense_dim=384, sparse_idf=True), p)
    learned = fusion_knobs(ModelInfo(model_id="bge-m3", dense_dim=1024, sparse_idf=False), p)
    assert (bm25.rrf_k, bm25.sparse_weight, bm25.lexical_scale) == (20, 1.0, 22.0)
    assert (learned.rrf_k, learned.sparse_weight, learned.lexical_scale) == (60, 0.3, 0.0)
    # The long-post lift and the floor are BM25's: a learned head's scores are on no
    # BM25 scale (0024).
    assert (bm25.lexical_lift, bm25.lexical_floor) == (2.0, 0.05)
    assert (learned.lexical_lift, learned.lexical_floor) == (0.0, 0.0)
