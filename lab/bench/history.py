"""`trendsearch bench-history`: what keeping engagement history costs, before and after.

One run measures both: this checkout ("after") in-process, and `--before CHECKOUT`
(a tree without history, e.g. the main branch) in a child process running this
same file against that tree's packages. Both write the same posts with the same
precomputed vectors (embedding is the same work either way and would bury the
difference) into a fresh Qdrant Edge index:

- ingest: `Store.upsert` in batches of 256 (after: one extra read of the stored
  histories per batch);
- PATCH: one engagement update per call, as `PATCH /v1/posts/{id}/engagement`
  does (after: read counts and history, write counts and history);
- bulk (after only): `search.engagement.apply_updates` in batches of 256, as
  `PATCH /v1/engagement` does;
- storage: the index folder's growth per snapshot, extrapolated to a million.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

BATCH = 256


def _folder_bytes(folder: Path) -> int:
    """Blocks actually allocated: Edge preallocates its files, so their sizes do not grow."""
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())


def measure(posts_n: int, updates_per_post: int) -> dict[str, Any]:
    """Timings of this interpreter's packages (whichever tree `sys.path` finds)."""
    from migrations import open_live
    from search.contracts import Encoded, ModelInfo
    from search.models import Engagement, Post, SparseVector
    from search.store.edge_catalog import EdgeCatalog

    info = ModelInfo(model_id="bench-history", dense_dim=384, sparse_idf=True)
    created = datetime(2024, 5, 1, tzinfo=UTC)
    rng = np.random.default_rng(0)
    posts = [Post(id=f"b{i}", text=f"post number {i} about floods", platform="reddit",
                  created_at=created + timedelta(seconds=i)) for i in range(posts_n)]
    dense = rng.normal(size=(posts_n, 384)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    sparse = [SparseVector(indices=[i % 1000, 1000 + i % 7], values=[1.0, 0.5]) for i in range(posts_n)]
    out: dict[str, Any] = {"posts": posts_n}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        store = open_live(catalog, info, create=True)
        clock = time.perf_counter()
        for start in range(0, posts_n, BATCH):
            store.upsert(posts[start:start + BATCH],
                         Encoded(dense=dense[start:start + BATCH], sparse=sparse[start:start + BATCH]))
        store.flush()
        out["ingest_posts_per_s"] = round(posts_n / (time.perf_counter() - clock), 1)
        base_bytes = _folder_bytes(Path(tmp))
        clock = time.perf_counter()
        for round_ in range(updates_per_post):
            for i, post in enumerate(posts):
                store.update_engagement(post.id, Engagement(likes=round_ + i % 5, comments=round_))
        store.flush()
        out["patch_posts_per_s"] = round(posts_n * updates_per_post / (time.perf_counter() - clock), 1)
        grown = _folder_bytes(Path(tmp)) - base_bytes
        out["bytes_per_update"] = round(grown / (posts_n * updates_per_post), 1)
        held = store.payloads([p.id for p in posts[:100]], ["history"]) if hasattr(store, "payloads") else {}
        snapshots = [s for v in held.values() for s in v.get("history", [])]
        if snapshots:  # the payload itself, as JSON: what a snapshot adds before any overhead
            out["json_bytes_per_snapshot"] = round(len(msgspec.json.encode(snapshots)) / len(snapshots), 1)
        # The tree before history (`--before`) has no bulk form: measured only where it exists.
        if importlib.util.find_spec("search.engagement") is not None:
            from search.engagement import apply_updates as bulk

            now = time.time()
            clock = time.perf_counter()
            for start in range(0, posts_n, BATCH):
                bulk(store, [(p.id, Engagement(likes=99)) for p in posts[start:start + BATCH]], now)
            store.flush()
            out["bulk_posts_per_s"] = round(posts_n / (time.perf_counter() - clock), 1)
        catalog.close()
    return out


def run_history_bench(before: Path | None, posts_n: int, updates_per_post: int) -> int:
    after = measure(posts_n, updates_per_post)
    rows = {"after (history)": after}
    if before is not None:
        # No bytecode written into the other tree: it is read, never changed.
        env = {**os.environ, "PYTHONPATH": str(before.resolve()), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, __file__, "--child", str(posts_n), str(updates_per_post)],
                              capture_output=True, text=True, env=env, cwd=str(before), check=False)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        rows["before"] = json.loads(done.stdout.strip().splitlines()[-1])
    print("| tree | ingest posts/s | PATCH posts/s | bulk PATCH posts/s | bytes per update |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['ingest_posts_per_s']} | {r['patch_posts_per_s']} | "
              f"{r.get('bulk_posts_per_s', '-')} | {r['bytes_per_update']} |")
    per_snapshot = after["bytes_per_update"] - rows.get("before", {"bytes_per_update": 0})["bytes_per_update"]
    print(f"\nstorage: {after['bytes_per_update']} bytes allocated per update with history, "
          f"{per_snapshot:.0f} more than without: {per_snapshot:.0f} MB per million snapshots "
          f"(Edge, before compaction); the snapshot itself is "
          f"{after.get('json_bytes_per_snapshot', '?')} bytes of JSON")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, type=int)
    args = parser.parse_args()
    print(json.dumps(measure(*args.child)))
