"""The eval harness's pure parts: BEIR loaders, naming, replay arithmetic, ranking helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lab.evaluation.beir import (
    UNDATED,
    EvalDataError,
    engine_id,
    entry_name,
    parse_corpus,
    parse_engagement,
    parse_qrels,
    parse_queries,
    relevant_only,
)
from lab.evaluation.reference import bm25_parameters, recency_weights, top_rows
from lab.evaluation.trending import engagement_changes, moments
from search.models import MAX_TEXT_CHARS

# -- qrels -------------------------------------------------------------------------


def test_qrels_skip_the_header_and_keep_every_grade() -> None:
    lines = ["query-id\tcorpus-id\tscore\n", "q1\td1\t2\n", "q1\td2\t0\n", "\n", "q2\td1\t1\n"]
    assert parse_qrels(lines) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d1": 1}}


def test_qrels_relevant_means_grade_at_least_one() -> None:
    qrels = parse_qrels(["query-id\tcorpus-id\tscore", "q1\td1\t2", "q1\td2\t0", "q1\td3\t-1",
                         "q2\td9\t0"])
    assert relevant_only(qrels) == {"q1": {"d1": 2}}  # q2 has no relevant document left


def test_qrels_pair_judged_twice_keeps_its_highest_grade_and_float_grades_are_read() -> None:
    assert parse_qrels(["q\td\t1", "q\td\t3.0", "q\td\t2"]) == {"q": {"d": 3}}


def test_qrels_without_header_and_space_separated_are_read() -> None:
    assert parse_qrels(["q1 d1 1", "q1 d2 2"]) == {"q1": {"d1": 1, "d2": 2}}


@pytest.mark.parametrize(("line", "field", "problem"), [
    ("q1\td1", "score", "expected query-id, corpus-id and score separated by tabs (t.tsv)"),
    ("q1\td1\thigh", "score", "not a number: 'high' (t.tsv)"),
    ("q1\t\t1", "corpus-id", "required field is empty (t.tsv)"),
    ("q1\td1\t1.5", "score", "grades are integers, got '1.5' (t.tsv)"),
])
def test_qrels_bad_lines_name_line_field_and_problem(line: str, field: str, problem: str) -> None:
    with pytest.raises(EvalDataError) as caught:
        parse_qrels(["query-id\tcorpus-id\tscore", "q0\td0\t1", line], "t.tsv")
    assert (caught.value.line, caught.value.field, caught.value.problem) == (3, field, problem)


# -- queries -------------------------------------------------------------------------


def test_queries_read_ids_text_and_optional_as_of_in_utc() -> None:
    lines = ['{"_id": "a", "text": "flood"}\n', "\n",
             '{"_id": "b", "text": "storm", "as_of": "2021-09-19T00:00:00Z", "extra": 1}\n',
             '{"_id": "c", "text": "fire", "as_of": "2021-09-19T08:00:00+08:00"}\n',
             '{"_id": 7, "text": "naive", "as_of": "2021-09-19T00:00:00"}\n']
    queries = parse_queries(lines)
    assert [(q.id, q.text) for q in queries] == [("a", "flood"), ("b", "storm"), ("c", "fire"),
                                                 ("7", "naive")]
    moment = datetime(2021, 9, 19, tzinfo=UTC)
    assert [q.as_of for q in queries] == [None, moment, moment, moment]


@pytest.mark.parametrize(("line", "field", "problem"), [
    ('{"text": "no id"}', "_id", "required field is missing (q.jsonl)"),
    ('{"_id": "x"}', "text", "required field is missing (q.jsonl)"),
    ('{"_id": "x", "text": "  "}', "text", "required field is missing (q.jsonl)"),
    ('{"_id": "a", "text": "again"}', "_id", "duplicate query id 'a' (q.jsonl)"),
    ('{"_id": "x", "text": "t", "as_of": "yesterday"}', "as_of",
     "not an ISO-8601 time: 'yesterday' (q.jsonl)"),
    ("[1, 2]", "(record)", "not a JSON object (q.jsonl)"),
])
def test_queries_bad_lines_name_line_field_and_problem(line: str, field: str, problem: str) -> None:
    with pytest.raises(EvalDataError) as caught:
        parse_queries(['{"_id": "a", "text": "ok"}', line], "q.jsonl")
    assert (caught.value.line, caught.value.field, caught.value.problem) == (2, field, problem)


# -- corpus -------------------------------------------------------------------------


def test_corpus_joins_title_and_text_and_fills_what_a_post_needs() -> None:
    lines = [('{"_id": "r1", "title": "Chem lab", "text": "forgot my answer", '
              '"created_at": "2021-09-01T00:13:31Z", "lang": "en", "platform": "reddit"}'),
             '{"_id": "t1", "title": "", "text": "#SemST climate", "created_at": null}',
             '{"_id": "x/1 ?", "text": "odd id", "lang": "English", "likes": 5, "comments": 2}']
    docs, skipped = parse_corpus(lines)
    assert skipped == 0
    r1, t1, odd = (d.post for d in docs)
    assert (r1.id, r1.text, r1.platform, r1.lang) == ("r1", "Chem lab\n\nforgot my answer",
                                                      "reddit", "en")
    assert r1.created_at == datetime(2021, 9, 1, 0, 13, 31, tzinfo=UTC)
    assert (t1.text, t1.created_at, t1.platform) == ("#SemST climate", UNDATED, "unknown")
    assert docs[2].corpus_id == "x/1 ?" and odd.id == engine_id("x/1 ?") and odd.id.startswith("h-")
    assert (odd.lang, odd.likes, odd.comments) == ("en", 5, 2)  # bad lang code: detected instead


def test_corpus_in_a_time_aware_set_ignores_counts_and_skips_undated_and_empty_posts() -> None:
    lines = ['{"_id": "a", "text": "dated", "created_at": "2021-09-01T00:00:00Z", "comments": 40}',
             '{"_id": "b", "text": "undated"}',
             '{"_id": "c", "title": " ", "text": "", "created_at": "2021-09-01T00:00:00Z"}']
    docs, skipped = parse_corpus(lines, time_aware=True)
    assert [(d.corpus_id, d.post.comments) for d in docs] == [("a", 0)]
    assert skipped == 2


def test_corpus_cuts_text_to_the_post_limit() -> None:
    docs, _ = parse_corpus(['{"_id": "long", "text": "' + "word " * 3000 + '"}'])
    assert len(docs[0].post.text) == MAX_TEXT_CHARS


def test_corpus_errors_name_the_line() -> None:
    with pytest.raises(EvalDataError) as caught:
        parse_corpus(['{"_id": "a", "text": "x"}', '{"title": "no id", "text": "y"}'], "c.jsonl")
    assert (caught.value.line, caught.value.field) == (2, "_id")
    with pytest.raises(EvalDataError) as caught:
        parse_corpus(['{"_id": "a", "text": "x", "created_at": "when?"}'], "c.jsonl")
    assert (caught.value.line, caught.value.field) == (1, "created_at")


def test_engine_id_keeps_valid_ids_and_hashes_the_rest_stably() -> None:
    assert engine_id("262596552399396864") == "262596552399396864"
    assert engine_id("a b") == engine_id("a b") != engine_id("a  b")
    assert len(engine_id("x" * 200)) == 42


# -- engagement side file --------------------------------------------------------------


def test_engagement_table_by_as_of_then_corpus_id() -> None:
    lines = ["as_of\tcorpus-id\tn_comments\n", "2021-09-19T00:00:00Z\tp1\t3\n",
             "2021-09-20T00:00:00Z\tp1\t9\n", "2021-09-20T00:00:00Z\tp2\t1\n"]
    assert parse_engagement(lines) == {datetime(2021, 9, 19, tzinfo=UTC): {"p1": 3},
                                       datetime(2021, 9, 20, tzinfo=UTC): {"p1": 9, "p2": 1}}


def test_engagement_bad_header_and_counts_are_named() -> None:
    with pytest.raises(EvalDataError) as caught:
        parse_engagement(["as_of\tcorpus-id\tcomments"], "e.tsv")
    assert (caught.value.field, caught.value.line) == ("n_comments", 1)
    with pytest.raises(EvalDataError) as caught:
        parse_engagement(["as_of\tcorpus-id\tn_comments", "2021-09-19T00:00:00Z\tp\t-2"], "e.tsv")
    assert (caught.value.field, caught.value.problem) == ("n_comments", "negative count (e.tsv)")


def test_engagement_changes_apply_new_counts_and_reset_absent_ones_to_zero() -> None:
    current = {"a": 2, "b": 5, "c": 1}
    target = {"a": 2, "b": 7, "d": 4}
    assert engagement_changes(current, target) == {"b": 7, "d": 4, "c": 0}
    assert engagement_changes({}, {}) == {}


def test_moments_are_increasing_with_undated_queries_last() -> None:
    t1, t2 = datetime(2021, 9, 19, tzinfo=UTC), datetime(2021, 9, 20, tzinfo=UTC)
    assert moments([t2, None, t1, t2]) == [t1, t2, None]
    assert moments([None]) == [None]


# -- naming and ranking helpers ------------------------------------------------------------


def test_entry_names_for_main_queries_and_variants() -> None:
    assert entry_name("nlpcc_weibo", "queries.jsonl") == "nlpcc_weibo"
    assert entry_name("nlpcc_weibo", "queries_en.jsonl") == "nlpcc_weibo[queries_en]"


def test_top_rows_keep_positive_scores_best_first_ties_by_row() -> None:
    scores = np.array([0.0, 2.0, 5.0, 2.0, 2.0, -1.0, 1.0], dtype=np.float32)
    assert top_rows(scores, 10) == [2, 1, 3, 4, 6]
    assert top_rows(scores, 3) == [2, 1, 3]


def test_bm25_parameters_come_from_the_lexical_model_id() -> None:
    model_id = "minilm-l6-v2+lexical-bm25-v1(k1=0.9,b=0.4,avg_len=20,tok=1.38298a11)"
    assert bm25_parameters(model_id) == (0.9, 0.4)
    assert bm25_parameters("bge-m3@abc") == (1.2, 0.75)  # the lexical encoder's defaults


def test_recency_halves_every_twelve_hours() -> None:
    as_of = datetime(2021, 9, 20, tzinfo=UTC).timestamp()
    created = np.array([as_of, as_of - 12 * 3600, as_of - 36 * 3600], dtype=np.float64)
    assert recency_weights(created, as_of).tolist() == pytest.approx([1.0, 0.5, 0.125])
