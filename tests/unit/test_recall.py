from search.contracts import ScoredId
from search.recall import RecallResponse, assemble
from tests.factories import make_post


def test_candidates_carry_each_signals_rank_and_score() -> None:
    a, b, c = (make_post(id=x) for x in "abc")
    response = RecallResponse(
        fused=[(ScoredId("A", 0.9), a), (ScoredId("B", 0.5), b), (ScoredId("C", 0.1), c)],
        dense=[ScoredId("B", 0.8), ScoredId("A", 0.7)],
        sparse=[ScoredId("A", 12.0), ScoredId("C", 3.0)],
    )
    got = assemble(response)
    assert [(x.post.id, x.fused_rank, x.dense_rank, x.sparse_rank) for x in got] == [
        ("a", 1, 2, 1), ("b", 2, 1, None), ("c", 3, None, 2)]
    assert got[0].dense_score == 0.7 and got[2].sparse_score == 3.0


def test_a_full_list_drops_the_tie_group_its_limit_may_have_cut() -> None:
    from search.recall import seen_whole

    full = [ScoredId("a", 3.0), ScoredId("b", 2.0), ScoredId("c", 1.0), ScoredId("d", 1.0)]
    assert [h.point_id for h in seen_whole(full, limit=4)] == ["a", "b"]
    assert seen_whole(full, limit=5) == full  # not full: the group is whole
    distinct = full[:3]
    assert seen_whole(distinct, limit=3) == distinct  # the cut fell between two scores
    assert seen_whole([ScoredId("a", 1.0), ScoredId("b", 1.0)], limit=2) == []
