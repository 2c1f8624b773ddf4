"""BEIR-format sets on disk -> the posts, queries, judgements and side files the harness runs.

A set is a folder: `corpus.jsonl` (`_id`, `title`, `text`, optional post fields),
`queries.jsonl` (`_id`, `text`, optional `as_of`), optional query variants
`queries_<name>.jsonl` (same ids, other wording), `qrels/test.tsv` (`query-id`,
`corpus-id`, `score`, header line) and, for time-aware sets, `engagement_as_of.tsv`
(`as_of`, `corpus-id`, `n_comments`).

Parsing is split from reading (`parse_*` take lines) so the rules can be tested
without files. Bad judgement or query lines are errors naming file, line and
field: a silently dropped qrel changes every metric. Corpus documents are turned
into valid `Post`s (the same schema every other door uses), bent where the
format allows what a post does not: title and text are joined, over-long text
is cut, an id the engine cannot store is replaced by a stable hash, and a
missing `created_at` gets a fixed placeholder (in a time-aware set such a post
could never be placed in time, so it is skipped and counted instead).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from indexer.validate import to_post
from search.errors import EvalDataError, FieldError
from search.models import MAX_TEXT_CHARS, Post

MAIN_QUERIES = "queries.jsonl"
VARIANT_GLOB = "queries_*.jsonl"
QRELS = Path("qrels") / "test.tsv"
ENGAGEMENT = "engagement_as_of.tsv"
# Undated posts (tweeteval, weibo) still need a time to be posts; it matters only to
# time-aware modes, which such sets do not have.
UNDATED = datetime(2000, 1, 1, tzinfo=UTC)
_POST_ID = re.compile(r"^[^\s/?#]+$")
_COUNT_FIELDS = ("likes", "reposts", "comments")


class Doc(msgspec.Struct, frozen=True):
    """One corpus document: its id in the set, and the post the engine indexes."""

    corpus_id: str
    post: Post


class Query(msgspec.Struct, frozen=True):
    id: str
    text: str
    as_of: datetime | None = None


class QuerySet(msgspec.Struct, frozen=True):
    """One queries file of a set; `name` is its entry in the results."""

    name: str
    file: str
    queries: list[Query]


class BeirSet(msgspec.Struct):
    name: str
    folder: Path
    docs: list[Doc]
    query_sets: list[QuerySet]
    qrels: dict[str, dict[str, int]]
    # as_of -> corpus id -> comments observable then; None when the set has no side file.
    engagement: dict[datetime, dict[str, int]] | None
    skipped_docs: int = 0

    @property
    def time_aware(self) -> bool:
        return any(q.as_of is not None for qs in self.query_sets for q in qs.queries)


# -- names -------------------------------------------------------------------
def entry_name(set_name: str, queries_file: str) -> str:
    """`nlpcc_weibo` for the main `queries.jsonl`, `nlpcc_weibo[queries_en]` for a variant."""
    stem = Path(queries_file).name.removesuffix(".jsonl")
    return set_name if queries_file == MAIN_QUERIES else f"{set_name}[{stem}]"


def query_files(folder: Path, requested: Sequence[str] | None) -> list[str]:
    """Which queries files of `folder` to run: the main one, plus the variants.

    With no request, every `queries_*.jsonl` present runs (a held-out set's
    variants are part of what it measures, and nobody should have to know they
    exist); with a request (`--queries`), only the named variants that this set
    has. The main `queries.jsonl` always runs when present.
    """
    files = [MAIN_QUERIES] if (folder / MAIN_QUERIES).is_file() else []
    if requested is None:
        files += sorted(p.name for p in folder.glob(VARIANT_GLOB) if p.is_file())
    else:
        for name in requested:
            name = name if name.endswith(".jsonl") else f"{name}.jsonl"
            if name != MAIN_QUERIES and (folder / name).is_file() and name not in files:
                files.append(name)
    return files


def engine_id(corpus_id: str) -> str:
    """The corpus id when a post may carry it, else a stable hash of it."""
    if len(corpus_id) <= 128 and _POST_ID.match(corpus_id):
        return corpus_id
    return "h-" + hashlib.sha256(corpus_id.encode("utf-8")).hexdigest()[:40]


# -- parsing -------------------------------------------------------------------
def _moment(value: Any, *, source: str, line: int, field: str) -> datetime:
    """ISO-8601; `Z` or an offset, and a time without one is taken as UTC (BEIR sets say UTC)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise EvalDataError(field, f"not an ISO-8601 time: {value!r} ({source})",
                            line=line) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _json_lines(lines: Iterable[str], source: str) -> Iterable[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise EvalDataError("(record)", f"not JSON: {exc} ({source})", line=number) from None
        if not isinstance(record, dict):
            raise EvalDataError("(record)", f"not a JSON object ({source})", line=number)
        yield number, record


def _required_str(record: dict[str, Any], field: str, source: str, line: int) -> str:
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EvalDataError(field, f"required field is missing ({source})", line=line)
    return str(value)


def parse_qrels(lines: Iterable[str], source: str = "qrels") -> dict[str, dict[str, int]]:
    """`query-id TAB corpus-id TAB score` -> {query: {doc: grade}}, every grade kept.

    The first line is a header when its score column is not a number (BEIR
    writes `query-id corpus-id score`). A pair judged twice keeps its highest grade.
    """
    qrels: dict[str, dict[str, int]] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        line = raw.rstrip("\r\n")
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) < 3:
            raise EvalDataError("score", f"expected query-id, corpus-id and score "
                                         f"separated by tabs ({source})", line=number)
        query_id, doc_id, score = cols[0].strip(), cols[1].strip(), cols[2].strip()
        try:
            grade = float(score)
        except ValueError:
            if number == 1:
                continue  # the header line
            raise EvalDataError("score", f"not a number: {score!r} ({source})",
                                line=number) from None
        if not query_id or not doc_id:
            raise EvalDataError("query-id" if not query_id else "corpus-id",
                                f"required field is empty ({source})", line=number)
        if grade != int(grade):
            raise EvalDataError("score", f"grades are integers, got {score!r} ({source})",
                                line=number)
        judged = qrels.setdefault(query_id, {})
        judged[doc_id] = max(int(grade), judged.get(doc_id, int(grade)))
    return qrels


def relevant_only(qrels: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Grade >= 1 is relevant; 0 (or negative) judgements are dropped, as unlisted docs are."""
    kept = {q: {d: g for d, g in docs.items() if g >= 1} for q, docs in qrels.items()}
    return {q: docs for q, docs in kept.items() if docs}


def parse_queries(lines: Iterable[str], source: str = "queries") -> list[Query]:
    queries: list[Query] = []
    seen: set[str] = set()
    for number, record in _json_lines(lines, source):
        query_id = _required_str(record, "_id", source, number)
        text = _required_str(record, "text", source, number)
        if query_id in seen:
            raise EvalDataError("_id", f"duplicate query id {query_id!r} ({source})", line=number)
        seen.add(query_id)
        as_of = record.get("as_of")
        queries.append(Query(id=query_id, text=text, as_of=None if as_of in (None, "") else
                             _moment(as_of, source=source, line=number, field="as_of")))
    return queries


def parse_engagement(lines: Iterable[str],
                     source: str = ENGAGEMENT) -> dict[datetime, dict[str, int]]:
    """`as_of TAB corpus-id TAB n_comments` (header first) -> {as_of: {doc: comments}}."""
    table: dict[datetime, dict[str, int]] = {}
    columns: list[str] | None = None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        cols = [c.strip() for c in raw.rstrip("\r\n").split("\t")]
        if columns is None:
            columns = cols
            missing = [c for c in ("as_of", "corpus-id", "n_comments") if c not in columns]
            if missing:
                raise EvalDataError(missing[0], f"header lacks column(s) {', '.join(missing)} "
                                                f"({source})", line=number)
            continue
        row = dict(zip(columns, cols, strict=False))
        try:
            count = int(row.get("n_comments", ""))
        except ValueError:
            raise EvalDataError("n_comments", f"not an integer: {row.get('n_comments')!r} "
                                              f"({source})", line=number) from None
        if count < 0:
            raise EvalDataError("n_comments", f"negative count ({source})", line=number)
        moment = _moment(row.get("as_of"), source=source, line=number, field="as_of")
        table.setdefault(moment, {})[row.get("corpus-id", "")] = count
    return table


def _post_record(record: dict[str, Any], *, time_aware: bool) -> dict[str, Any] | None:
    """The post fields of one corpus record, bent into `Post`'s limits; None to skip it."""
    title = str(record.get("title") or "").strip()
    body = str(record.get("text") or "").strip()
    text = f"{title}\n\n{body}" if title and body else title or body
    if not text:
        return None
    out: dict[str, Any] = {
        "id": engine_id(str(record["_id"])),
        "text": text[:MAX_TEXT_CHARS],
        "platform": str(record.get("platform") or "unknown")[:128],
    }
    created = record.get("created_at")
    if created in (None, ""):
        if time_aware:
            return None
        out["created_at"] = UNDATED
    else:
        out["created_at"] = created
    lang = record.get("lang")
    if isinstance(lang, str) and re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$", lang):
        out["lang"] = lang[:16]
    author = record.get("author")
    if isinstance(author, str) and author:
        out["author"] = author[:256]
    # In a time-aware set the corpus counts are final totals, known only later:
    # the engine sees engagement through the as_of replay, never from here.
    if not time_aware:
        for field in _COUNT_FIELDS:
            value = record.get(field)
            if isinstance(value, int | float) and value >= 0:
                out[field] = int(value)
    return out


def parse_corpus(lines: Iterable[str], source: str = "corpus",
                 *, time_aware: bool = False) -> tuple[list[Doc], int]:
    """Documents as posts, and how many were skipped (no text, or undated in a time-aware set)."""
    docs: list[Doc] = []
    skipped = 0
    seen: set[str] = set()
    for number, record in _json_lines(lines, source):
        corpus_id = _required_str(record, "_id", source, number)
        record = {**record, "_id": corpus_id}
        fields = _post_record(record, time_aware=time_aware)
        if fields is None:
            skipped += 1
            continue
        if corpus_id in seen:
            raise EvalDataError("_id", f"duplicate document id {corpus_id!r} ({source})",
                                line=number)
        seen.add(corpus_id)
        try:
            post = to_post(fields, line=number)
        except FieldError as exc:
            raise EvalDataError(exc.field, f"{exc.problem} ({source})", line=number) from None
        docs.append(Doc(corpus_id=corpus_id, post=post))
    return docs, skipped


# -- reading -------------------------------------------------------------------
def _lines(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8") as fh:
        yield from fh


def load_set(folder: Path, queries: Sequence[str] | None = None) -> BeirSet:
    """Read one set; `queries` names the variant files to run (None: all present)."""
    folder = Path(folder)
    for need in ("corpus.jsonl", str(QRELS)):
        if not (folder / need).is_file():
            raise EvalDataError("DIR", f"{folder} is not a BEIR set: no {need}")
    files = query_files(folder, queries)
    if not files:
        raise EvalDataError("DIR", f"{folder} has no {MAIN_QUERIES} and no requested variant")
    query_sets = [QuerySet(name=entry_name(folder.name, f), file=f,
                           queries=parse_queries(_lines(folder / f), str(folder / f)))
                  for f in files]
    time_aware = any(q.as_of is not None for qs in query_sets for q in qs.queries)
    docs, skipped = parse_corpus(_lines(folder / "corpus.jsonl"), str(folder / "corpus.jsonl"),
                                 time_aware=time_aware)
    side = folder / ENGAGEMENT
    return BeirSet(
        name=folder.name, folder=folder, docs=docs, query_sets=query_sets,
        qrels=parse_qrels(_lines(folder / QRELS), str(folder / QRELS)),
        engagement=parse_engagement(_lines(side), str(side)) if side.is_file() else None,
        skipped_docs=skipped,
    )
