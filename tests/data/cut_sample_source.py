"""Cut `tests/data/sample_source/` from the shared source data (see tests/data/README.md).

Keeps, from each file the sample builder reads, a few rows whose posts are in the
bundled sample (`data/sample/posts.jsonl`), plus rows the builder must drop (an
NSFW Reddit post, texts that repeat an earlier row's), so `tests/unit/test_sample.py`
can run the builder on them anywhere. Rows are re-written with Python's csv module
(same values, same BOM and line ends as the source file). Deterministic: picks are
evenly spaced over the sample's sorted ids.

    .venv/bin/python tests/data/cut_sample_source.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "sample_source" / "data"

csv.field_size_limit(10_000_000)


def spaced(items: list[str], k: int) -> list[str]:
    """`k` items evenly spaced over the sorted list (all when fewer)."""
    items = sorted(items)
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)] if k > 1 else items[:1]


def read(path: Path, delimiter: str) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f, delimiter=delimiter))


def write(src: Path, dst: Path, rows: list[list[str]], delimiter: str) -> None:
    """Rows as the source wrote them: its BOM and its line ends."""
    raw = src.read_bytes()[:4096]
    bom = raw.startswith(b"\xef\xbb\xbf")
    crlf = raw.split(b"\n", 1)[0].endswith(b"\r")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(rows)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    data = parser.parse_args().shared / "data"
    sample = [json.loads(line)["id"] for line in (REPO / "data/sample/posts.jsonl").open()]

    # CrisisLexT6: 7 sample tweets per event, and one later copy of a picked text.
    for src in sorted((data / "crisislex_t6").glob("*.csv")):
        rows = read(src, ",")
        header, body = rows[0], rows[1:]
        slug = {"2012_Sandy_Hurricane": "sandy-hurricane", "2013_Alberta_Floods": "alberta-floods",
                "2013_Boston_Bombings": "boston-bombings", "2013_Oklahoma_Tornado": "oklahoma-tornado",
                "2013_Queensland_Floods": "queensland-floods",
                "2013_West_Texas_Explosion": "west-texas-explosion"}[src.name.split("-")[0]]
        ids = {i.rsplit("-", 1)[1] for i in sample if i.startswith(f"crisislex-{slug}-")}
        picked = set(spaced(sorted(ids), 7))
        keep = [r for r in body if r[1] in picked]
        texts = {unescape(r[3]): int(r[1]) for r in keep}
        copy = next((r for r in sorted(body, key=lambda r: int(r[1]))
                     if unescape(r[3]) in texts and int(r[1]) > texts[unescape(r[3])]), None)
        if copy is None:  # no picked text repeats: add a sample tweet that has a later copy
            first: dict[str, list[str]] = {}
            for r in sorted(body, key=lambda r: int(r[1])):
                t = unescape(r[3])
                if t in first and first[t][1] in ids:
                    keep += [first[t], r]
                    break
                first.setdefault(t, r)
        else:
            keep.append(copy)
        write(src, OUT / "crisislex_t6" / src.name, [header, *keep], ",")

    # NLPCC Weibo: 2 sample rows per (topic, file), one with an extra tab inside TEXT,
    # and a later file's row repeating a picked text.
    folder = data / "nlpcc2016_weibo_stance"
    wanted: dict[str, set[str]] = defaultdict(set)
    for i in sample:
        if i.startswith("weibo-"):
            slug, tag, row_id = i[len("weibo-"):].rsplit("-", 2)
            wanted[tag].add(f"{slug}/{row_id}")
    picked_texts: set[str] = set()
    for tag, name in (("train", "train_labeled_3000.tsv"), ("gold", "test_gold_1000.tsv"),
                      ("test", "test_all_15000_topic_only.tsv")):
        rows = read(folder / name, "\t")
        header, body = rows[0], rows[1:]
        in_sample = {k.rsplit("/", 1)[1] for k in wanted[tag]}
        per_topic: dict[str, list[str]] = defaultdict(list)
        for r in body:
            if r[0] in in_sample:
                per_topic[r[1]].append(r[0])
        picked = {rid for ids in per_topic.values() for rid in spaced(ids, 2)}
        extra_tab = next((r[0] for r in body if len(r) > 4 and r[0] in in_sample), None)
        if extra_tab:
            picked.add(extra_tab)
        keep = [r for r in body if r[0] in picked]
        repeat = next((r for r in body if "\t".join(r[2:-1]).strip() in picked_texts), None)
        if repeat is not None:
            keep.append(repeat)
        picked_texts |= {"\t".join(r[2:-1]).strip() for r in keep}
        write(folder / name, OUT / "nlpcc2016_weibo_stance" / name, [header, *keep], "\t")

    # Trump: 2 sample tweets per campaign day and 1 per other year.
    src = data / "trump_tweets" / "trump_tweets_2009_2017.csv"
    rows = read(src, ",")
    header, body = rows[0], rows[1:]
    ids = {i.split("-", 1)[1] for i in sample if i.startswith("trump-")}
    days: dict[str, list[str]] = defaultdict(list)
    for r in body:
        if r[2] in ids:
            day = r[4][:10]
            key = day if day in {"2016-07-21", "2016-09-27", "2016-10-10", "2016-10-20",
                                 "2016-11-08", "2016-11-09"} else r[4][:4]
            days[key].append(r[2])
    picked = {i for key, group in days.items() for i in spaced(group, 2 if "-" in key else 1)}
    write(src, OUT / "trump_tweets" / src.name, [header, *[r for r in body if r[2] in picked]], ",")

    # Reddit: a sample post per subreddit and file, and one NSFW post (the builder skips those).
    ids = {i.split("-", 1)[1] for i in sample if i.startswith("reddit-")}
    for src in sorted((data / "reddit_college_public").glob("*.csv")):
        rows = read(src, ",")
        header, body = rows[0], rows[1:]
        per_sub: dict[str, list[str]] = defaultdict(list)
        for r in body:
            if r[1] in ids:
                per_sub[r[0]].append(r[1])
        picked = {i for group in per_sub.values() for i in spaced(group, 1)}
        keep = [r for r in body if r[1] in picked]
        nsfw = next((r for r in body if r[header.index("over_18")] == "True"), None)
        if nsfw is not None:
            keep.append(nsfw)
        write(src, OUT / "reddit_college_public" / src.name, [header, *keep], ",")

    # TweetEval: 2 sample tweets per topic.
    src = data / "tweeteval_stance" / "tweeteval_stance_all.tsv"
    rows = read(src, "\t")
    header, body = rows[0], rows[1:]
    ids = {i for i in sample if i.startswith("tweeteval-")}
    per_topic = defaultdict(list)
    for r in body:
        if f"tweeteval-{r[0]}-{r[1]}-{r[2]}" in ids:
            per_topic[r[0]].append(f"{r[1]}-{r[2]}")
    picked = {f"{t}-{k}" for t, group in per_topic.items() for k in spaced(group, 2)}
    keep = [r for r in body if f"{r[0]}-{r[1]}-{r[2]}" in picked]
    write(src, OUT / "tweeteval_stance" / src.name, [header, *keep], "\t")


if __name__ == "__main__":
    main()
