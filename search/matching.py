"""What *a match* is: the set of posts that totals, facets, the histogram and `latest` count.

Hybrid recall ranks every post (each has some dense similarity), so a ranked
list has no size; a desk asking "how big is this story" needs a yes/no rule.
A post matches a query when, under the search's filters, phrases and
exclusions, it

- **holds every required term**: the `terms` keys of the query's words, stop
  words aside (`required_terms`; the same keys a quoted phrase asks for, so a
  Chinese run asks for its character bigrams), or
- **is close by meaning**: its dense cosine to the query is at least the
  running model's threshold (`dense_threshold`), among the
  `MAX_DENSE_MATCHES` closest such posts.

Both halves are Qdrant filters or a bounded Qdrant search (`search.counting`),
so the engine counts them on either back end. The thresholds were measured on
the public sets, precision and recall of "match" against their judgements
(`lab/evaluation/match_study.py`, docs/decisions/0025-what-a-match-is.md).

Why per model: cosines live on each model's own scale. all-MiniLM-L6-v2 puts
unrelated tweets near 0.1; multilingual-e5-small puts them at 0.75-0.83 and
related ones near 0.9. One number cannot serve both. **Fallback**: a model
missing from the table gets no dense half (terms only): a guessed threshold
would count either the whole index or nothing, while terms alone are exact,
if narrower. An English-only model reading a query it does not know
(`scope.query_coverage` 0) has no dense half either.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

import regex

from search.models import ParsedQuery
from search.query import term_keys
from search.text import tokenize

_HAN = regex.compile(r"\p{Han}+")

__all__ = ["DENSE_THRESHOLDS", "MAX_DENSE_MATCHES", "MatchKind", "dense_threshold",
           "match_kind", "required_terms"]

# Dense-model id prefix -> the cosine at or above which a post matches by meaning.
# Adding a model is one line, measured with lab/evaluation/match_study.py.
DENSE_THRESHOLDS: Mapping[str, float] = {
    "minilm-l6-v2": 0.39,  # chosen on crisislex6 (P 0.78, R 0.70), decision 0025
    "multilingual-e5-small": 0.84,  # chosen on crisislex6 (P 0.78, R 0.73), decision 0025
}
# The dense half is a bounded search: past this many posts that match by meaning
# alone, `total` is a lower bound (`total_exact` false).
MAX_DENSE_MATCHES = 1000

MatchKind = Literal["terms", "dense", "both"]


def dense_threshold(model_id: str) -> float | None:
    """The running model's threshold: the longest table key its id starts with, else None
    (no dense half). Model ids carry their sparse scheme after the dense name
    (`minilm-l6-v2+lexical-bm25-v1(...)`), hence prefixes."""
    keys = [key for key in DENSE_THRESHOLDS if model_id.startswith(key)]
    return DENSE_THRESHOLDS[max(keys, key=len)] if keys else None


def required_terms(query: ParsedQuery) -> tuple[str, ...]:
    """The `terms` keys a post must all hold to match by its words (empty: none can:
    a query of stop words only matches by meaning alone).

    Latin words give their stems; a Chinese run is cut into words by the tokeniser
    first and each word gives its character bigrams, so 俄罗斯叙利亚反恐行动 asks for
    俄罗斯, 叙利亚, 反恐, 行动 anywhere in the post, not for the bigrams across word
    edges (斯叙, 亚反) that only the exact run holds (measured: recall 0.18 -> 0.29 at
    equal precision on nlpcc_weibo, decision 0025). A quoted phrase still asks for
    its whole run (`search.query.term_filter`).
    """
    keys = term_keys(_HAN.sub(" ", query.text))
    for run in _HAN.findall(query.text):
        for word in tokenize(run):
            keys += term_keys(word)
    return tuple(dict.fromkeys(keys))


def match_kind(terms: Collection[str], required: Collection[str], similarity: float | None,
               threshold: float | None) -> MatchKind | None:
    """Why a post matched (for explain), or None: it was recalled without matching."""
    by_terms = bool(required) and all(key in terms for key in required)
    by_dense = threshold is not None and similarity is not None and similarity >= threshold
    if by_terms and by_dense:
        return "both"
    return "terms" if by_terms else "dense" if by_dense else None
