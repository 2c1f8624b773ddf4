"""The Qdrant server layout: shards, replicas and consistency from the settings.

qdrant-client's local mode ignores shards, replicas and consistency, so what a
server would be told is checked as data here, and the calls are run through local
mode to show the client accepts every argument they carry.
"""

from __future__ import annotations

from typing import Any

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.contracts import ModelInfo
from search.errors import FieldError
from search.store.server_catalog import ServerCatalog
from search.store.server_layout import ClusterLayout, LaidOutCalls, collection_config
from server.settings import load_settings

MODEL = ModelInfo(model_id="test-model", dense_dim=8, sparse_idf=False)
CLUSTER = ClusterLayout(shards=2, replicas=2, write_consistency=2, read_consistency="majority",
                        write_ordering="medium", on_disk=True, hnsw_m=32, hnsw_ef_construct=200,
                        quantization="int8")


def test_a_new_collection_is_created_with_the_layout() -> None:
    config = collection_config(CLUSTER, MODEL)
    assert (config["shard_number"], config["replication_factor"],
            config["write_consistency_factor"]) == (2, 2, 2)
    assert config["on_disk_payload"] is True and config["vectors_config"]["dense"].on_disk
    assert config["hnsw_config"] == qm.HnswConfigDiff(m=32, ef_construct=200)
    assert config["quantization_config"].scalar.type == qm.ScalarType.INT8
    plain = collection_config(ClusterLayout(), MODEL)
    assert plain["quantization_config"] is None and plain["shard_number"] == 1


def test_reads_carry_the_consistency_and_writes_the_ordering() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def call(fn: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((fn.__name__, kwargs))

    calls = LaidOutCalls(call, CLUSTER)
    client = QdrantClient(":memory:")
    calls(client.query_points, "c", query=[0.0])
    calls(client.scroll, "c", limit=1)
    calls(client.upsert, "c", [], wait=True)
    calls(client.get_collections)
    assert seen[0][1]["consistency"] == qm.ReadConsistencyType.MAJORITY
    assert seen[1][1]["consistency"] == qm.ReadConsistencyType.MAJORITY
    assert seen[2][1]["ordering"] == qm.WriteOrdering.MEDIUM
    assert seen[3][1] == {}
    assert LaidOutCalls(call, ClusterLayout()).layout.read == 1  # `one`: any replica


def test_every_call_of_a_laid_out_store_is_one_the_client_accepts() -> None:
    """Local mode takes (and ignores) every argument a cluster needs: a store made
    with the cluster layout creates, writes, reads and counts."""
    import numpy as np

    from search.contracts import Encoded
    from search.models import Post, SparseVector
    from tests.factories import BASE_TIME

    catalog = ServerCatalog(QdrantClient(":memory:"), layout=CLUSTER)
    store = catalog.create("one")
    store.create_collection(MODEL)
    post = Post(id="a", text="flood", platform="twitter", lang="en", created_at=BASE_TIME)
    dense = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    store.upsert([post], Encoded(dense=dense, sparse=[SparseVector(indices=[1], values=[1.0])]))
    hits = store.search([("dense", dense[0].tolist())], None, None, 5)
    assert [h.point_id for h in hits[0]] and store.count() == 1
    assert [p.id for p in store.get(["a"])] == ["a"]
    catalog.close()


def test_more_write_acknowledgements_than_copies_is_refused_by_name() -> None:
    with pytest.raises(FieldError) as info:
        load_settings({"TRENDSEARCH_QDRANT_REPLICAS": "2", "TRENDSEARCH_QDRANT_WRITE_CONSISTENCY": "3"})
    assert "TRENDSEARCH_QDRANT_WRITE_CONSISTENCY" in str(info.value)
    assert "replicas" in str(info.value)
    with pytest.raises(FieldError, match="TRENDSEARCH_QDRANT_READ_CONSISTENCY"):
        load_settings({"TRENDSEARCH_QDRANT_READ_CONSISTENCY": "some"})
    assert load_settings({"TRENDSEARCH_QDRANT_SHARDS": "4"}).layout.shards == 4
