"""The forecast service: keeps each platform's references current and answers forecasts.

References (`search.forecast`) are the posts whose history reaches the horizon.
They are read from the store incrementally: each refresh asks only for posts whose
newest snapshot is at or after the newest one seen (`Store.matured`), at most once
per `refresh_s` of the clock, so the calibration follows the index as history
accumulates at the cost of one filtered scroll. Each platform keeps its newest
`max_references` (memory: about 130 bytes a reference), so what is
"typical" drifts with the platform instead of freezing on its first month.

The clock is passed in: the API uses the wall clock, `trendsearch eval-forecast`
the replay's, so both run this same code.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from search.forecast import (
    AGE_GRID,
    HORIZON_S,
    MIN_AGE_S,
    MIN_REFERENCES,
    NEIGHBOURS,
    fitted,
    grid_index,
    predict,
    reference_row,
    text_shift,
)
from search.history import total
from search.models import Forecast, SparseVector
from search.store.base import Store
from search.store.payload import point_id

MAX_REFERENCES = 20_000


class _Platform:
    """One platform's references in growable arrays (row per post, reused on update)."""

    def __init__(self, capacity: int) -> None:
        self.rows: dict[str, int] = {}
        self.created = np.zeros(16)
        self.early = np.full((16, len(AGE_GRID)), np.nan)
        self.final = np.zeros(16)
        self.capacity = capacity

    def put(self, post_id: str, created_ts: float, early: np.ndarray, final: float) -> None:
        row = self.rows.get(post_id)
        if row is None:
            n = len(self.rows)
            if n >= self.capacity:  # replace the oldest reference
                row = int(np.argmin(self.created[:n]))
                old = next(k for k, v in self.rows.items() if v == row)
                del self.rows[old]
            else:
                row = n
                if row >= len(self.final):
                    self._grow()
            self.rows[post_id] = row
        self.created[row], self.early[row], self.final[row] = created_ts, early, final

    def _grow(self) -> None:
        size = len(self.final) * 2
        self.created = np.resize(self.created, size)
        self.final = np.resize(self.final, size)
        early = np.full((size, len(AGE_GRID)), np.nan)
        early[: len(self.early)] = self.early
        self.early = early


def _age_text(age_s: float) -> str:
    return f"{age_s / 3600:.1f} h" if age_s >= 3600 else f"{age_s / 60:.0f} min"


class Forecaster:
    """Forecasts for stored posts, calibrated on the store's own matured posts."""

    def __init__(self, store: Store, clock: Callable[[], float], refresh_s: float = 60.0,
                 max_references: int = MAX_REFERENCES) -> None:
        self.store = store
        self._clock = clock
        self._refresh_s = refresh_s
        self._max = max_references
        self._platforms: dict[str, _Platform] = {}
        self._seen_ts = -math.inf
        self._refreshed = -math.inf
        self._lock = threading.Lock()
        self._typical: dict[tuple[str, int], float | None] = {}

    def typical(self, platform: str, age_s: float) -> float | None:
        """The median count of `platform`'s references at this age (at the horizon for a
        post at least that old): what trending ranks a post's count against. None with
        fewer than `MIN_REFERENCES` counts there, or for a post under `MIN_AGE_S` old."""
        if age_s < MIN_AGE_S:
            return None
        self.refresh()
        g = len(AGE_GRID) if age_s >= HORIZON_S else grid_index(age_s)
        key = (platform, g)
        with self._lock:
            if key not in self._typical:
                table = self._platforms.get(platform)
                n = len(table.rows) if table else 0
                column = (np.zeros(0) if table is None else table.final[:n] if g == len(AGE_GRID)
                          else table.early[:n, g])
                column = column[~np.isnan(column)]
                self._typical[key] = (math.expm1(float(np.median(column)))
                                      if len(column) >= MIN_REFERENCES else None)
            return self._typical[key]

    def refresh(self, force: bool = False) -> None:
        now = self._clock()
        with self._lock:
            if not force and now - self._refreshed < self._refresh_s:
                return
            self._refreshed = now
            newest = self._seen_ts
            for payload in self.store.matured(self._seen_ts, HORIZON_S):
                history = payload.get("history") or []
                created = float(payload.get("created_ts") or 0.0)
                row = reference_row(history, created)
                if row is None:
                    continue
                table = self._platforms.get(payload["platform"])
                if table is None:
                    table = self._platforms[payload["platform"]] = _Platform(self._max)
                table.put(str(payload["id"]), created, row[0], row[1])
                newest = max(newest, float(history[-1][0]))
                self._typical.clear()
            self._seen_ts = newest

    def forecast(self, post_ids: Sequence[str]) -> dict[str, Forecast]:
        """Forecasts of these stored posts as of now (ids not stored are left out)."""
        self.refresh()
        now = self._clock()
        held = self.store.payloads(post_ids, ["platform", "created_ts", "history"])
        vectors = self.store.vectors([point_id(p) for p in held])
        return {pid: self._one(pid, payload, vectors.get(point_id(pid)), now)
                for pid, payload in held.items()}

    def _neighbours(self, vectors: tuple[list[float], SparseVector],
                    platform: str) -> list[tuple[str, float]]:
        return self.store.neighbours(vectors[1], platform, HORIZON_S, NEIGHBOURS)

    def _one(self, post_id: str, payload: dict[str, Any], vectors: Any, now: float) -> Forecast:
        at = datetime.fromtimestamp(now, UTC)
        history = [s for s in payload.get("history") or [] if s[0] <= now]
        created = float(payload.get("created_ts") or 0.0)
        platform = str(payload.get("platform"))
        if not history or history[-1][0] - created < MIN_AGE_S:
            return Forecast("too_young", at, f"no counts yet from its first "
                            f"{MIN_AGE_S / 60:.0f} minutes: too young to forecast")
        age = history[-1][0] - created
        count = total(history[-1])
        g = grid_index(age)
        near = [(pid, sc) for pid, sc in (self._neighbours(vectors, platform) if vectors else [])
                if pid != post_id]
        early = final = None
        near_early = near_final = near_scores = np.zeros(0)
        with self._lock:
            table = self._platforms.get(platform)
            n = len(table.rows) if table else 0
            if table is not None and n > 0:
                valid = ~np.isnan(table.early[:n, g])
                early, final = table.early[:n, g][valid], table.final[:n][valid]
                picked = [(table.rows[pid], score) for pid, score in near if pid in table.rows]
                picked = [(r, sc) for r, sc in picked if not np.isnan(table.early[r, g])]
                near_early = np.array([table.early[r, g] for r, _ in picked])
                near_final = np.array([table.final[r] for r, _ in picked])
                near_scores = np.array([sc for _, sc in picked])
        refs = 0 if early is None else len(early)
        if early is None or final is None or refs < MIN_REFERENCES:
            return Forecast("no_history", at, f"not enough history on {platform} yet: {refs} posts "
                            f"with counts at {_age_text(float(AGE_GRID[g]))} and a day, "
                            f"{MIN_REFERENCES} needed", age_s=age, count=count, references=refs)
        shift = text_shift(near_final - fitted(near_early, early, final), near_scores)
        p_top, expected, typical = predict(math.log1p(count), early, final, shift)
        hours = age / 3600
        typical_count = math.expm1(typical)
        ratio = (count + 1) / (typical_count + 1)
        text = (f"; posts like it grew {math.exp(shift):.2f}x what their early counts "
                f"predicted") if abs(shift) >= 0.05 else ""
        why = (f"{count:g} interactions at {_age_text(age)}: {ratio:.1f}x a typical {platform} "
               f"post at that age ({typical_count:g}, from {refs} posts with a day of "
               f"counts){text}")
        return Forecast("ok", at, why, p_top=round(p_top, 4), expected=round(expected, 2),
                        age_s=age, count=count, velocity_per_h=round(count / hours, 3),
                        typical_per_h=round(typical_count / hours, 3), references=refs,
                        text_shift=round(shift, 3))
