"""The server catalog: collections `<alias>__<index>`, the live one reached through `<alias>`.

The alias is switched in one `update_collection_aliases` call, which the
server applies atomically, so a search never sees a half-built index.
"""

from __future__ import annotations

from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.contracts import ModelInfo
from search.errors import IndexNotReady
from search.store.base import model_slug
from search.store.retry import Retry
from search.store.server import ServerStore
from search.store.server_layout import ClusterLayout, LaidOutCalls

__all__ = ["ServerCatalog"]


class ServerCatalog:
    """Collections named `<alias>__<index>`, the live one reached through `<alias>`."""

    def __init__(self, client: QdrantClient, alias: str = "posts", where: str = ":memory:",
                 retry: Retry | None = None, layout: ClusterLayout | None = None) -> None:
        self._client = client
        self._alias = alias
        self._call = LaidOutCalls(retry or Retry(where), layout or ClusterLayout())
        self._where = where

    @classmethod
    def connect(cls, url: str, api_key: str | None, alias: str, timeout_s: int = 10,
                layout: ClusterLayout | None = None) -> ServerCatalog:
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout_s)
        return cls(client, alias=alias, where=url, layout=layout)

    @property
    def location(self) -> str:
        return f"{self._where} (alias {self._alias})"

    def _collection(self, name: str) -> str:
        return f"{self._alias}__{name}"

    def live_name(self) -> str | None:
        aliases = self._call(self._client.get_aliases).aliases
        for alias in aliases:
            if alias.alias_name == self._alias:
                return alias.collection_name.removeprefix(f"{self._alias}__")
        return None

    def names(self) -> list[str]:
        prefix = f"{self._alias}__"
        collections = self._call(self._client.get_collections).collections
        return sorted(c.name.removeprefix(prefix) for c in collections if c.name.startswith(prefix))

    def open(self, name: str) -> ServerStore:
        if name not in self.names():
            raise IndexNotReady(f"no collection {self._collection(name)} on {self._where}")
        return ServerStore(self._client, self._collection(name), self._call)

    def serving(self, name: str, model_id: str | None = None) -> ServerStore:
        """The live index as the API holds it: through the alias, so a `reindex` run by
        another process switches what this one reads and writes without a restart."""
        if name != self.live_name():
            raise IndexNotReady(f"{self._collection(name)} is not the live collection")

        def behind() -> str:
            live = self.live_name()
            if live is None:
                raise IndexNotReady(f"the alias {self._alias} points at no collection")
            return self._collection(live)

        return ServerStore(self._client, self._alias, self._call, behind=behind,
                           model_id=model_id)

    def create(self, name: str) -> ServerStore:
        return ServerStore(self._client, self._collection(name), self._call)

    def activate(self, name: str) -> None:
        operations: list[Any] = []
        if self.live_name() is not None:
            operations.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self._alias)))
        operations.append(qm.CreateAliasOperation(create_alias=qm.CreateAlias(
            collection_name=self._collection(name), alias_name=self._alias)))
        self._call(self._client.update_collection_aliases, change_aliases_operations=operations)

    def watch_index(self, model: ModelInfo) -> Any:
        """The watches' query vectors (`search.store.watches_server`): a collection beside
        the posts collections, outside the `<alias>__` names this catalog lists."""
        from search.store.watches_server import ServerWatchIndex

        return ServerWatchIndex(self._client, f"{self._alias}-watches--{model_slug(model.model_id)}",
                                model, self._call)

    def writer_leases(self) -> Any:
        """The leases of the API processes writing through the alias
        (`search.store.writer_leases`): a collection `<alias>-writers`, outside the
        `<alias>__` names this catalog lists."""
        from search.store.writer_leases import WriterLeases

        return WriterLeases(self._client, f"{self._alias}-writers", self._call)

    def drop(self, name: str) -> None:
        if name == self.live_name():
            raise IndexNotReady(f"refusing to drop the live index {name}")
        self._call(self._client.delete_collection, self._collection(name))

    def release(self, name: str) -> None:
        """Nothing to let go of: a collection is the server's, not this process's."""

    def close(self) -> None:
        self._client.close()
