"""Token graphs: CSR patterns built from the CLI's spec strings, file I/O and statistics.

A :class:`CsrGraph` is a square n x n pattern: row ``i`` is query token ``i``, its columns
``indices[indptr[i]:indptr[i+1]]`` are the keys it attends to (sorted, no duplicates, int32).
``indptr``/``indices``/``values`` are read-only numpy views of the C++ arrays (no copy).
"""

from __future__ import annotations

import os

import numpy as np

from . import _core
from ._core import CsrGraph

__all__ = [
    "CsrGraph",
    "build",
    "canonical_spec",
    "components",
    "from_scipy",
    "presets",
    "read",
    "stats",
    "write",
]


def build(spec: str, n: int) -> CsrGraph:
    """Builds the pattern named by ``spec`` on ``n`` tokens.

    ``spec`` is the compact form of the CLI (``diffuser graph build --spec``) and of experiment
    configs, e.g. ``"window=64,global=64,random=64"``, ``"preset=diffuser"`` or
    ``"window=16,causal,seed=3"`` (docs/patterns.md). The GIL is released while it builds.
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string such as 'window=64,global=64', got {type(spec).__name__}")
    return _core.build_pattern(spec, int(n))


def canonical_spec(spec: str) -> str:
    """The canonical compact form of a spec (what checkpoints and logs record)."""
    return _core.canonical_spec(spec)


def presets() -> list[str]:
    """Names accepted by ``preset=`` (docs/patterns.md)."""
    return list(_core.preset_names())


def read(path: str | os.PathLike) -> CsrGraph:
    """Reads .mtx (Matrix Market), .txt/.edges/.el, .json or .npy by extension."""
    return _core.read_graph(os.fspath(path))


def write(path: str | os.PathLike, graph: CsrGraph, force: bool = False) -> None:
    """Writes .mtx, .txt/.edges/.el, .json, .npy, .graphml or .dot by extension (atomically).

    ``force`` lifts the size limits of DOT and dense .npy output.
    """
    _core.write_graph(os.fspath(path), graph, bool(force))


def _to_scipy(self: CsrGraph):
    """The graph as a ``scipy.sparse.csr_array`` (values, or ones for a pattern); needs scipy."""
    try:
        import scipy.sparse as sp
    except ImportError as e:  # scipy is optional
        raise ImportError("CsrGraph.to_scipy() needs scipy: pip install scipy") from e
    data = self.values if self.has_values else np.ones(self.nnz, dtype=np.float32)
    return sp.csr_array((np.array(data), np.array(self.indices), np.array(self.indptr)),
                        shape=(self.n, self.n))


def from_scipy(matrix) -> CsrGraph:
    """A CsrGraph from a square scipy sparse matrix (sorted and deduplicated first); its values
    become edge values."""
    m = matrix.tocsr()
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"a token graph is square, got shape {m.shape}")
    m = m.copy()
    m.sum_duplicates()
    m.sort_indices()
    return CsrGraph(m.shape[0], m.indptr, m.indices, np.asarray(m.data, dtype=np.float32))


def _transpose(self: CsrGraph):
    """(transposed graph, perm): edge t of the transpose is edge perm[t] of this graph."""
    return _core.transpose(self)


def _symmetrize(self: CsrGraph) -> CsrGraph:
    """S = G union G^T."""
    return _core.symmetrize(self)


def _causal(self: CsrGraph) -> CsrGraph:
    """The edges (i, j) with j <= i."""
    return _core.restrict_causal(self)


def _crop(self: CsrGraph, length: int) -> CsrGraph:
    """The first ``length`` tokens."""
    return _core.crop(self, int(length))


CsrGraph.to_scipy = _to_scipy
CsrGraph.transpose = _transpose
CsrGraph.symmetrize = _symmetrize
CsrGraph.causal = _causal
CsrGraph.crop = _crop


def components(graph: CsrGraph) -> dict:
    """Weakly connected components: count, largest, label [n], sizes."""
    return _core.connected_components(graph)


def stats(graph: CsrGraph, max_hops: int = 5, exact_limit: int = 20000, exact_work: float = 2e10,
          samples: int = 256, seed: int = 0) -> dict:
    """The statistics of ``diffuser graph stats FILE`` (same keys and values, without "file"):
    sizes, degree and in-degree summaries, self-loops, symmetry, components, diameter (exact or
    bounds) and receptive fields for k = 1..max_hops. The GIL is released during the BFS runs."""
    n = graph.n
    out = {
        "n": n,
        "nnz": graph.nnz,
        "density": graph.nnz / (n * n) if n > 0 else 0.0,
        "has_values": graph.has_values,
        "degree": _core.degree_stats(graph),
        "in_degree": _core.in_degree_stats(graph),
        "self_loops": _core.count_self_loops(graph),
        "symmetric": _core.is_symmetric(graph),
    }
    c = _core.connected_components(graph)
    out["components"] = c["count"]
    out["largest_component"] = c["largest"]
    out["strong_components"] = _core.strong_component_count(graph)
    hops = _core.hop_analysis(graph, max_hops, exact_limit, exact_work, samples, seed)
    out["diameter"] = hops["diameter"]
    out["receptive_field"] = hops["receptive_field"]
    return out


def receptive_field(graph: CsrGraph, max_hops: int = 5, samples: int = 256, seed: int = 0) -> dict:
    """Share of (query, key) pairs within k hops, k = 1..max_hops (exact or sampled)."""
    return _core.hop_analysis(graph, max_hops, 20000, 2e10, samples, seed)["receptive_field"]


def bfs_hops(graph: CsrGraph, source: int) -> np.ndarray:
    """Hop distances from ``source`` along query -> key edges (-1: unreachable)."""
    return _core.bfs_hops(graph, int(source))
