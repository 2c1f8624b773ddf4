"""How a collection is laid out on a Qdrant server or cluster, and what calls wait for.

A newsroom's index outgrows one node: the collection is split into shards,
each kept on `replicas` nodes, and every call says how much of the cluster
must agree. These are decided once, at collection creation (shards, replicas,
on-disk storage, HNSW, quantization) or per call (read consistency, write
ordering), so they live in one struct that the catalog hands every store it
opens (`ClusterLayout`), read from the settings table by the front doors.

Why calls are given their consistency here rather than at each call site:
every read must carry the same `consistency` and every write the same
`ordering`, including reads added later; `LaidOutCalls` adds them by the
client method's name, so a new call cannot forget them. The embedded store
(Qdrant Edge, one shard in-process) has no such choices.

qdrant-client's local mode (the tests' stand-in for a server) ignores shards,
replicas and payload indexes, so `collection_config` is checked as data
(tests/unit/test_server_layout.py) and the cluster itself by `compose.yaml`'s
`cluster` profile for users with a Docker engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import msgspec
from qdrant_client import models as qm

from search.contracts import ModelInfo

__all__ = ["READS", "WRITES", "ClusterLayout", "LaidOutCalls", "collection_config"]

T = TypeVar("T")

ReadConsistency = Literal["one", "majority", "quorum", "all"]
WriteOrdering = Literal["weak", "medium", "strong"]
Quantization = Literal["none", "int8"]

# Client methods that read points (take `consistency`) and that write them (take `ordering`).
READS = frozenset({"query_points", "query_batch_points", "scroll", "retrieve", "facet"})
WRITES = frozenset({"upsert", "set_payload", "delete", "batch_update_points", "overwrite_payload",
                    "delete_payload", "update_vectors"})


class ClusterLayout(msgspec.Struct, frozen=True):
    """Shards, replicas and consistency of the posts collections on a Qdrant server.

    Defaults are a single node's: one shard, one copy, reads from any replica,
    writes acknowledged by the shard's leader once durable (`wait=True`).
    """

    shards: int = 1
    replicas: int = 1
    # Replicas that must acknowledge a write before it succeeds (at most `replicas`).
    write_consistency: int = 1
    # Replicas a read asks: `one` (fastest; may miss a write not yet replicated),
    # `majority`, `quorum` (more than half) or `all`.
    read_consistency: ReadConsistency = "one"
    # Writes' ordering across replicas: `weak` (as they come), `medium` (through a
    # dynamically elected leader), `strong` (through the permanent leader).
    write_ordering: WriteOrdering = "weak"
    # Dense vectors and payloads on disk (memory-mapped) instead of in RAM.
    on_disk: bool = False
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    # Scalar int8 quantization of the dense vectors (kept in RAM, originals rescore).
    quantization: Quantization = "none"

    def __post_init__(self) -> None:
        if self.write_consistency > self.replicas:
            raise ValueError(f"write_consistency {self.write_consistency} exceeds replicas "
                             f"{self.replicas}: no write could succeed")

    @property
    def read(self) -> qm.ReadConsistencyType | int:
        return 1 if self.read_consistency == "one" else qm.ReadConsistencyType(self.read_consistency)

    @property
    def ordering(self) -> qm.WriteOrdering:
        return qm.WriteOrdering(self.write_ordering)


def collection_config(layout: ClusterLayout, model: ModelInfo) -> dict[str, Any]:
    """Keyword arguments of `create_collection` for a posts collection."""
    quantization = (qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(
        type=qm.ScalarType.INT8, quantile=0.99, always_ram=True))
        if layout.quantization == "int8" else None)
    return {
        "vectors_config": {"dense": qm.VectorParams(
            size=model.dense_dim, distance=qm.Distance.COSINE, on_disk=layout.on_disk or None)},
        "sparse_vectors_config": {"sparse": qm.SparseVectorParams(
            modifier=qm.Modifier.IDF if model.sparse_idf else None,
            index=qm.SparseIndexParams(on_disk=layout.on_disk or None))},
        "shard_number": layout.shards,
        "replication_factor": layout.replicas,
        "write_consistency_factor": layout.write_consistency,
        "on_disk_payload": layout.on_disk,
        "hnsw_config": qm.HnswConfigDiff(m=layout.hnsw_m, ef_construct=layout.hnsw_ef_construct),
        "quantization_config": quantization,
    }


class LaidOutCalls:
    """The retrying caller, adding the layout's read consistency to reads and its write
    ordering to writes (by the client method's name: `READS`, `WRITES`)."""

    def __init__(self, call: Callable[..., Any], layout: ClusterLayout) -> None:
        self._call = call
        self.layout = layout

    def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        name = getattr(fn, "__name__", "")
        if name in READS:
            kwargs.setdefault("consistency", self.layout.read)
        elif name in WRITES:
            kwargs.setdefault("ordering", self.layout.ordering)
        result: T = self._call(fn, *args, **kwargs)
        return result
