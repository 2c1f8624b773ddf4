"""`trendsearch reindex --server URL`: a rebuild run by the serving process, followed here.

The embedded store belongs to the process that serves it, and only that process
can journal the writes it takes during a rebuild (`server.reindexing`): so the
supported way to reindex beside `serve` is to ask it. This starts the job
(`POST /v1/admin/reindex`), prints its progress until it ends and exits 0 when
the new index is live, 1 when it failed (the reason on one line). With
`--profile NAME` (given on the command line, not read from the environment: the
environment here need not be the server's) it asks for a model change: the API
builds the index with that profile's models and switches to them with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from search.errors import StoreUnavailable, TrendsearchError

__all__ = ["reindex_through"]

KEY_VARIABLE = "TRENDSEARCH_API_KEY"  # a write key of the server (one of its TRENDSEARCH_API_KEYS)


def _problem(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    return f"HTTP {response.status_code}: {body.get('detail') or body}"


def reindex_through(args: argparse.Namespace) -> int:
    import httpx

    base = args.server.rstrip("/")
    key = args.api_key or os.environ.get(KEY_VARIABLE)
    headers = {"authorization": f"Bearer {key}"} if key else {}
    body: dict[str, Any] = {"batch_size": args.batch_size, "keep_old": args.keep_old}
    if getattr(args, "profile", None):  # a model change: the API switches to that profile
        body["profile"] = args.profile
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            started = http.post("/v1/admin/reindex", json=body)
            if started.status_code != 202:
                raise TrendsearchError(f"{base} refused the reindex: {_problem(started)}")
            status = started.json()
            print(f"reindex of {status['source']} with profile {status.get('profile')} started "
                  f"on {base}", file=sys.stderr, flush=True)
            shown = None
            while status["state"] == "running":
                time.sleep(min(max(args.poll_s, 0.05), 60.0))
                answer = http.get("/v1/admin/reindex")
                if answer.status_code != 200:
                    raise TrendsearchError(f"{base} answered {_problem(answer)}")
                status = answer.json()
                line = (f"  {status['stage']}: {status['posts']} posts copied, "
                        f"{status['replayed']} written meanwhile carried over")
                if line != shown and status["state"] == "running":
                    print(line, file=sys.stderr, flush=True)
                    shown = line
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise StoreUnavailable(f"cannot reach the trendsearch API at {base} ({exc}); is "
                               f"`trendsearch serve` running there?") from None
    if status["state"] == "idle":  # the server restarted: its job went with it
        raise TrendsearchError(f"the API at {base} restarted during the reindex; the old index "
                               f"is still live: run the reindex again")
    if status["state"] != "done":
        raise TrendsearchError(f"the reindex on {base} failed: {status['error']}")
    print(f"reindexed {status['source']} into {status['target']} on {base}; "
          f"{status['target']} is now live")
    if getattr(args, "profile", None):
        print(f"the API at {base} now runs profile {status.get('profile')} "
              f"({status.get('model')}); recorded in its DATA_DIR/profile.json, so its next "
              f"start with no profile named runs it", file=sys.stderr)
    return 0
