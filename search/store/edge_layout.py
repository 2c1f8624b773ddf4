"""How an embedded (Qdrant Edge) index is laid out: HNSW, int8 quantization, optimizers.

Without an HNSW index every dense query scans every vector: 7 ms at 100k posts,
~70 ms at 1M, growing linearly. Qdrant's answer is to index a segment once it
outgrows `indexing_threshold_kb` (an HNSW graph over int8-quantized vectors,
rescored with the originals) and to scan only what is still small. Qdrant Edge
has no background optimizer: `EdgeStore.optimize` runs it, right after an
`index` run and from the API's write path once enough posts wait unindexed
(`indexer.upkeep`).

Measured on these 2 cores at 100k synthetic posts (decision 0031): Qdrant's
default `payload_m` (= m) builds a filtered sub-graph per value of each indexed
field: 67-96 s to build, filtered recall@10 0.995-0.998. `payload_m = 0` skips
them: 44-50 s, but a platform filter's recall@10 fell to 0.69 walking the plain
graph; with ACORN (the walk looks two hops past filtered-out nodes) it is 0.996.
So: no sub-graphs, ACORN on every dense query (it only acts under a filter).
int8 quantization made the build faster too (50 s against 86 s unquantized) at
recall@10 0.976-0.98 against exact. Values here are the defaults the settings
table (`TRENDSEARCH_EDGE_*`) starts from.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import qdrant_edge as qe

from search.contracts import ModelInfo

__all__ = ["MAX_RESCORED", "EdgeLayout", "edge_config", "dense_search_params"]


class EdgeLayout(msgspec.Struct, frozen=True):
    """HNSW, quantization and optimizer thresholds of an Edge index.

    Collection-level values (everything but `hnsw_ef` and `oversampling`) apply when
    `migrate`/`reindex` creates an index; an existing index keeps what it was built with.
    """

    # HNSW links per node (more: better recall, more RAM, slower build). 32 and ef_construct
    # 200, not 16 / 100: strict recall@10 at 1M 0.897 -> 0.970 at oversampling 16 (0031, s17).
    hnsw_m: int = 32
    # Build-time search width (more: better graph, slower build).
    hnsw_ef_construct: int = 200
    # Search width per dense query (more: better recall, slower query). 256 with
    # oversampling 8: recall@10 against exact 0.468 -> 0.826 at 1M synthetic points
    # (0.964 -> 0.997 at 100k) for ~0.1 ms a query (decision 0031, session 16); 16: 0.897.
    hnsw_ef: int = 256
    # Links of the per-value filtered sub-graphs; 0 builds none (see module docstring).
    payload_m: int = 0
    # A segment at most this many KB of dense vectors is scanned, not walked.
    full_scan_threshold_kb: int = 10_000
    # A segment grows past this many KB of dense vectors before it is indexed
    # (384 float32 = 1.5 KB a post: 20,000 KB is ~13k posts).
    indexing_threshold_kb: int = 20_000
    # Largest segment the optimizer builds, KB (0: Qdrant's choice). Bounds one build's stall.
    max_segment_size_kb: int = 0
    quantization: Literal["none", "int8"] = "int8"
    # Quantized candidates fetched per wanted hit before the originals rescore them
    # (at most `MAX_RESCORED` a query: see `dense_search_params`). 16, not 8: strict
    # recall@10 at 1M 0.826 -> 0.897 for the same latency; 32 adds 0.004 (0031, session 17).
    oversampling: float = 16.0
    # Threads one query may use (0: Qdrant's choice from the CPU count).
    max_search_threads: int = 0


def _hnsw(layout: EdgeLayout) -> Any:
    return qe.HnswIndexConfig(
        m=layout.hnsw_m, ef_construct=layout.hnsw_ef_construct,
        full_scan_threshold=layout.full_scan_threshold_kb, payload_m=layout.payload_m)


def edge_config(layout: EdgeLayout, model: ModelInfo) -> Any:
    """The `EdgeConfig` a new posts index is created with."""
    quantization = (qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99,
                                                always_ram=True)
                    if layout.quantization == "int8" else None)
    optimizers = qe.EdgeOptimizersConfig(
        indexing_threshold=layout.indexing_threshold_kb,
        max_segment_size=layout.max_segment_size_kb or None)
    return qe.EdgeConfig(
        vectors={"dense": qe.EdgeVectorParams(size=model.dense_dim, distance=qe.Distance.Cosine)},
        sparse_vectors={"sparse": qe.EdgeSparseVectorParams(
            modifier=qe.Modifier.Idf if model.sparse_idf else None)},
        hnsw_config=_hnsw(layout), quantization_config=quantization, optimizers=optimizers,
        max_search_threads=layout.max_search_threads or None)


# Originals one dense query rescores at most. Int8 cannot order near-ties, so a top 10
# wants many candidates rescored; the counting's threshold search (limit 1,001) at
# oversampling 8 rescored 8,000 and its stage went from 13 to 35 ms p50 at 1M.
MAX_RESCORED = 2048


def dense_search_params(layout: EdgeLayout, exact: bool = False, limit: int = 10) -> Any:
    """Search parameters of a dense query of `limit` hits: the HNSW width and the
    rescoring of int8 hits (`oversampling`, down to what keeps `MAX_RESCORED`)."""
    if exact:
        return qe.SearchParams(exact=True)
    oversampling = max(1.0, min(layout.oversampling, MAX_RESCORED / max(limit, 1)))
    rescore = (qe.QuantizationSearchParams(rescore=True, oversampling=oversampling)
               if layout.quantization == "int8" else None)
    return qe.SearchParams(hnsw_ef=layout.hnsw_ef, quantization=rescore,
                           acorn=qe.AcornSearchParams(enable=True))
