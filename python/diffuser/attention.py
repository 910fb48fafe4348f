"""Sparse attention with diffusion on numpy arrays (the C++ CPU kernels).

Per sequence b and head h (docs/math.md): scores ``s_e = <q_i, k_j> / sqrt(D)`` on the pattern's
edges, an edge softmax per query row (keys ``j >= lengths[b]`` excluded), optional attention
dropout with the counter-based RNG, then ``Z = sum_k theta_k A^k V`` by Horner. Arrays are
``[n, H*D]``, ``[B, n, H*D]`` or ``[B, n, H, D]``, float32 or float64, C-contiguous; the GIL is
released while the kernels run.

    plan = attention.Plan(graph.build("window=8,global=2", n=128))
    z, state = attention.forward(plan, q, k, v, heads=4, diffusion=Diffusion.ppr(0.1, 5))
    dq, dk, dv = attention.backward(state, dz)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import AttentionPlan as Plan
from ._core import CsrGraph, Diffusion

__all__ = ["Plan", "State", "backward", "dropout_mask", "forward", "theta_of"]

DiffusionLike = Union[Diffusion, Sequence[float], None]


def theta_of(diffusion: DiffusionLike) -> list[float]:
    """theta_0..theta_K of a Diffusion (None: the paper's PPR alpha=0.1, K=5) or of an explicit
    coefficient list (checked by Diffusion.from_coefficients)."""
    if diffusion is None:
        diffusion = Diffusion.ppr(0.1, 5)
    if isinstance(diffusion, Diffusion):
        if not diffusion.is_polynomial:
            raise ValueError(f"{diffusion.describe()} is not a polynomial (untruncated "
                             "diffusions are for spectral maps only): give hops")
        return list(diffusion.theta)
    return list(Diffusion.from_coefficients([float(t) for t in diffusion]).theta)


def _plan(plan_or_graph) -> Plan:
    if isinstance(plan_or_graph, Plan):
        return plan_or_graph
    if isinstance(plan_or_graph, CsrGraph):
        return Plan(plan_or_graph)
    raise TypeError(f"expected an attention.Plan or a graph.CsrGraph, got {type(plan_or_graph).__name__}")


def _lengths(lengths, n: int):
    if lengths is None:
        return None
    a = np.asarray(lengths)
    if a.dtype.kind not in "iu":
        raise TypeError(f"lengths must be integers, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"lengths must be 1-D [B], got shape {list(a.shape)}")
    if a.size and (a.min() < 0 or a.max() > n):
        raise ValueError(f"lengths must lie in [0, n = {n}], got [{a.min()}, {a.max()}]")
    return np.ascontiguousarray(a, dtype=np.int32)


@dataclass
class State:
    """What forward saved for backward (attn: softmax edge weights [B, H, nnz] before dropout;
    attn_dropped: after dropout, or empty; hops: Y_1..Y_{K-1} [B, K-1, n, W], or empty)."""

    plan: Plan
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    attn: np.ndarray
    attn_dropped: np.ndarray
    hops: np.ndarray
    options: dict = field(default_factory=dict)


def forward(plan, q, k, v, heads: int, diffusion: DiffusionLike = None, lengths=None,
            dropout: float = 0.0, seed: int = 0, stream: int = 0, memory: str = "store",
            kernels: str = "optimized", threads: int = 0, save: bool = True):
    """Z = f(A) V on the pattern. Returns ``(z, state)`` (``state`` is None when ``save`` is
    False); ``z`` has q's shape and dtype.

    plan: an :class:`Plan` (build once per pattern) or a CsrGraph. heads: H (must divide the
    width). diffusion: a :class:`Diffusion` or a theta list. lengths: valid length per sequence
    (keys ``j >= len`` are masked, rows ``i >= len`` are 0). dropout, seed, stream: attention
    dropout with the counter-based mask of the C++ core. memory: "store" keeps the hop states
    for backward, "recompute" rebuilds them there. kernels: "optimized" or "reference" (the
    single-threaded oracle). threads: OpenMP threads (0: the current setting).
    """
    p = _plan(plan)
    theta = theta_of(diffusion)
    lens = _lengths(lengths, p.n)
    opts = dict(heads=int(heads), theta=theta, lengths=lens, dropout=float(dropout),
                seed=int(seed), stream=int(stream), memory=memory, kernels=kernels,
                threads=int(threads))
    z, attn, dropped, hops = _core.attention_forward(p, q, k, v, save=save, **opts)
    if not save:
        return z, None
    return z, State(p, q, k, v, attn, dropped, hops, opts)


def backward(state: State, dz, want_dtheta: bool = False):
    """Gradients of a scalar loss given dz = dL/dZ (q's shape and dtype): ``(dq, dk, dv)``, plus
    dtheta [K+1] (float64, summed over batch and heads) when ``want_dtheta``."""
    if not isinstance(state, State):
        raise TypeError(f"state must be the State returned by forward(), got {type(state).__name__}")
    dq, dk, dv, dtheta = _core.attention_backward(
        state.plan, state.q, state.k, state.v, state.attn, state.attn_dropped, state.hops, dz,
        want_dtheta=want_dtheta, **state.options)
    return (dq, dk, dv, dtheta) if want_dtheta else (dq, dk, dv)


def dropout_mask(plan, batch: int, heads: int, p: float, seed: int, stream: int) -> np.ndarray:
    """The dropout multipliers [B, H, nnz] the kernels apply (0 or 1/(1-p)): element
    (b, h, e) draws counter_uniform(seed, stream, (b H + h) nnz + e) and keeps the edge when the
    draw is >= p."""
    nnz = _plan(plan).nnz
    u = _core.dropout_uniform(int(seed), int(stream), 0, int(batch) * int(heads) * nnz)
    keep = np.float32(1.0) / (np.float32(1.0) - np.float32(p))
    return np.where(u >= np.float32(p), keep, np.float32(0)).reshape(batch, heads, nnz)
