"""Posts for tests: real-looking, varied, deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar.testing import TestClient

from search.models import Post

BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

TEXTS = [
    ("flood-1", "en", "twitter", "Flood waters rising in Calgary, evacuation ordered for downtown"),
    ("flood-2", "en", "twitter", "Calgary flooding: the Bow river broke its banks overnight #yycflood"),
    ("flood-3", "en", "reddit", "Photos of the flood damage in Calgary neighbourhoods"),
    ("quake-1", "en", "twitter", "Earthquake shakes the city, buildings evacuated"),
    ("fire-1", "en", "twitter", "Explosion at the fertilizer plant in West, Texas; many injured"),
    ("fire-2", "en", "twitter", "West Texas explosion: firefighters among the injured"),
    ("sport-1", "en", "twitter", "Great match tonight, what a goal in the final minute"),
    ("food-1", "en", "reddit", "Best dumplings recipe: pork, cabbage and ginger"),
    ("zh-1", "zh", "weibo", "深圳禁摩限电，电动车车主怎么上班？"),
    ("zh-2", "zh", "weibo", "春节放鞭炮是传统，但是污染太严重了"),
    ("zh-3", "zh", "weibo", "开放二胎政策以后，很多家庭开始考虑生二胎"),
    ("zh-4", "zh", "weibo", "俄罗斯在叙利亚的反恐行动引发国际关注"),
    ("mix-1", "mul", "weibo", "iPhone SE 发布了，价格比想象中便宜 #iPhoneSE"),
    ("mix-2", "mul", "weibo", "深圳 motorbike ban 禁摩 is hurting delivery workers"),
]


def make_post(**overrides: Any) -> Post:
    fields: dict[str, Any] = {
        "id": "p1", "text": "hello world", "platform": "twitter", "created_at": BASE_TIME,
        "author": "alice", "lang": "en",
    }
    fields.update(overrides)
    return Post(**fields)


def corpus() -> list[Post]:
    """14 posts over 14 hours, engagement rising with index, a few with images."""
    posts = []
    for i, (pid, lang, platform, text) in enumerate(TEXTS):
        posts.append(Post(
            id=pid, text=text, platform=platform, lang=lang,
            created_at=BASE_TIME - timedelta(hours=len(TEXTS) - i),
            author=f"user{i % 4}", likes=i * 10, reposts=i, comments=i % 3,
            image_urls=[f"https://img.example.org/{pid}.jpg"] if i % 5 == 0 else [],
        ))
    return posts


@contextmanager
def tiny_api(data_dir: str, embedder: Any, reranker: Any,
             env: dict[str, str] | None = None) -> Iterator[TestClient[Any]]:
    """The whole app over the tiny models and an embedded store in `data_dir`, as a client."""
    from litestar.testing import TestClient

    from server.app import create_app
    from server.profiles import Models
    from server.services import Services
    from server.settings import load_settings

    settings = load_settings(env or {}, profile="tiny", data_dir=data_dir)
    services = Services.build(settings, Models(embedder=embedder, reranker=reranker,
                                               profile="tiny"))
    try:
        with TestClient(create_app(settings, services)) as client:
            yield client
    finally:
        services.close()


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1 (network tests stay on this host)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_api(app: Any, services: Any, port: int) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1:`port` in a thread, as its base URL; stopped
    and `services` closed on the way out (for tests that need a real socket: a browser,
    a CLI talking to the server)."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


class TinyLexical:
    """An `Embedder` built like the offline profile, small: the tiny model's dense vectors
    with the real lexical (BM25) sparse side, so word-level matching is what ships."""

    def __init__(self, dense: Any) -> None:
        from search.contracts import ModelInfo
        from search.embed.lexical import LexicalSparseEncoder

        self._dense = dense
        self._lexical = LexicalSparseEncoder()
        self.info = ModelInfo(model_id=f"{dense.info.model_id}+{self._lexical.model_id}",
                              dense_dim=dense.info.dense_dim, sparse_idf=True)

    def encode_documents(self, texts: list[str]) -> Any:
        from search.contracts import Encoded

        return Encoded(dense=self._dense.encode_documents(texts).dense,
                       sparse=self._lexical.encode_documents(texts))

    def encode_queries(self, texts: list[str]) -> Any:
        from search.contracts import Encoded

        return Encoded(dense=self._dense.encode_queries(texts).dense,
                       sparse=self._lexical.encode_queries(texts))
