"""Alerts, the webhook deliveries they owe, the dead-letter list and the scheduler lease.

Everything that must happen at most once goes through one transaction here:
opening an alert and owing its delivery commit together, so a process killed
between the two leaves both or neither, and a restarted scheduler sees the
episode as open and updates it instead of firing it again. The alert id is
derived from (watch, episode): the same episode always has the same id, which
is the webhook's idempotency key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from search.watches.db import WatchDB, at, ts
from search.watches.models import Alert, Delivery, Watch


def alert_id(watch: Watch, episode: int) -> str:
    key = f"{watch.id}\x00{ts(watch.created_at)}\x00{episode}".encode()
    return "al-" + hashlib.sha256(key).hexdigest()[:20]


class Ledger:
    def __init__(self, db: WatchDB) -> None:
        self.db = db

    # -- alerts -----------------------------------------------------------
    def latest(self, watch_id: str) -> Alert | None:
        rows = self.db.rows("SELECT body FROM alerts WHERE watch_id = ? "
                            "ORDER BY episode DESC LIMIT 1", (watch_id,))
        return msgspec.json.decode(rows[0][0], type=Alert) if rows else None

    def record(self, watch: Watch, alert: Alert,
               render: Callable[[Alert], bytes] | None = None) -> tuple[Alert, bool]:
        """Open `alert` as the watch's next episode, or update the open one.

        `alert.episode` 0 asks for a new episode; any other value updates that
        episode (its id, `fired_at` and first posts are kept). A new alert with a
        webhook owes one delivery of `render(stored alert)`. Returns the stored alert and whether it is new.
        """
        with self.db.write(immediate=True) as db:
            if alert.episode:
                row = db.execute("SELECT body FROM alerts WHERE watch_id = ? AND episode = ?",
                                 (watch.id, alert.episode)).fetchone()
                old = msgspec.json.decode(row[0], type=Alert)
                merged = msgspec.structs.replace(
                    alert, id=old.id, fired_at=old.fired_at, revision=old.revision + 1,
                    observed=max(old.observed, alert.observed), z=max(old.z, alert.z))
                db.execute("UPDATE alerts SET last_hot_ts = ?, body = ? WHERE id = ?",
                           (ts(merged.last_hot_at), msgspec.json.encode(merged), old.id))
                return merged, False
            n = db.execute("SELECT COALESCE(MAX(episode), 0) FROM alerts WHERE watch_id = ?",
                           (watch.id,)).fetchone()[0] + 1
            new = msgspec.structs.replace(alert, id=alert_id(watch, n), episode=n)
            db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?)",
                       (new.id, watch.id, n, ts(new.fired_at), ts(new.last_hot_at),
                        msgspec.json.encode(new)))
            if watch.webhook is not None and render is not None:
                now = time.time()
                db.execute("INSERT OR IGNORE INTO deliveries VALUES "
                           "(?, ?, ?, 'pending', 0, ?, ?, NULL, NULL, ?)",
                           (new.id, watch.id, watch.webhook.url, now, now,
                            render(new)))
            return new, True

    def alerts(self, watch_id: str | None = None, since: datetime | None = None,
               limit: int = 100) -> list[Alert]:
        """Newest first."""
        sql, params = "SELECT body FROM alerts WHERE fired_ts >= ?", [ts(since) if since else 0.0]
        if watch_id is not None:
            sql += " AND watch_id = ?"
            params.append(watch_id)
        sql += " ORDER BY fired_ts DESC, id LIMIT ?"
        params.append(limit)
        return [msgspec.json.decode(r[0], type=Alert) for r in self.db.rows(sql, params)]

    def get(self, alert_id_: str) -> Alert | None:
        rows = self.db.rows("SELECT body FROM alerts WHERE id = ?", (alert_id_,))
        return msgspec.json.decode(rows[0][0], type=Alert) if rows else None

    # -- deliveries -------------------------------------------------------
    def due(self, limit: int = 100) -> list[tuple[Delivery, bytes]]:
        rows = self.db.rows(f"SELECT {_DELIVERY_COLUMNS}, payload FROM deliveries "
                            "WHERE state = 'pending' ORDER BY created_ts LIMIT ?", (limit,))
        return [(_delivery(r[:-1]), bytes(r[-1])) for r in rows]

    def delivered(self, alert_id_: str, attempts: int, status_code: int) -> None:
        self._set(alert_id_, "delivered", attempts, None, status_code)

    def dead(self, alert_id_: str, attempts: int, error: str, status_code: int | None) -> None:
        self._set(alert_id_, "dead", attempts, error[:1000], status_code)

    def dead_letters(self) -> list[Delivery]:
        rows = self.db.rows(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE state = 'dead' "
                            "ORDER BY updated_ts DESC")
        return [_delivery(r) for r in rows]

    def deliveries(self, alert_id_: str) -> Delivery | None:
        rows = self.db.rows(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE alert_id = ?",
                            (alert_id_,))
        return _delivery(rows[0]) if rows else None

    def replay(self, alert_id_: str | None = None) -> int:
        """Dead letters back to pending (one, or all): the deliverer sends them again."""
        with self.db.write() as db:
            sql = "UPDATE deliveries SET state = 'pending', updated_ts = ? WHERE state = 'dead'"
            params: list[Any] = [time.time()]
            if alert_id_ is not None:
                sql += " AND alert_id = ?"
                params.append(alert_id_)
            return db.execute(sql, params).rowcount

    def _set(self, alert_id_: str, state: str, attempts: int, error: str | None,
             status_code: int | None) -> None:
        with self.db.write() as db:
            db.execute("UPDATE deliveries SET state = ?, attempts = attempts + ?, updated_ts = ?, "
                       "last_error = ?, status_code = ? WHERE alert_id = ?",
                       (state, attempts, time.time(), error, status_code, alert_id_))

    # -- the scheduler lease ------------------------------------------------
    def acquire(self, name: str, holder: str, ttl_s: float, now: float | None = None) -> bool:
        """Take or renew the lease `name` for `ttl_s` seconds; False while another holds it.

        Why a lease and not a lock file: the holder may be another process on another
        machine sharing the file (`trendsearch watch` beside an API); a holder that
        dies stops renewing, and the lease passes on once it expires.
        """
        now = time.time() if now is None else now
        with self.db.write(immediate=True) as db:
            row = db.execute("SELECT holder, expires_ts FROM leases WHERE name = ?",
                             (name,)).fetchone()
            if row is not None and row[0] != holder and row[1] > now:
                return False
            db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (name, holder, now + ttl_s))
            return True

    def release(self, name: str, holder: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str, now: float | None = None) -> str | None:
        now = time.time() if now is None else now
        rows = self.db.rows("SELECT holder FROM leases WHERE name = ? AND expires_ts > ?",
                            (name, now))
        return str(rows[0][0]) if rows else None


_DELIVERY_COLUMNS = ("alert_id, watch_id, url, state, attempts, created_ts, updated_ts, "
                     "last_error, status_code")


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(alert_id=row[0], watch_id=row[1], url=row[2], state=row[3], attempts=row[4],
                    created_at=at(row[5]), updated_at=at(row[6]), last_error=row[7],
                    status_code=row[8])
