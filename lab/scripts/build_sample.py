"""Build the bundled sample `data/sample/posts.jsonl` from the shared source data.

The sample is a few thousand real posts from five public data sets, mixed so
that every feature of the search engine has something to bite on: two
languages and three platforms for the analysers and the language filter,
labelled crisis events and Weibo topics for relevance checks, real bursts
(crisis days, the 2016 campaign) for trend detection, and real engagement
counts (Trump tweets, Reddit) for engagement ranking.

Everything is deterministic: inputs are read in sorted order, every random
choice comes from a `random.Random` seeded with a fixed string per source, and
the output is sorted by (created_at, id). Re-running the script on the same
shared data reproduces the file byte for byte; `tests/unit/test_sample.py`
checks that.

Usage (from the repository root):

    .venv/bin/python scripts/build_sample.py [--shared ../shared] [--out data/sample/posts.jsonl]

Only the standard library and msgspec are used, so the script runs before the
heavy model dependencies are installed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

import msgspec

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from search.models import Post  # noqa: E402

SEED = "trendsearch-sample-v1"
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_OUT = REPO_ROOT / "data" / "sample" / "posts.jsonl"

# Roughly one post in ten per language ships without `lang`, so the indexer's
# language detection is exercised on both scripts. The choice hashes the post
# id, so it does not depend on sampling order.
NO_LANG_EVERY = 10

CST = timezone(timedelta(hours=8), "CST")  # Weibo posts get China Standard Time offsets

csv.field_size_limit(10_000_000)

Record = dict[str, Any]


# --------------------------------------------------------------------------- helpers


def read_csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    """Read a whole CSV/TSV file with the csv module.

    `utf-8-sig` strips the BOM some files carry; the csv module handles the
    quoted multi-line fields and CRLF row ends of the Weibo and Reddit files.
    """
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f, delimiter=delimiter))


def read_dicts(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    """Read a CSV/TSV with a header row into dicts, failing on ragged rows."""
    rows = read_csv(path, delimiter)
    header, body = rows[0], rows[1:]
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SystemExit(f"{path}:{n}: expected {len(header)} columns, got {len(row)}")
    return [dict(zip(header, row, strict=True)) for row in body]


def rng_for(*parts: str) -> Random:
    """A private RNG per source/stratum, so adding a source never reshuffles another."""
    return Random(":".join((SEED, *parts)))


def sample(rng: Random, items: list[Any], k: int) -> list[Any]:
    """`k` items (or all of them if fewer), keeping the population's order."""
    if k >= len(items):
        return list(items)
    picked = sorted(rng.sample(range(len(items)), k))
    return [items[i] for i in picked]


def unique_texts(items: Iterable[Any], text_of: Callable[[Any], str]) -> list[Any]:
    """Drop items whose text repeats an earlier one (retweets and copies add nothing)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        text = text_of(item)
        if text in seen:
            continue
        seen.add(text)
        kept.append(item)
    return kept


def twitter_unescape(text: str) -> str:
    """Undo the Twitter API's HTML escaping of `&`, `<` and `>`.

    The API returns `&amp;`, `&lt;` and `&gt;` in tweet text; those are the only
    entities it escapes, so this is the exact inverse and restores what was
    posted. `&amp;` goes last so `&amp;lt;` becomes `&lt;`, not `<`.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def utc(ts: str) -> datetime:
    """Parse `2012-10-28T16:47:51Z` into an aware UTC datetime."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc)


def spread(rng: Random, start: datetime, end: datetime) -> datetime:
    """A time uniformly between start and end, to the second."""
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def with_lang(record: Record, lang: str) -> Record:
    """Set `lang`, except for the ~1/NO_LANG_EVERY posts left for detection."""
    digest = hashlib.sha256(record["id"].encode()).digest()
    if int.from_bytes(digest[:4], "big") % NO_LANG_EVERY != 0:
        record["lang"] = lang
    return record


# --------------------------------------------------------------------------- CrisisLexT6

CRISIS_EVENTS = {
    # file prefix: slug used in the post ids
    "2012_Sandy_Hurricane": "sandy-hurricane",
    "2013_Alberta_Floods": "alberta-floods",
    "2013_Boston_Bombings": "boston-bombings",
    "2013_Oklahoma_Tornado": "oklahoma-tornado",
    "2013_Queensland_Floods": "queensland-floods",
    "2013_West_Texas_Explosion": "west-texas-explosion",
}
CRISIS_ON_TOPIC = 250
CRISIS_OFF_TOPIC = 120


def crisislex(data: Path) -> list[Record]:
    """On- and off-topic tweets for each of the six CrisisLexT6 events.

    The off-topic tweets were collected at the same time and place with the
    same keywords, so they are the realistic noise a crisis query must rank
    below the on-topic burst. Timestamps are real (from the tweet-id
    snowflake). Authors are not in the data; the event slug goes into the id
    (`crisislex-<event>-<tweet_id>`) so tests can count events.
    """
    records: list[Record] = []
    for path in sorted((data / "crisislex_t6").glob("*-ontopic_offtopic_ts.csv")):
        event = path.name.split("-ontopic_offtopic_ts.csv")[0]
        slug = CRISIS_EVENTS[event]
        rows = sorted(read_dicts(path), key=lambda r: int(r["tweet_id"]))
        rows = unique_texts(rows, lambda r: twitter_unescape(r["text"]).strip())
        for label, quota in (("on-topic", CRISIS_ON_TOPIC), ("off-topic", CRISIS_OFF_TOPIC)):
            pool = [r for r in rows if r["label"] == label]
            for r in sample(rng_for("crisislex", slug, label), pool, quota):
                record = {
                    "id": f"crisislex-{slug}-{r['tweet_id']}",
                    "text": twitter_unescape(r["text"]).strip(),
                    "platform": "twitter",
                    "created_at": utc(r["created_at_utc"]),
                }
                records.append(with_lang(record, "en"))
    missing = [
        slug
        for slug in CRISIS_EVENTS.values()
        if not any(r["id"].startswith(f"crisislex-{slug}-") for r in records)
    ]
    if missing:
        raise SystemExit(f"CrisisLexT6 events missing: {missing}")
    return records


# --------------------------------------------------------------------------- NLPCC Weibo


@dataclass(frozen=True)
class WeiboTopic:
    """One NLPCC 2016 target and the synthetic time window its posts get.

    The windows follow when each topic was in the news; half of each topic's
    posts fall in the shorter peak so the topic shows up as a burst. Dates are
    ISO days, read as midnight China Standard Time; ends are exclusive.
    """

    slug: str
    start: str
    end: str
    peak_start: str
    peak_end: str

    def window(self, peak: bool) -> tuple[datetime, datetime]:
        """The (start, end) of the whole window or of the peak, in CST."""
        first, last = (self.peak_start, self.peak_end) if peak else (self.start, self.end)
        return (
            datetime.fromisoformat(first).replace(tzinfo=CST),
            datetime.fromisoformat(last).replace(tzinfo=CST),
        )


WEIBO_TOPICS = {
    # Russia's air campaign in Syria: began 2015-09-30, withdrawal announced 2016-03-14.
    "俄罗斯叙利亚反恐行动": WeiboTopic(
        "russia-syria", "2015-09-30", "2016-03-16", "2015-09-30", "2015-10-21"
    ),
    # Universal two-child policy: announced 2015-10-29, in force 2016-01-01.
    "开放二胎": WeiboTopic(
        "two-child-policy", "2015-10-29", "2016-01-31", "2015-10-29", "2015-11-06"
    ),
    # Spring Festival fireworks: Chinese New Year's Eve was 2016-02-07.
    "春节放鞭炮": WeiboTopic(
        "spring-festival-fireworks", "2016-01-15", "2016-02-23", "2016-02-05", "2016-02-10"
    ),
    # iPhone SE: rumoured from January, announced 2016-03-21 (22 March in China).
    "iPhone SE": WeiboTopic("iphone-se", "2016-01-10", "2016-04-15", "2016-03-21", "2016-04-01"),
    # Shenzhen's crackdown on motorbikes and e-bikes: from 2016-03-21, debated into April.
    "深圳禁摩限电": WeiboTopic(
        "shenzhen-ebike-ban", "2016-03-18", "2016-04-30", "2016-03-31", "2016-04-08"
    ),
}
# The train file spells two targets differently from the test files.
WEIBO_TARGET_ALIASES = {
    "IphoneSE": "iPhone SE",
    "俄罗斯在叙利亚的反恐行动": "俄罗斯叙利亚反恐行动",
}
WEIBO_FILES = (  # (id tag, file); earlier files win when a text repeats
    ("train", "train_labeled_3000.tsv"),
    ("gold", "test_gold_1000.tsv"),
    ("test", "test_all_15000_topic_only.tsv"),
)
WEIBO_PER_TOPIC = 250


def weibo_rows(folder: Path) -> Iterator[tuple[str, str, str, str]]:
    """(file tag, row ID, canonical target, text) for every row of the three files.

    Read as the README says: BOM stripped, quoted multi-line fields parsed by
    the csv module, and rows with an extra tab inside TEXT rejoined
    (columns[2:-1] are the text).
    """
    for tag, name in WEIBO_FILES:
        rows = read_csv(folder / name, delimiter="\t")
        if rows[0][:3] != ["ID", "TARGET", "TEXT"]:
            raise SystemExit(f"{name}: unexpected header {rows[0]}")
        for row in rows[1:]:
            if len(row) < 4:
                raise SystemExit(f"{name}: short row {row[:2]}")
            target = WEIBO_TARGET_ALIASES.get(row[1], row[1])
            yield tag, row[0], target, "\t".join(row[2:-1]).strip()


def weibo(data: Path) -> list[Record]:
    """~250 posts per NLPCC 2016 Weibo topic, from the train, gold and test files.

    The data carries no timestamps, so each post gets a synthetic but
    deterministic time inside its topic's news window (see WEIBO_TOPICS), in
    China Standard Time (+08:00). Ids are `weibo-<topic>-<file>-<row ID>`.
    """
    by_topic: dict[str, list[tuple[str, str, str]]] = {t: [] for t in WEIBO_TOPICS}
    seen: set[str] = set()
    for tag, row_id, target, text in weibo_rows(data / "nlpcc2016_weibo_stance"):
        if target not in WEIBO_TOPICS:
            raise SystemExit(f"unknown Weibo target {target!r}")
        if not text or text in seen:
            continue
        seen.add(text)
        by_topic[target].append((tag, row_id, text))

    records: list[Record] = []
    for target, topic in WEIBO_TOPICS.items():
        rng = rng_for("weibo", topic.slug)
        picked = sample(rng, by_topic[target], WEIBO_PER_TOPIC)
        for n, (tag, row_id, text) in enumerate(picked):
            when = spread(rng, *topic.window(peak=n % 2 == 0))
            record = {
                "id": f"weibo-{topic.slug}-{tag}-{row_id}",
                "text": text,
                "platform": "weibo",
                "created_at": when,
            }
            records.append(with_lang(record, "zh"))
    return records


# --------------------------------------------------------------------------- Trump tweets

# Tweets per year drawn at random (the archive is thin before 2012).
TRUMP_PER_YEAR = {
    2009: 10, 2010: 15, 2011: 25, 2012: 55, 2013: 75,
    2014: 45, 2015: 60, 2016: 80, 2017: 70, 2018: 3,
}  # fmt: skip
# Campaign days (UTC dates) taken nearly whole, so they show up as real bursts.
TRUMP_SPIKE_DAYS = {
    "2016-07-21": "Republican convention acceptance speech",
    "2016-09-27": "first presidential debate (night of 26 Sep, US time)",
    "2016-10-10": "second presidential debate (night of 9 Oct, US time)",
    "2016-10-20": "third presidential debate (night of 19 Oct, US time)",
    "2016-11-08": "election day",
    "2016-11-09": "election night",
}
TRUMP_PER_SPIKE_DAY = 40


def trump(data: Path) -> list[Record]:
    """Tweets of @realDonaldTrump with their real engagement counts.

    A random sample per year gives a long, thin timeline; the campaign days in
    TRUMP_SPIKE_DAYS are taken (almost) whole, so the stream has genuine 2016
    bursts with very high retweet and favourite counts. Replies are not
    counted in the archive, so `comments` is 0.
    """
    rows = read_dicts(data / "trump_tweets" / "trump_tweets_2009_2017.csv")
    rows.sort(key=lambda r: int(r["id_str"]))
    rows = unique_texts(rows, lambda r: twitter_unescape(r["text"]).strip())

    picked: list[dict[str, str]] = []
    for day in sorted(TRUMP_SPIKE_DAYS):
        pool = [r for r in rows if r["created_at"][:10] == day]
        picked += sample(rng_for("trump", day), pool, TRUMP_PER_SPIKE_DAY)
    for year, quota in sorted(TRUMP_PER_YEAR.items()):
        pool = [
            r
            for r in rows
            if r["created_at"][:4] == str(year) and r["created_at"][:10] not in TRUMP_SPIKE_DAYS
        ]
        picked += sample(rng_for("trump", str(year)), pool, quota)

    records = []
    for r in picked:
        record = {
            "id": f"trump-{r['id_str']}",
            "text": twitter_unescape(r["text"]).strip(),
            "platform": "twitter",
            "created_at": utc(r["created_at"]),
            "author": "realDonaldTrump",
            "likes": int(r["favorite_count"]),
            "reposts": int(r["retweet_count"]),
            "comments": 0,
            "url": f"https://twitter.com/realDonaldTrump/status/{r['id_str']}",
        }
        records.append(with_lang(record, "en"))
    return records


# --------------------------------------------------------------------------- Reddit college

# Posts per subreddit: r/ApplyingToCollege gets the most, because its October
# application-season burst is the trend to find; the small subreddits still
# get enough to be filterable.
REDDIT_PER_SUBREDDIT = {
    "ApplyingToCollege": 140,
    "College": 80,
    "GradSchool": 50,
    "CollegeRant": 40,
    "AskAcademia": 40,
    "Emory": 25,
    "CollegeMajors": 25,
}
REDDIT_EMPTY_BODIES = {"", "[deleted]", "[removed]"}


def reddit(data: Path) -> list[Record]:
    """Posts from college subreddits (Sep–Oct 2021) with upvotes and comment counts.

    The data has no user names, so `author` is the subreddit (`r/<name>`).
    `comments` is the count within 24 h of posting, which is comparable across
    posts (the total depends on when each post was scraped). NSFW posts are
    skipped. The permalink is built from the post's real Reddit id.
    """
    rows: list[dict[str, str]] = []
    for path in sorted((data / "reddit_college_public").glob("reddit_college_posts_*.csv")):
        rows += read_dicts(path)
    rows = [r for r in rows if r["over_18"] == "False"]
    rows.sort(key=lambda r: (int(r["created_utc"]), r["subreddit"], r["sid"]))

    def text_of(r: dict[str, str]) -> str:
        body = r["text"].strip()
        title = r["title"].strip()
        return title if body in REDDIT_EMPTY_BODIES else f"{title}\n\n{body}"

    rows = unique_texts(rows, text_of)
    records = []
    for sub, quota in REDDIT_PER_SUBREDDIT.items():
        pool = [r for r in rows if r["subreddit"] == sub]
        for r in sample(rng_for("reddit", sub), pool, quota):
            record = {
                "id": f"reddit-{r['sid']}",
                "text": text_of(r),
                "platform": "reddit",
                "created_at": datetime.fromtimestamp(int(r["created_utc"]), timezone.utc),
                "author": f"r/{sub}",
                "likes": int(r["upvotes"]),
                "reposts": 0,
                "comments": int(r["n_comments_24h"]),
                "url": f"https://www.reddit.com/r/{sub}/comments/{r['sid']}/",
            }
            records.append(with_lang(record, "en"))
    return records


# --------------------------------------------------------------------------- TweetEval stance

TWEETEVAL_PER_TOPIC = 40
TWEETEVAL_START = datetime(2016, 1, 1, tzinfo=timezone.utc)
TWEETEVAL_END = datetime(2017, 1, 1, tzinfo=timezone.utc)


def tweeteval(data: Path) -> list[Record]:
    """40 tweets per SemEval-2016 stance topic (abortion, atheism, climate, feminist, hillary).

    These are the hard cases for lexical search: the topic hashtags were
    removed, so many tweets never name their topic. The data has no
    timestamps, so each tweet gets a synthetic deterministic time in 2016 (UTC).
    Ids are `tweeteval-<topic>-<split>-<row index>`.
    """
    rows = read_dicts(data / "tweeteval_stance" / "tweeteval_stance_all.tsv", delimiter="\t")
    rows = unique_texts(rows, lambda r: r["text"].strip())
    records = []
    for topic in sorted({r["topic"] for r in rows}):
        rng = rng_for("tweeteval", topic)
        pool = [r for r in rows if r["topic"] == topic]
        for r in sample(rng, pool, TWEETEVAL_PER_TOPIC):
            record = {
                "id": f"tweeteval-{topic}-{r['split']}-{r['idx']}",
                "text": r["text"].strip(),
                "platform": "twitter",
                "created_at": spread(rng, TWEETEVAL_START, TWEETEVAL_END),
            }
            records.append(with_lang(record, "en"))
    return records


# --------------------------------------------------------------------------- assembly

SOURCES = (crisislex, weibo, trump, reddit, tweeteval)


# The line layout is fixed here rather than taken from `Post`'s encoder, so the
# committed file does not change when the struct's encoding options do. Absent
# optional fields (author, lang, url, image_urls) are left out of the line.
LINE_FIELDS = (
    "id", "text", "platform", "created_at", "author", "lang",
    "likes", "reposts", "comments", "image_urls", "url",
)  # fmt: skip


def validated(record: Record) -> bytes:
    """Encode a record as one JSONL line, after proving the line decodes as a `Post`.

    Fails loudly (SystemExit) if the line is not a valid Post, carries a field
    Post does not know, or decodes to different values than were written.
    """
    unknown = set(record) - set(LINE_FIELDS)
    if unknown:
        raise SystemExit(f"record {record.get('id')!r} has unknown fields {sorted(unknown)}")
    line_dict = {f: record[f] for f in LINE_FIELDS if record.get(f) not in (None, [])}
    line = msgspec.json.encode(line_dict)
    try:
        post = msgspec.json.decode(line, type=Post)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"record {record.get('id')!r} is not a valid Post: {exc}") from exc
    for field, value in line_dict.items():
        if getattr(post, field) != value:
            raise SystemExit(f"record {record['id']!r}: {field} does not round-trip")
    return line


def build(shared: Path) -> list[Record]:
    """All sources, texts unique across the whole sample, sorted by time then id."""
    data = shared / "data"
    if not data.is_dir():
        raise SystemExit(f"no shared data at {data}")
    records: list[Record] = []
    for source in SOURCES:
        records += source(data)
    records.sort(key=lambda r: (r["created_at"], r["id"]))
    ids = Counter(r["id"] for r in records)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise SystemExit(f"duplicate ids: {dupes[:5]}")
    # Cross-source duplicates (a tweet quoted in two data sets) would be
    # indistinguishable hits; keep the earliest.
    return unique_texts(records, lambda r: r["text"])


def summary(records: list[Record]) -> str:
    """Counts per source, platform and language, for the log and the README."""
    source = Counter(r["id"].split("-")[0] for r in records)
    platform = Counter(r["platform"] for r in records)
    lang = Counter(r.get("lang", "(none)") for r in records)
    return (
        f"{len(records)} posts; source {dict(source)}; "
        f"platform {dict(platform)}; lang {dict(lang)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared folder holding data/"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSONL file to write")
    args = parser.parse_args(argv)

    records = build(args.shared)
    lines = [validated(r) for r in records]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(b"".join(line + b"\n" for line in lines))
    tmp.replace(args.out)
    print(f"wrote {args.out}: {summary(records)}; {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
