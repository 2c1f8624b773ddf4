"""Posts written through the API get the embedded dense index built behind them
(`indexer.upkeep` wired into POST /v1/posts, decision 0031)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories import tiny_api


def test_ingest_builds_the_dense_index_once_enough_posts_arrived(
        tmp_path: Path, tiny_embedder: Any, tiny_reranker: Any) -> None:
    # Thresholds so small that 60 posts cross them: indexed past ~2 KB of dense vectors.
    env = {"TRENDSEARCH_EDGE_OPTIMIZE_EVERY": "40", "TRENDSEARCH_EDGE_INDEXING_THRESHOLD_KB": "2",
           "TRENDSEARCH_EDGE_FULL_SCAN_THRESHOLD_KB": "1"}
    with tiny_api(str(tmp_path), tiny_embedder, tiny_reranker, env) as client:
        services = client.app.state.services
        posts = [{"id": f"up-{i}", "text": f"river flood warning number {i}", "platform": "twitter",
                  "created_at": "2024-05-01T12:00:00Z"} for i in range(60)]
        for start in range(0, 60, 20):
            assert client.post("/v1/posts", json={"posts": posts[start:start + 20]}).status_code == 200
        services.upkeep.wait()
        assert services.upkeep.builds == 1
        info = services.catalog.open(services.catalog.live_name()).shard.info()
        # Sparse vectors count as indexed as written; the 40 posts before the build have
        # their dense vectors indexed too, the 20 after wait in a new small segment.
        assert int(info.indexed_vectors_count) - int(info.points_count) == 40
        results = client.post("/v1/search", json={"query": "river flood"}).json()["results"]
        assert len(results) == 10
