"""Watches, matches, alerts, deliveries and the scheduler lease, in one SQLite file.

Why SQLite (stdlib) and not the Qdrant index: these are small relational rows
that must survive a restart and be updated in transactions ("open this alert
and owe its webhook" is one commit, so a crash leaves both or neither), and
they must outlive any one posts index (a `reindex` builds a new one). Qdrant
holds only what it is good at, the watches' query vectors (`percolate`). The
file lives under the data folder (`DATA_DIR/watches.sqlite`); WAL journal, so
an API process and a `trendsearch watch` process may share it.
(docs/decisions/0026-watches.md.)

Connections are per thread (SQLite objects must stay in their thread); each
write is one short transaction, `BEGIN IMMEDIATE` where read-then-write must not
interleave with another process (the lease, opening an alert).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from search.watches.models import Match, Watch
from search.watches.relevance import Calibration

FILE_NAME = "watches.sqlite"
SLOT_S = 600
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id TEXT PRIMARY KEY, body BLOB NOT NULL, created_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS matches (
    watch_id TEXT NOT NULL, post_id TEXT NOT NULL, created_ts REAL NOT NULL,
    dense REAL NOT NULL, lexical REAL NOT NULL, copy INTEGER NOT NULL,
    terms_mask INTEGER NOT NULL, behind REAL NOT NULL,
    PRIMARY KEY (watch_id, post_id)) WITHOUT ROWID;
-- Posts ingested per 10-minute slot: a baseline window with no traffic at all is unknown,
-- not quiet (a feed that was down says nothing about a story).
CREATE TABLE IF NOT EXISTS traffic (slot INTEGER PRIMARY KEY, posts INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS matches_by_time ON matches (watch_id, created_ts);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, episode INTEGER NOT NULL,
    fired_ts REAL NOT NULL, last_hot_ts REAL NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_watch ON alerts (watch_id, fired_ts);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (fired_ts);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, url TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL, created_ts REAL NOT NULL, updated_ts REAL NOT NULL,
    last_error TEXT, status_code INTEGER, payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state, updated_ts);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS term_df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS calibration (
    watch_id TEXT PRIMARY KEY, median REAL NOT NULL, spread REAL NOT NULL, n INTEGER NOT NULL,
    at_ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS engagement (
    post_id TEXT PRIMARY KEY, ts REAL NOT NULL, total INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


# Every change to the watch set bumps this, so a percolator in another process (an API
# beside a CLI that created a watch) notices and reloads.
_BUMP = ("INSERT INTO meta VALUES ('watches_version', '1') ON CONFLICT(key) DO UPDATE "
         "SET value = CAST(value AS INTEGER) + 1")


def ts(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp()


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class WatchDB:
    """The watches database file; safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self.connection().executescript(_SCHEMA)  # its own transaction (executescript commits)

    @classmethod
    def in_folder(cls, data_dir: Path) -> WatchDB:
        return cls(Path(data_dir) / FILE_NAME)

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt;
            # a killed process loses nothing it committed.
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._guard:
                self._all.append(db)
        return db

    @contextmanager
    def write(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on any error."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        with self._guard:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()

    # -- watches ----------------------------------------------------------
    def put_watch(self, watch: Watch) -> None:
        with self.write() as db:
            db.execute("INSERT OR REPLACE INTO watches VALUES (?, ?, ?)",
                       (watch.id, msgspec.json.encode(watch), ts(watch.created_at)))
            db.execute(_BUMP)

    def get_watch(self, watch_id: str) -> Watch | None:
        row = self.connection().execute("SELECT body FROM watches WHERE id = ?",
                                        (watch_id,)).fetchone()
        return msgspec.json.decode(row[0], type=Watch) if row else None

    def watches(self) -> list[Watch]:
        rows = self.connection().execute("SELECT body FROM watches ORDER BY created_ts, id")
        return [msgspec.json.decode(r[0], type=Watch) for r in rows]

    def delete_watch(self, watch_id: str) -> bool:
        """The watch and its matches go; its alerts stay, as history."""
        with self.write() as db:
            gone = db.execute("DELETE FROM watches WHERE id = ?", (watch_id,)).rowcount
            db.execute(_BUMP)
            db.execute("DELETE FROM matches WHERE watch_id = ?", (watch_id,))
            db.execute("DELETE FROM calibration WHERE watch_id = ?", (watch_id,))
        return bool(gone)

    # -- matches ----------------------------------------------------------
    def add_matches(self, matches: Sequence[Match]) -> None:
        """Re-ingesting a post replaces its match (point ids derive from post ids too)."""
        if not matches:
            return
        with self.write() as db:
            db.executemany("INSERT OR REPLACE INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(m.watch_id, m.post_id, m.created_ts, m.dense, m.lexical, m.copy,
                             m.terms_mask, m.behind) for m in matches])

    def matches(self, watch_id: str, since: float, until: float) -> list[Match]:
        """The watch's matches created in [since, until), oldest first."""
        rows = self.connection().execute(
            "SELECT watch_id, post_id, created_ts, dense, lexical, copy, terms_mask, behind "
            "FROM matches "
            "WHERE watch_id = ? AND created_ts >= ? AND created_ts < ? ORDER BY created_ts",
            (watch_id, since, until))
        return [Match(*row) for row in rows]

    def lexical_matches(self, post_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(watch, post) pairs where the post holds some of the watch's words."""
        out: list[tuple[str, str]] = []
        for start in range(0, len(post_ids), 500):
            chunk = list(post_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            out.extend(self.connection().execute(
                f"SELECT watch_id, post_id FROM matches WHERE lexical > 0 AND post_id IN ({marks})",
                chunk))
        return out

    # -- traffic: posts per 10-minute slot ----------------------------------
    def add_traffic(self, created: Sequence[float]) -> None:
        slots: dict[int, int] = {}
        for t in created:
            slots[int(t // SLOT_S)] = slots.get(int(t // SLOT_S), 0) + 1
        if not slots:
            return
        with self.write() as db:
            db.executemany("INSERT INTO traffic VALUES (?, ?) ON CONFLICT(slot) DO UPDATE "
                           "SET posts = posts + excluded.posts", list(slots.items()))

    def traffic(self, since: float, until: float) -> dict[int, int]:
        """Posts per slot (slot = created_ts // SLOT_S) in [since, until)."""
        rows = self.connection().execute(
            "SELECT slot, posts FROM traffic WHERE slot >= ? AND slot < ?",
            (int(since // SLOT_S), int(-(-until // SLOT_S))))
        return dict(rows)

    def forget_watch_matches(self, watch_id: str) -> None:
        """A watch whose query changed starts over: its old matches answered another question."""
        with self.write() as db:
            db.execute("DELETE FROM matches WHERE watch_id = ?", (watch_id,))

    def forget_posts(self, post_ids: Sequence[str]) -> None:
        """A takedown: the post must not appear in a later alert."""
        with self.write() as db:
            db.executemany("DELETE FROM matches WHERE post_id = ?", [(p,) for p in post_ids])

    def prune_matches(self, before: float) -> int:
        with self.write() as db:
            return db.execute("DELETE FROM matches WHERE created_ts < ?", (before,)).rowcount

    # -- document frequencies of watch terms (lexical weights) -------------
    def add_term_counts(self, posts: int, counts: dict[str, int]) -> None:
        with self.write() as db:
            db.execute("INSERT INTO meta VALUES ('posts', ?) ON CONFLICT(key) DO UPDATE "
                       "SET value = CAST(value AS INTEGER) + excluded.value", (str(posts),))
            db.executemany("INSERT INTO term_df VALUES (?, ?) ON CONFLICT(term) DO UPDATE "
                           "SET n = n + excluded.n", list(counts.items()))

    def term_counts(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        db = self.connection()
        row = db.execute("SELECT value FROM meta WHERE key = 'posts'").fetchone()
        found: dict[str, int] = {}
        for start in range(0, len(terms), 500):
            chunk = list(terms[start:start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT term, n FROM term_df WHERE term IN ({marks})", chunk))
        return int(row[0]) if row else 0, found

    # -- each watch's dense score distribution over recent posts (`relevance`) ----
    def put_calibrations(self, rows: dict[str, Calibration]) -> None:
        with self.write() as db:
            db.executemany("INSERT OR REPLACE INTO calibration VALUES (?, ?, ?, ?, ?)",
                           [(w, c.median, c.spread, c.n, c.at_ts) for w, c in rows.items()])

    def calibrations(self) -> dict[str, Calibration]:
        rows = self.connection().execute("SELECT watch_id, median, spread, n, at_ts FROM calibration")
        return {r[0]: Calibration(median=r[1], spread=r[2], n=r[3], at_ts=r[4]) for r in rows}

    # -- engagement seen at the last pass (the engagement trigger's growth) ---
    def engagement_seen(self, post_ids: Sequence[str]) -> dict[str, tuple[float, int]]:
        found: dict[str, tuple[float, int]] = {}
        for start in range(0, len(post_ids), 500):
            chunk = list(post_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            for post_id, seen_ts, total in self.connection().execute(
                    f"SELECT post_id, ts, total FROM engagement WHERE post_id IN ({marks})", chunk):
                found[post_id] = (seen_ts, total)
        return found

    def see_engagement(self, rows: dict[str, tuple[float, int]]) -> None:
        with self.write() as db:
            db.executemany("INSERT OR REPLACE INTO engagement VALUES (?, ?, ?)",
                           [(p, t, n) for p, (t, n) in rows.items()])

    # -- small state ------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.connection().execute(sql, params))
