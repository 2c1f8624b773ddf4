"""Load a running trendsearch API on this machine and report latency per route.

    .venv/bin/python lab/load.py --url http://127.0.0.1:8000 --clients 50 --seconds 60

`--clients` readers loop over a mix of searches, reads by id, trends, `/health`,
`/ready` and `/metrics` (pausing `--think-ms` on average between requests); one
more client ingests small batches of new posts and keeps the ids the server
acknowledged, and a probe reads one post by id every 100 ms (`get (probe)`). At the end every acknowledged id is read
back (`GET /v1/posts/{id}`): a write that was answered 200 and is not there is
a lost write. Deliberate refusals (429, 503 with `Retry-After`) are counted
apart from errors; a refused client waits as told.

Bounded on purpose: 127.0.0.1 / ::1 / localhost only, at most 200 clients and
600 seconds, and every request has a timeout. Ingested posts carry ids
`load-<run>-<n>`; they stay in the index (delete them, or use a scratch data dir).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import multiprocessing
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

import httpx

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "posts.jsonl"
QUERIES = ["flood", "earthquake damage", "wildfire evacuation", "tornado warning", "explosion",
           "election", "police shooting", "深圳禁摩", "春节放鞭炮", "二胎政策", "iphone price",
           "\"boston marathon\"", "storm -sport", "vaccine", "college tuition"]
# What a reader does, by weight: most of it is search and reads by id.
MIX = [("search", 45), ("get", 35), ("trends", 2), ("health", 6), ("ready", 6), ("metrics", 6)]
MAX_CLIENTS, MAX_SECONDS = 200, 600


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: list[str] = field(default_factory=list)

    def record(self, route: str, started: float, response: httpx.Response | None,
               error: str | None = None) -> None:
        if response is not None and response.status_code in (429, 503):
            self.refused[route] += 1
        elif response is not None and (response.status_code < 400 or (
                route.startswith("get") and response.status_code == 404)):
            self.latencies[route].append(time.perf_counter() - started)
        else:
            status = response.status_code if response is not None else "no answer"
            self.errors[route].append(f"{status}: {error or response.text[:200]}")  # type: ignore[union-attr]


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"load.py: refusing {url}: this script only loads a server on this machine")


def sample_ids(limit: int = 2000) -> list[str]:
    ids = []
    with SAMPLE.open(encoding="utf-8") as fh:
        for line in fh:
            ids.append(json.loads(line)["id"])
            if len(ids) >= limit:
                break
    return ids


async def call(client: httpx.AsyncClient, tally: Tally, route: str, method: str, path: str,
               **kwargs: object) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        tally.record(route, started, None, f"{type(exc).__name__}: {exc}")
        return None
    tally.record(route, started, response)
    return response


async def backoff(response: httpx.Response | None) -> None:
    if response is not None and response.status_code in (429, 503):
        await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 5.0))


async def reader(client: httpx.AsyncClient, tally: Tally, ids: list[str], until: float,
                 rng: random.Random, mix: list[tuple[str, int]], think_ms: float) -> None:
    routes, weights = zip(*mix)
    while time.monotonic() < until:
        route = rng.choices(routes, weights)[0]
        if route == "search":
            body = {"query": rng.choice(QUERIES), "mode": rng.choice(["relevance", "trending",
                                                                      "latest"])}
            response = await call(client, tally, route, "POST", "/v1/search", json=body)
        elif route == "get":
            response = await call(client, tally, route, "GET", f"/v1/posts/{rng.choice(ids)}")
        elif route == "trends":
            response = await call(client, tally, route, "GET", "/v1/trends",
                                  params={"as_of": "2016-01-01T00:00:00Z", "window": "6h",
                                          "baseline": "7d"})
        else:
            response = await call(client, tally, route, "GET", f"/{route}")
        await backoff(response)
        await asyncio.sleep(rng.expovariate(1000 / think_ms) if think_ms else 0)


def probe(url: str, headers: dict[str, str], ids: list[str], seconds: float, seed: int,
          out: Connection) -> None:
    """One read by id every 100 ms, from a process of its own: what a user's cheap read
    costs while the others load. The readers' own `get` figures also hold their client's
    event-loop delays and their share of a closed loop (Little's law); this one does not."""
    rng = random.Random(seed)
    results: list[tuple[int, float]] = []
    until = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                status = client.get(f"/v1/posts/{rng.choice(ids)}").status_code
            except httpx.HTTPError:
                status = 0
            results.append((status, time.perf_counter() - started))
            time.sleep(0.1)
    out.send(results)


async def ingester(client: httpx.AsyncClient, tally: Tally, run: str, until: float,
                   batch: int) -> None:
    n = 0
    while time.monotonic() < until:
        posts = [{"id": f"load-{run}-{n + i}", "platform": "load", "text":
                  f"load test post {n + i}: flood waters rising, roads closed downtown",
                  "created_at": datetime.now(UTC).isoformat()} for i in range(batch)]
        response = await call(client, tally, "ingest", "POST", "/v1/posts", json={"posts": posts})
        if response is not None and response.status_code == 200:
            tally.acknowledged.extend(response.json()["ids"])
            n += batch
        await backoff(response)


async def verify(client: httpx.AsyncClient, ids: list[str]) -> list[str]:
    missing = []
    for start in range(0, len(ids), 20):
        chunk = ids[start:start + 20]
        answers = await asyncio.gather(*(client.get(f"/v1/posts/{i}") for i in chunk))
        missing += [i for i, a in zip(chunk, answers) if a.status_code != 200]
    return missing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def report(tally: Tally, seconds: float, missing: list[str]) -> str:
    lines = [f"| route | ok | refused (429/503) | errors | p50 ms | p95 ms | p99 ms | ok/s |",
             "|---|---|---|---|---|---|---|---|"]
    for route in ["get (probe)", "get", "search", "trends", "ingest", "health", "ready",
                  "metrics"]:
        ok = tally.latencies.get(route, [])
        if not ok and not tally.refused.get(route) and not tally.errors.get(route):
            continue
        p = [f"{percentile(ok, q):.1f}" if ok else "-" for q in (0.5, 0.95, 0.99)]
        lines.append(f"| {route} | {len(ok)} | {tally.refused.get(route, 0)} | "
                     f"{len(tally.errors.get(route, []))} | {p[0]} | {p[1]} | {p[2]} | "
                     f"{len(ok) / seconds:.1f} |")
    total = sum(len(v) for v in tally.latencies.values())
    lines.append(f"\n{total} answered requests in {seconds:.0f} s ({total / seconds:.1f}/s); "
                 f"{sum(len(v) for v in tally.errors.values())} errors; "
                 f"{sum(tally.refused.values())} refused on purpose; "
                 f"{len(tally.acknowledged)} posts acknowledged, {len(missing)} of them missing")
    for route, errors in tally.errors.items():
        lines.append(f"  {route} errors, first: {errors[0]}")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    ids = sample_ids()
    run = f"{int(time.time())}-{os.getpid()}"
    tally = Tally()
    # Idle connections expire before uvicorn closes them (5 s), so no request races a close.
    limits = httpx.Limits(max_connections=args.clients + 5, max_keepalive_connections=args.clients + 5,
                          keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=args.timeout,
                                 limits=limits) as client:
        ready = await client.get("/health")
        if ready.status_code != 200:
            sys.exit(f"load.py: {args.url}/health answered {ready.status_code}")
        started = time.monotonic()
        until = started + args.seconds
        rng = random.Random(args.seed)
        # --cheap-only: the same clients without searches, trends or ingest, for a baseline
        # of what the machine itself costs a cheap read at the moment.
        mix = [(r, w) for r, w in MIX if not args.cheap_only or r not in ("search", "trends")]
        tasks = [reader(client, tally, ids, until, random.Random(rng.random()), mix, args.think_ms)
                 for _ in range(args.clients)]
        if not args.cheap_only:
            tasks.append(ingester(client, tally, run, until, args.batch))
        receive, send = multiprocessing.Pipe(duplex=False)
        prober = multiprocessing.get_context("spawn").Process(
            target=probe, args=(args.url, headers, ids, args.seconds, args.seed, send))
        prober.start()
        await asyncio.gather(*tasks)
        for status, latency in await asyncio.to_thread(receive.recv):
            if status in (200, 404):
                tally.latencies["get (probe)"].append(latency)
            else:
                tally.errors["get (probe)"].append(f"{status or 'no answer'}")
        prober.join(timeout=10)
        seconds = time.monotonic() - started
        missing = await verify(client, tally.acknowledged)
    print(report(tally, seconds, missing))
    return 1 if missing or any(tally.errors.values()) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch", type=int, default=10, help="posts per ingest request")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds")
    parser.add_argument("--key", default=os.environ.get("TRENDSEARCH_LOAD_KEY"),
                        help="API key (write, for the ingester); default $TRENDSEARCH_LOAD_KEY")
    parser.add_argument("--think-ms", type=float, default=100,
                        help="mean pause of a reader between requests (exponential); 0: none")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--cheap-only", action="store_true",
                        help="baseline: reads by id, health, ready, metrics only; no ingest")
    args = parser.parse_args()
    loopback_only(args.url)
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--clients 1..{MAX_CLIENTS}, --seconds up to {MAX_SECONDS}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
