"""Twitter sources of the bundled sample: CrisisLexT6 events, Trump tweets, TweetEval stance."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from lab.scripts.sample_common import (
    Record,
    read_dicts,
    rng_for,
    sample,
    spread,
    twitter_unescape,
    unique_texts,
    utc,
    with_lang,
)

__all__ = ["crisislex", "trump", "tweeteval"]


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
