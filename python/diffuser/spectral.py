"""Spectral analysis of attention patterns: gap, lambda2, |mu2|, Cheeger bounds, sweep cuts,
diffusion maps and the approximation epsilon of full attention (docs/spectral.md).

Every eigenvalue comes with its residual, convergence status and method; nothing is hidden.
The matrices: M = D^-1/2 S D^-1/2 of the symmetrised 0/1 pattern S, L = I - M (lambda2 = 1 -
mu2 is "the gap"), and the walk P = D_out^-1 G on the directed pattern (mu2_walk).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import _core
from ._core import CsrGraph, Diffusion, EigenResult, GraphSpectrum

__all__ = [
    "EigenResult",
    "GraphSpectrum",
    "analyze",
    "conductance",
    "diffused",
    "epsilon_vs_hops",
    "spectrum",
    "suggest_hops",
    "sweep_cut",
]


def analyze(graph: CsrGraph, tol: float = 1e-10, max_matvecs: int = 20000, dense_max: int = 512,
            method: str = "auto", shift_invert: bool = True, seed: int = 20221021,
            mixing_tol: float = 1e-3, diffusion: Optional[Diffusion] = None) -> dict:
    """Spectral summary of a pattern: the keys and values of ``diffuser spectral FILE`` (without
    file, threads, timings and the "about" texts) plus ``"sweep"`` (the best Fiedler sweep set,
    its cut and volumes) and ``"spectrum"`` (the :class:`GraphSpectrum` with the three
    :class:`EigenResult` s and the Fiedler vector). With ``diffusion``, ``"diffused"`` holds the
    diffusion-map quantities. Options as the CLI's (--tol, --max-matvecs, --dense-max, --method,
    --no-shift-invert, --solver-seed, --mixing-tol). The GIL is released while solving."""
    summary, s = _core.spectral_analyze(graph, tol, max_matvecs, dense_max, method, shift_invert,
                                        seed, mixing_tol, diffusion)
    summary["spectrum"] = s
    return summary


def spectrum(graph: CsrGraph, **options) -> GraphSpectrum:
    """Only the :class:`GraphSpectrum` (mu2, mu_min, mu2_walk as EigenResults)."""
    return analyze(graph, **options)["spectrum"]


def diffused(spec: GraphSpectrum, diffusion: Diffusion) -> dict:
    """Eigenvalue images f(mu2), f(mu_min), the bound max f on [mu_min, mu2], gap and mu* of the
    diffused walk (spectral/DiffusedSpectrum.hpp)."""
    return _core.diffused_spectrum(spec, diffusion)


def sweep_cut(graph: CsrGraph, x: np.ndarray) -> dict:
    """Best prefix of the nodes sorted by x_i / sqrt(d_i): a certified upper bound on the
    conductance (set, cut, volume, total_volume, conductance)."""
    return _core.sweep_cut(graph, x)


def conductance(graph: CsrGraph, nodes: Sequence[int]) -> dict:
    """Exact conductance of a node set of the symmetrised pattern."""
    return _core.set_conductance(graph, np.asarray(nodes, dtype=np.int64))


def epsilon_vs_hops(spec: GraphSpectrum, alpha: float = 0.1, hops: Sequence[int] = (0, 1, 2, 3, 5, 10),
                    all_eigenvalues: Optional[Sequence[float]] = None) -> list[dict]:
    """Approximation epsilon of truncated PPR(alpha, K) against full attention for each K: the
    largest non-trivial |p_K(mu)| over the eigenvalues of M (exact when ``all_eigenvalues`` is
    given, descending with 1 first; else the bound over [mu_min, mu2]). analysis/HopEpsilon.hpp."""
    eig = None if all_eigenvalues is None else [float(x) for x in all_eigenvalues]
    return _core.epsilon_vs_hops(spec, float(alpha), [int(k) for k in hops], eig)


def suggest_hops(spec: GraphSpectrum, alpha: float = 0.1, epsilon: Optional[float] = None,
                 rel_tol: float = 0.05, max_hops: int = 64,
                 all_eigenvalues: Optional[Sequence[float]] = None) -> dict:
    """Hops K of PPR(alpha, K) from the spectral gap, as ``diffuser spectral suggest-hops``: the
    smallest K with epsilon(K) <= ``epsilon``; without a target, or when none reaches it, the
    smallest K within ``rel_tol`` of what untruncated diffusion can give (docs/spectral.md §11).
    Returns hops, diffusion, rule, target_reached, epsilon, epsilon_plain, epsilon_limit,
    converged_threshold, exact, reasoning and the curve (hops, epsilon per K). Exact with
    ``all_eigenvalues`` (descending, 1 first), else bounds over [mu_min, mu2]. Raises ValueError
    naming a parameter outside its range."""
    eig = None if all_eigenvalues is None else [float(x) for x in all_eigenvalues]
    return _core.suggest_hops(spec, float(alpha), None if epsilon is None else float(epsilon),
                              float(rel_tol), int(max_hops), eig)
