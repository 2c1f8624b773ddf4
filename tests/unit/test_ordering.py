"""Properties of the last stage (`search.ordering`): pure, so checked on generated input.

Each property names the rule it holds the code to; any of them fails when its
rule is broken (e.g. absolute decay underflows and `test_an_old_archive_...`
sees every final tie at 0.0).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.models import Candidate
from search.ordering import OrderParams, ScoreParts, order
from tests.factories import make_post

AS_OF = datetime(2026, 12, 7, tzinfo=UTC)
PARAMS = OrderParams(half_life_hours=36.0, engagement_weight=0.1, latest_min_relevance=0.05)
MODES = ("relevance", "trending", "latest")

row = st.tuples(
    st.floats(min_value=1e-6, max_value=1.0),                      # fused score
    st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)),  # rerank score
    st.floats(min_value=0.0, max_value=24 * 365 * 30),              # age in hours (30 years)
    st.integers(min_value=0, max_value=10**9),                     # likes
    st.integers(min_value=0, max_value=10**6),                     # reposts
)
rows = st.lists(row, min_size=1, max_size=25)


def candidates_of(data: list[tuple[float, float | None, float, int, int]]
                  ) -> tuple[list[Candidate], list[float | None]]:
    cands = [Candidate(point_id=f"p{i:03d}", fused_score=fused, fused_rank=i + 1,
                       post=make_post(id=f"post-{i:03d}", likes=likes, reposts=reposts,
                                      created_at=AS_OF - timedelta(hours=age)))
             for i, (fused, _, age, likes, reposts) in enumerate(data)]
    return cands, [rerank for _, rerank, _, _, _ in data]


def ids(parts: list[ScoreParts], cands: list[Candidate]) -> list[str]:
    return [cands[p.index].post.id for p in parts]


@settings(max_examples=150, deadline=None)
@given(rows, st.sampled_from(MODES))
def test_never_nan_and_final_is_recomputable_from_the_explain_fields(data, mode) -> None:  # type: ignore[no-untyped-def]
    cands, rerank = candidates_of(data)
    top_fused = max(c.fused_score for c in cands)
    reranked = [s for s in rerank if s is not None]
    for part in order(mode, cands, rerank, AS_OF, PARAMS):
        assert not math.isnan(part.final) and not math.isnan(part.log_final)
        # relevance: the rerank score, or the fused score relative to the best, capped below
        # the lowest reranked score; never below 1e-12 (zero has no logarithm to order by)
        expected = rerank[part.index]
        if expected is None:
            expected = cands[part.index].fused_score / top_fused
            if reranked:
                expected = min(expected, min(reranked)) * 0.999
        expected = max(expected, 1e-12)
        assert part.relevance == pytest.approx(expected, rel=1e-12, abs=1e-300)
        factors = part.relevance * (part.decay if part.decay is not None else 1.0) \
            * (part.engagement if part.engagement is not None else 1.0)
        assert part.final == pytest.approx(factors, rel=1e-12, abs=1e-300)
        assert (part.decay is None) == (mode != "trending")


@settings(max_examples=150, deadline=None)
@given(rows, st.sampled_from(MODES), st.randoms(use_true_random=False))
def test_ties_break_the_same_way_whatever_order_the_back_end_returned(data, mode, rnd) -> None:  # type: ignore[no-untyped-def]
    cands, rerank = candidates_of(data)
    shuffled = list(zip(cands, rerank, strict=True))
    rnd.shuffle(shuffled)
    again_c, again_r = [c for c, _ in shuffled], [r for _, r in shuffled]
    assert ids(order(mode, cands, rerank, AS_OF, PARAMS), cands) == \
        ids(order(mode, again_c, again_r, AS_OF, PARAMS), again_c)


@settings(max_examples=150, deadline=None)
@given(rows, st.data())
def test_trending_is_monotone_in_each_factor(data, draw) -> None:  # type: ignore[no-untyped-def]
    cands, rerank = candidates_of(data)
    i = draw.draw(st.integers(min_value=0, max_value=len(cands) - 1))
    before = ids(order("trending", cands, rerank, AS_OF, PARAMS), cands).index(cands[i].post.id)
    post = cands[i].post
    better = [
        ("newer", msgspec.structs.replace(cands[i], post=msgspec.structs.replace(
            post, created_at=min(post.created_at + timedelta(hours=5), AS_OF)))),
        ("more liked", msgspec.structs.replace(cands[i], post=msgspec.structs.replace(
            post, likes=post.likes + 1000))),
    ]
    for what, improved in better:
        changed = [improved if j == i else c for j, c in enumerate(cands)]
        after = ids(order("trending", changed, rerank, AS_OF, PARAMS), changed).index(post.id)
        assert after <= before, what
    if rerank[i] is not None:
        higher = [min(s + 0.1, 1.0) if j == i and s is not None else s for j, s in enumerate(rerank)]
        after = ids(order("trending", cands, higher, AS_OF, PARAMS), cands).index(post.id)
        assert after <= before, "reranked higher"


def test_an_old_archive_keeps_meaningful_ordered_scores() -> None:
    """Ten years at a 36 h half-life is ~2,400 halvings: 0.5 ** 2400 is 0.0 in floats."""
    rnd = random.Random(3)
    data = [(rnd.uniform(0.1, 1.0), None, 24 * 365 * 10 + rnd.uniform(0, 24 * 200),
             rnd.randrange(0, 5000), rnd.randrange(0, 50)) for _ in range(30)]
    cands, rerank = candidates_of(data)
    parts = order("trending", cands, rerank, AS_OF, PARAMS)
    finals = [p.final for p in parts]
    assert finals[0] > 0 and len(set(finals)) > 20  # not every score 0.0
    # the order is the order of the same posts ten years younger (a common factor)
    young = [(f, r, age - 24 * 365 * 10, likes, reposts) for f, r, age, likes, reposts in data]
    young_c, young_r = candidates_of(young)
    assert ids(parts, cands) == ids(order("trending", young_c, young_r, AS_OF, PARAMS), young_c)


def test_latest_keeps_the_relevant_newest_first() -> None:
    data = [(1.0, None, 5.0, 0, 0), (0.01, None, 1.0, 0, 0), (0.5, None, 2.0, 0, 0)]
    cands, rerank = candidates_of(data)
    parts = order("latest", cands, rerank, AS_OF, PARAMS)
    assert ids(parts, cands) == ["post-002", "post-000"]  # 0.01 is under the floor


@settings(max_examples=150, deadline=None)
@given(data=rows, flags=st.lists(st.booleans(), min_size=25, max_size=25))
def test_trending_puts_every_match_before_every_other_post_and_keeps_each_tier_by_score(
        data, flags) -> None:  # type: ignore[no-untyped-def]
    """Relevance gates trending (a busy off-topic post never outranks a quiet match);
    within a tier the order is the ungated one; other modes ignore the flags."""
    cands, rerank = candidates_of(data)
    topical = flags[: len(cands)]
    gated = ids(order("trending", cands, rerank, AS_OF, PARAMS, on_topic=topical), cands)
    plain = ids(order("trending", cands, rerank, AS_OF, PARAMS), cands)
    matched = {c.post.id for c, t in zip(cands, topical, strict=True) if t}
    assert gated == [i for i in plain if i in matched] + [i for i in plain if i not in matched]
    for mode in ("relevance", "latest"):
        assert ids(order(mode, cands, rerank, AS_OF, PARAMS, on_topic=topical), cands) == ids(
            order(mode, cands, rerank, AS_OF, PARAMS), cands)
