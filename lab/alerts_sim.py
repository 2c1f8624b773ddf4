"""A fast harness for the alert rules: capture one product replay, then re-run its passes.

`eval-alerts` pays for embedding, upserting and percolating every post; the rules
of the periodic pass (`search.watches.detect`) only read what the percolator
stored (matches, traffic) plus each pass's calibrations and term weights. So:

- `capture STREAM WATCHES DIR`: the product's replay (`lab.alerts_eval`), keeping
  the watches database and, per checkpoint, what the pass saw of the percolator
  (calibrations, term weights). Its run is the product's run.
- `simulate DIR --output RUN.jsonl [--param k=v ...]`: the same passes again on
  that database with other `DetectParams` (in seconds, not tens of minutes).

Valid for rules of the pass only: a change to what is matched or recorded at
ingest (the percolator's scoring, `relevance.score`, which sets `behind`) needs a
new capture. Confirm any choice with `trendsearch eval-alerts` (decision 0026).
Lab only: nothing here is part of the product.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from lab import alerts_eval
from lab.trends_replay import read_stream
from search.watches.db import WatchDB, at, ts
from search.watches import relevance
from search.watches.detect import DetectParams
from search.watches.relevance import Calibration
from search.watches.service import WatchService

HOUR_S = 3600.0


class _CapturingService(WatchService):
    """The product's service, noting after each pass what it read from the percolator."""

    snapshots: dict[str, Any]
    folder: Path

    def run_pass(self, now: datetime, render: Any = None) -> list[Any]:
        opened = super().run_pass(now, render)
        p = self.percolator
        assert p is not None
        self.snapshots[str(ts(now))] = snap = {
            "calibrations": {w: msgspec.to_builtins(c) for w, c in p.calibrations.items()},
            "weights": {w: p.term_weights(w) for w in p.watch_ids()},
            "terms": {w: p.query_terms(w) for w in p.watch_ids()},
            "trusted": {w: p.dense_trusted(w) for w in p.watch_ids()},
        }
        # As it goes, so that a replay still running can be simulated up to where it is.
        with (self.folder / "snapshots.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": str(ts(now)), **snap}) + "\n")
        (self.folder / "live.path").write_text(str(self.db.path), encoding="utf-8")
        return opened


def capture(stream: Path, watches: Path, folder: Path, extra: list[str]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snapshots.jsonl").unlink(missing_ok=True)
    snapshots: dict[str, Any] = {}
    kept: dict[str, Path] = {}

    real_service, real_db_close = alerts_eval.WatchService, WatchDB.close

    def service(*args: Any, **kwargs: Any) -> WatchService:
        s = _CapturingService(*args, **kwargs)
        s.snapshots = snapshots
        s.folder = folder
        return s

    def close(db: WatchDB) -> None:  # copy the database before the temporary folder goes
        real_db_close(db)
        kept["db"] = folder / "watches.sqlite"
        src = sqlite3.connect(db.path)
        dst = sqlite3.connect(kept["db"])
        src.backup(dst)
        src.close()
        dst.close()

    (folder / "meta.json").write_text(json.dumps({"stream": str(stream), "watches": str(watches)}),
                                      encoding="utf-8")
    alerts_eval.WatchService = service  # type: ignore[assignment,misc]
    WatchDB.close = close  # type: ignore[method-assign]
    try:
        from server.cli import build_parser

        args = build_parser().parse_args(["eval-alerts", str(stream), str(watches), "--output",
                                          str(folder / "product.run.jsonl"), *extra])
        alerts_eval.eval_alerts(args)
    finally:
        alerts_eval.WatchService = real_service  # type: ignore[misc]
        WatchDB.close = real_db_close  # type: ignore[method-assign]
    (folder / "snapshots.json").write_text(json.dumps(snapshots), encoding="utf-8")
    return 0


class _Recorded:
    """The percolator as the pass saw it at one checkpoint (from `capture`)."""

    def __init__(self, db: WatchDB) -> None:
        self.db = db
        self.calibrations: dict[str, Calibration] = {}
        self.snap: dict[str, Any] = {}

    def refresh(self) -> None:
        """Nothing to re-read: the snapshot is the pass's recorded state."""

    def watch_ids(self) -> list[str]:
        return list(self.snap["terms"])

    def query_terms(self, watch_id: str) -> int:
        return int(self.snap["terms"].get(watch_id, 1))

    def dense_trusted(self, watch_id: str) -> bool:
        return bool(self.snap["trusted"].get(watch_id, True))

    def term_weights(self, watch_id: str) -> list[float]:
        return list(self.snap["weights"].get(watch_id, []))


class _Posts:
    def __init__(self, stream: Path) -> None:
        self.posts = {p.id: p for p in read_stream(stream)}

    def get(self, ids: list[str]) -> list[Any]:
        return [self.posts[i] for i in ids if i in self.posts]


class _Replaying(WatchService):
    def _calibrate(self, percolator: Any, store: Any, watches: Any, now: datetime) -> None:  # type: ignore[override]
        """The calibrations come from the capture (`_Recorded`), not from the store."""


def simulate(folder: Path, output: Path, params: DetectParams, posts: _Posts | None = None,
             burst: dict[str, Any] | None = None) -> None:
    """`burst`: BurstTrigger fields to set on every watch (defaults of the product otherwise)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if (folder / "snapshots.json").is_file():
        snapshots = json.loads((folder / "snapshots.json").read_text(encoding="utf-8"))
        db_file = folder / "watches.sqlite"
    else:  # a capture still running: as far as it has gone
        snapshots = {}
        for line in (folder / "snapshots.jsonl").read_text(encoding="utf-8").splitlines()[:-1]:
            snap = json.loads(line)
            snapshots[snap.pop("at")] = snap
        db_file = Path((folder / "live.path").read_text(encoding="utf-8"))
    posts = posts or _Posts(Path(meta["stream"]))
    with tempfile.TemporaryDirectory(prefix="alerts-sim-") as tmp:
        path = Path(tmp) / "watches.sqlite"
        src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        con = sqlite3.connect(path)
        con.executescript("DELETE FROM alerts; DELETE FROM deliveries;")
        con.commit()
        con.close()
        db = WatchDB(path)
        for watch in db.watches():
            trigger = msgspec.structs.replace(watch.triggers.burst, **(burst or {}))
            triggers = msgspec.structs.replace(watch.triggers, burst=trigger)
            db.put_watch(msgspec.structs.replace(watch, triggers=triggers))
        recorded = _Recorded(db)
        service = _Replaying(db, recorded, posts, params)  # type: ignore[arg-type]
        with output.open("w", encoding="utf-8") as out:
            for key in sorted(snapshots, key=float):
                snap = snapshots[key]
                recorded.snap = snap
                recorded.calibrations = {w: Calibration(**c)
                                         for w, c in snap["calibrations"].items()}
                now = at(float(key))
                for alert in service.run_pass(now):
                    out.write(json.dumps({"watch": alert.watch_id,
                                          "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                          "post_ids": [p.id for p in alert.posts]}) + "\n")
        db.close()


def _params(pairs: list[str]) -> DetectParams:
    base = msgspec.to_builtins(DetectParams())
    for pair in pairs:
        key, value = pair.split("=", 1)
        if key not in base:
            sys.exit(f"unknown DetectParams field {key!r}")
        base[key] = type(base[key])(value) if not isinstance(base[key], bool) else value == "1"
    return msgspec.convert(base, DetectParams)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.alerts_sim")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("stream")
    c.add_argument("watches")
    c.add_argument("folder")
    c.add_argument("extra", nargs="*", help="more eval-alerts options (after --)")
    s = sub.add_parser("simulate")
    s.add_argument("folder")
    s.add_argument("--output", required=True)
    s.add_argument("--param", action="append", default=[], help="DetectParams field=value")
    s.add_argument("--burst", action="append", default=[], help="BurstTrigger field=value")
    s.add_argument("--level", action="append", default=[],
                   help="RelevanceRule field=value for the 'normal' level")
    args = parser.parse_args(argv)
    if args.cmd == "capture":
        return capture(Path(args.stream), Path(args.watches), Path(args.folder), args.extra)
    burst = {k: float(v) if "." in v else int(v) for k, v in (b.split("=", 1) for b in args.burst)}
    level = {k: float(v) for k, v in (b.split("=", 1) for b in args.level)}
    relevance.LEVELS["normal"] = msgspec.structs.replace(relevance.LEVELS["normal"], **level)
    simulate(Path(args.folder), Path(args.output), _params(args.param), burst=burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
