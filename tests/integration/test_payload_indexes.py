"""Every payload field a filter, facet or ordering reads has a payload index, on both
back ends (issue 15): without one, Qdrant checks the field on every point, a cost
that grows with the index and that the congruence tests cannot see.

The fields are collected from the code that builds the filters (a recording
condition factory fed every filter the API can express), not from a list kept
beside it, so a new filter without its index fails here. Edge reports its payload
schema; qdrant-client's local mode ignores payload indexes, so on the server path
the test checks the index requests `migrate` sends (the real client, watched).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient

from migrations import open_live
from search.contracts import MatchFilter, TermFilter
from search.embed.base import Embedder
from search.models import SearchFilters
from search.store.conditions import filter_conditions, match_conditions
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog

# Read outside filters: facets (`search.counting`) and `order_by` (latest, windows).
FACETED_AND_ORDERED = {"platform", "lang", "created_day", "created_hour", "created_ts"}


class Recorder:
    """A condition factory that keeps the payload keys it is asked about."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def _key(self, key: str) -> str:
        self.keys.add(key)
        return key

    def any_of(self, key: str, values: list[str]) -> Any:
        return self._key(key)

    def all_of(self, conditions: list[Any]) -> Any:
        return conditions

    def datetime_range(self, key: str, gte: str | None, lte: str | None) -> Any:
        return self._key(key)

    def int_range(self, key: str, gte: int | None, lte: int | None) -> Any:
        return self._key(key)

    def float_range(self, key: str, gte: float | None, lt: float | None,
                    lte: float | None) -> Any:
        return self._key(key)

    def has_id(self, point_ids: list[str]) -> Any:
        return "id"


def filtered_fields() -> set[str]:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    every = SearchFilters(platform=["twitter"], lang=["en"], author=["a"], since=when,
                          until=when, min_likes=1, min_reposts=1, min_comments=1, has_image=True)
    recorder = Recorder()
    filter_conditions(every, recorder)
    filter_conditions(SearchFilters(has_image=False), recorder)
    match_conditions(MatchFilter(filters=every, terms=TermFilter(require=("a",), exclude=(("b",),)),
                                 require=("c",), point_ids=("x",), before=1.0, at=None), recorder)
    match_conditions(MatchFilter(filters=None, require=("c",), at=1.0), recorder)
    return recorder.keys | FACETED_AND_ORDERED


def test_the_recorder_sees_the_filters() -> None:
    assert {"platform", "created_at", "likes", "image_count", "terms", "created_ts"} <= filtered_fields()


def test_every_filtered_field_is_indexed_on_edge(tmp_path: Path, tiny_embedder: Embedder) -> None:
    catalog = EdgeCatalog(tmp_path / "edge")
    store = open_live(catalog, tiny_embedder.info, create=True)
    indexed = set(store.shard.info().payload_schema)
    catalog.close()
    assert filtered_fields() <= indexed, filtered_fields() - indexed


def test_every_filtered_field_is_indexed_on_the_server(tiny_embedder: Embedder) -> None:
    client = QdrantClient(":memory:")
    asked: set[str] = set()
    create = client.create_payload_index

    def watched(collection: str, field_name: str, *args: Any, **kwargs: Any) -> Any:
        asked.add(field_name)
        return create(collection, field_name, *args, **kwargs)

    client.create_payload_index = watched  # type: ignore[method-assign]
    catalog = ServerCatalog(client, alias="posts")
    open_live(catalog, tiny_embedder.info, create=True)
    catalog.close()
    assert filtered_fields() <= asked, filtered_fields() - asked
