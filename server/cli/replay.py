"""`trendsearch demo --replay`: the bundled sample fed in time order at an accelerated clock.

What a newsroom sees over days happens in minutes: posts arrive in the order
they were written, the watch scheduler runs its pass every ten minutes of
*replayed* time, and a few preset watches (one per crisis in the sample, one
Chinese) fire on the page's Watches view as their stories break. The clock runs
at `--speed` replayed seconds per real second (default 3,600: an hour a
second) and jumps over quiet spells (the sample spans twelve years), so the
whole replay takes a few minutes on a laptop.

It runs in its own data folder (`DATA_DIR/replay/`, emptied at start), so the
ordinary demo's index is left alone. Times on the page are the posts' own
(2012-2021); the log prints, as each alert fires, the link to the page as of
that moment (hot topics then).
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from server.settings import Settings

__all__ = ["PRESETS", "replay_demo"]

PRESETS = [
    ("us-east-coast-hurricane", "Hurricane on the US east coast", "hurricane hitting New York"),
    ("queensland-floods", "Queensland floods", "flooding in Queensland"),
    ("boston-marathon", "Boston marathon", "explosions at the Boston marathon"),
    ("west-texas", "West, Texas", "fertilizer plant explosion in Texas"),
    ("oklahoma-tornado", "Oklahoma tornado", "tornado damage in Oklahoma"),
    ("calgary-floods", "Calgary floods", "Calgary and southern Alberta under water"),
    ("shenzhen-ebikes", "深圳禁摩限电", "深圳禁摩限电"),
]
STEP = timedelta(minutes=10)  # the scheduler's pass, in replayed time
QUIET = timedelta(hours=1)  # longer gaps are jumped over: a pass with no new post finds nothing


def replay_demo(settings: Settings, sample: Path, speed: float, models: Any = None) -> int:
    import uvicorn

    from search.watches.models import WatchSpec
    from server.app import create_app
    from server.services import Services
    from server.watches.delivery import render

    folder = settings.data_path / "replay"
    shutil.rmtree(folder, ignore_errors=True)
    settings = msgspec.structs.replace(settings, data_dir=str(folder), watch_scheduler="off")
    posts = _sample(sample)
    services = Services.build(settings, models)
    runtime = services.watches
    assert runtime is not None
    start = posts[0].created_at
    for watch_id, name, query in PRESETS:
        runtime.service.create(WatchSpec(id=watch_id, name=name, query=query), now=start)
    base = f"http://{settings.host}:{settings.port}"
    stop = threading.Event()

    def feed() -> None:
        clock = start.replace(minute=0, second=0, microsecond=0) + STEP
        i = 0
        while i < len(posts) and not stop.is_set():
            batch = []
            while i < len(posts) and posts[i].created_at < clock:
                batch.append(posts[i])
                i += 1
            if batch:
                with services.write_lock:
                    from indexer.run import write_batch

                    write_batch(services.store, services.models.embedder, batch)
                    services.store.flush()
            with runtime.gate.reading():  # one model per pass, as the scheduler's
                alerts = runtime.service.run_pass(clock, render=render)
            for alert in alerts:
                print(f"{clock:%Y-%m-%d %H:%M} ALERT {alert.watch_id}: {alert.observed} posts in "
                      f"the hour, expected {alert.expected} (z {alert.z}); hot topics then: "
                      f"{base}/?view=trends&as_of={clock:%Y-%m-%dT%H:%M:%SZ}", file=sys.stderr,
                      flush=True)
            runtime.deliverer.deliver_due()
            if i < len(posts) and posts[i].created_at - clock > QUIET:
                clock = posts[i].created_at.replace(minute=0, second=0, microsecond=0)
            clock += STEP
            stop.wait(STEP.total_seconds() / speed)
        print(f"replay done ({len(posts)} posts); the page stays up", file=sys.stderr, flush=True)

    print(f"replaying {len(posts)} sample posts at {speed:g}x with {len(PRESETS)} preset watches; "
          f"open {base}/?view=watches", file=sys.stderr, flush=True)
    feeder = threading.Thread(target=feed, name="demo-replay", daemon=True)
    feeder.start()
    try:
        uvicorn.run(create_app(settings, services), host=settings.host, port=settings.port,
                    log_level="warning")
    finally:
        stop.set()
        feeder.join(timeout=30)
        services.close()
    return 0


def _sample(path: Path) -> Sequence[Any]:
    from indexer.validate import to_post

    lines = path.read_bytes().splitlines()
    posts = [to_post(msgspec.json.decode(line)) for line in lines if line.strip()]
    return sorted(posts, key=lambda p: (p.created_at, p.id))
