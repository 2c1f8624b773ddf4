"""Forum sources of the bundled sample: NLPCC 2016 Weibo stance topics, Reddit college posts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lab.scripts.sample_common import (
    CST,
    Record,
    read_csv,
    read_dicts,
    rng_for,
    sample,
    spread,
    unique_texts,
    with_lang,
)

__all__ = ["reddit", "weibo"]


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
