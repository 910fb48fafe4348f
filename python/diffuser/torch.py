"""PyTorch op: sparse attention with multi-hop diffusion, with autograd and torch.compile.

``sparse_attention(q, k, v, indptr, indices, ...)`` computes, per sequence and head, the edge
softmax of ``<q_i, k_j> / sqrt(D)`` over an int32 CSR pattern (row i = query i, its columns =
keys), optional attention dropout (the C++ core's counter-based masks), and
``Z = sum_k theta_k A^k V``. q, k, v are ``[B, n, H, D]`` C-contiguous tensors: float32 or
float64 on the CPU, float32 on a CUDA device when the package was built with the CUDA backend
(``diffuser.has_cuda``; the pattern tensors stay on the CPU, the backend uploads the pattern
once per device). Forward and backward are each a ``torch.library.custom_op``
(``diffuser::attention_forward``, ``diffuser::attention_backward``) with fake (meta) kernels for
torch.compile and an autograd formula; gradients flow to q, k, v and theta. The kernels use
``torch.get_num_threads()`` OpenMP threads (torchrun sets 1 per process unless told).

``DiffuserAttention`` is the drop-in ``nn.Module``: ``[B, n, d_model] -> [B, n, d_model]``.
"""

from __future__ import annotations

import atexit
import collections
import threading
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor, nn

from . import _core
from . import graph as _graph
from .attention import theta_of
from ._core import Diffusion

__all__ = [
    "DiffuserAttention",
    "lengths_from_padding_mask",
    "pattern_tensors",
    "sparse_attention",
    "theta_tensor",
]

# ------------------------------------------------------------------------------ plan cache ---
# A plan (transpose, permutations, row blocks) costs O(n + nnz) to build; it is cached per
# pattern tensor pair. The entry holds the two tensors, so their memory cannot be reused by
# another pattern while the entry lives, and the tensors' version counters detect in-place
# changes.
_PLAN_CACHE_SIZE = 16
_plans: "collections.OrderedDict[tuple, tuple]" = collections.OrderedDict()
_plans_lock = threading.Lock()


def _cached(cache: "collections.OrderedDict", key: tuple, make):
    """cache[key] (most recently used now), or make() stored under key; the oldest of more than
    _PLAN_CACHE_SIZE entries is dropped. make() runs outside the lock."""
    with _plans_lock:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    value = make()
    with _plans_lock:
        cache[key] = value
        while len(cache) > _PLAN_CACHE_SIZE:
            cache.popitem(last=False)
    return value


def _plan_for(indptr: Tensor, indices: Tensor) -> _core.AttentionPlan:
    key = (indptr.data_ptr(), indices.data_ptr(), indptr.numel(), indices.numel(),
           indptr._version, indices._version)

    def make():
        g = _core.CsrGraph(indptr.numel() - 1, indptr.numpy(), indices.numpy())
        return (_core.AttentionPlan(g), indptr, indices)

    return _cached(_plans, key, make)[0]


# The CUDA backend keeps one uploaded copy of each cached plan per device.
_cuda_handles: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()


def _cuda_handle(indptr: Tensor, indices: Tensor, device: torch.device):
    plan = _plan_for(indptr, indices)
    index = device.index if device.index is not None else torch.cuda.current_device()
    return _cached(_cuda_handles, (plan.id, index), lambda: _core.CudaAttention(plan, index))


def _sync_torch_stream(device: torch.device) -> None:
    # torch queued the work that wrote q, k, v (and allocated the outputs) on its current
    # stream; the backend runs on its own stream and returns after its work is done, so
    # waiting here is all the ordering a call needs.
    torch.cuda.current_stream(device).synchronize()


@atexit.register
def _clear_plans() -> None:
    with _plans_lock:
        _cuda_handles.clear()
        _plans.clear()


def _threads(threads: int) -> int:
    return threads if threads > 0 else torch.get_num_threads()


def _np(t: Optional[Tensor]):
    return None if t is None else t.detach().numpy()


# ------------------------------------------------------------------------------------ ops ---
@torch.library.custom_op("diffuser::attention_forward", mutates_args=(), device_types="cpu")
def _attention_forward(q: Tensor, k: Tensor, v: Tensor, indptr: Tensor, indices: Tensor,
                       theta: Tensor, lengths: Optional[Tensor], dropout: float, seed: int,
                       stream: int, memory: str, threads: int, save: bool
                       ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    plan = _plan_for(indptr, indices)
    z, attn, dropped, hops = _core.attention_forward(
        plan, _np(q), _np(k), _np(v), heads=q.shape[2], theta=theta.tolist(),
        lengths=_np(lengths), dropout=dropout, seed=seed, stream=stream, memory=memory,
        threads=_threads(threads), save=save)
    if not save:
        return torch.from_numpy(z), q.new_empty((0,)), q.new_empty((0,)), q.new_empty((0,))
    return (torch.from_numpy(z), torch.from_numpy(attn), torch.from_numpy(dropped),
            torch.from_numpy(hops))


@_attention_forward.register_kernel("cuda")
def _attention_forward_cuda(q, k, v, indptr, indices, theta, lengths, dropout, seed, stream,
                            memory, threads, save):
    handle = _cuda_handle(indptr, indices, q.device)
    with torch.cuda.device(q.device):  # q's device current while torch exports the tensors
        z = torch.empty_like(q)
        _sync_torch_stream(q.device)
        attn, dropped, hops = handle.forward(
            q.detach(), k.detach(), v.detach(), z, heads=q.shape[2], theta=theta.tolist(),
            lengths=_np(lengths), dropout=dropout, seed=seed, stream=stream, memory=memory,
            save=save)
    empty = q.new_empty
    return (z, empty((0,)) if attn is None else attn, empty((0,)) if dropped is None else dropped,
            empty((0,)) if hops is None else hops)


@_attention_forward.register_fake
def _attention_forward_fake(q, k, v, indptr, indices, theta, lengths, dropout, seed, stream,
                            memory, threads, save):
    if not save:
        return torch.empty_like(q), q.new_empty((0,)), q.new_empty((0,)), q.new_empty((0,))
    B, n, H, D = q.shape
    nnz = indices.shape[0]
    K = theta.shape[0] - 1
    attn = q.new_empty((B, H, nnz))
    dropped = q.new_empty((B, H, nnz)) if dropout > 0 else q.new_empty((0,))
    hops = (q.new_empty((B, K - 1, n, H * D)) if memory == "store" and K > 1
            else q.new_empty((0,)))
    return torch.empty_like(q), attn, dropped, hops


@torch.library.custom_op("diffuser::attention_backward", mutates_args=(), device_types="cpu")
def _attention_backward(dz: Tensor, q: Tensor, k: Tensor, v: Tensor, indptr: Tensor,
                        indices: Tensor, theta: Tensor, lengths: Optional[Tensor], attn: Tensor,
                        attn_dropped: Tensor, hops: Tensor, dropout: float, seed: int,
                        stream: int, memory: str, threads: int, want_dtheta: bool
                        ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    plan = _plan_for(indptr, indices)
    dq, dk, dv, dtheta = _core.attention_backward(
        plan, _np(q), _np(k), _np(v), _np(attn), _np(attn_dropped), _np(hops), _np(dz),
        heads=q.shape[2], theta=theta.tolist(), lengths=_np(lengths), dropout=dropout, seed=seed,
        stream=stream, memory=memory, threads=_threads(threads), want_dtheta=want_dtheta)
    dtheta = (torch.from_numpy(dtheta).to(theta.dtype) if want_dtheta
              else theta.new_empty((0,)))
    return torch.from_numpy(dq), torch.from_numpy(dk), torch.from_numpy(dv), dtheta


@_attention_backward.register_kernel("cuda")
def _attention_backward_cuda(dz, q, k, v, indptr, indices, theta, lengths, attn, attn_dropped,
                             hops, dropout, seed, stream, memory, threads, want_dtheta):
    handle = _cuda_handle(indptr, indices, q.device)
    with torch.cuda.device(q.device):
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        _sync_torch_stream(q.device)
        dtheta = handle.backward(
            q.detach(), k.detach(), v.detach(), attn.detach(), attn_dropped.detach(),
            hops.detach(), dz.detach(), dq, dk, dv, heads=q.shape[2], theta=theta.tolist(),
            lengths=_np(lengths), dropout=dropout, seed=seed, stream=stream, memory=memory,
            want_dtheta=want_dtheta)
    dtheta = (torch.from_numpy(dtheta).to(device=theta.device, dtype=theta.dtype) if want_dtheta
              else theta.new_empty((0,)))
    return dq, dk, dv, dtheta


@_attention_backward.register_fake
def _attention_backward_fake(dz, q, k, v, indptr, indices, theta, lengths, attn, attn_dropped,
                             hops, dropout, seed, stream, memory, threads, want_dtheta):
    dtheta = theta.new_empty(theta.shape) if want_dtheta else theta.new_empty((0,))
    return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v), dtheta


def _setup_context(ctx, inputs, output):
    q, k, v, indptr, indices, theta, lengths, dropout, seed, stream, memory, threads, save = inputs
    _, attn, dropped, hops = output
    ctx.save_for_backward(q, k, v, indptr, indices, theta, lengths, attn, dropped, hops)
    ctx.options = (dropout, seed, stream, memory, threads)
    ctx.mark_non_differentiable(attn, dropped, hops)
    # The saved-state outputs never get gradients: no zero tensors of their size in backward.
    ctx.set_materialize_grads(False)


def _backward(ctx, dz, _dattn, _ddropped, _dhops):
    if dz is None:  # z did not reach the loss
        return (None,) * 13
    q, k, v, indptr, indices, theta, lengths, attn, dropped, hops = ctx.saved_tensors
    dropout, seed, stream, memory, threads = ctx.options
    want_dtheta = bool(ctx.needs_input_grad[5])
    dq, dk, dv, dtheta = _attention_backward(dz.contiguous(), q, k, v, indptr, indices, theta,
                                             lengths, attn, dropped, hops, dropout, seed,
                                             stream, memory, threads, want_dtheta)
    return (dq, dk, dv, None, None, dtheta if want_dtheta else None, None, None, None, None,
            None, None, None)


_attention_forward.register_autograd(_backward, setup_context=_setup_context)

# ------------------------------------------------------------------------------- public API ---
DiffusionLike = Union[Diffusion, Sequence[float], Tensor, None]


def theta_tensor(diffusion: DiffusionLike = None) -> Tensor:
    """theta_0..theta_K as a float64 tensor (None: PPR alpha=0.1, K=5, the paper's setting)."""
    if isinstance(diffusion, Tensor):
        return diffusion
    return torch.tensor(theta_of(diffusion), dtype=torch.float64)


def pattern_tensors(pattern: "_graph.CsrGraph") -> tuple[Tensor, Tensor]:
    """(indptr, indices) int32 tensors of a CsrGraph (copies: the graph's arrays are read-only)."""
    return (torch.from_numpy(np.array(pattern.indptr)), torch.from_numpy(np.array(pattern.indices)))


def lengths_from_padding_mask(key_padding_mask: Tensor) -> Tensor:
    """Valid lengths [B] (int32) from a key padding mask [B, n] (True = padding, PyTorch's
    convention). Padding must be a suffix of each sequence (the kernels take lengths); a mask
    with a valid key after a padded one raises ValueError."""
    if key_padding_mask.dtype != torch.bool or key_padding_mask.dim() != 2:
        raise ValueError(f"key_padding_mask must be a bool [B, n] tensor, got "
                         f"{key_padding_mask.dtype} {list(key_padding_mask.shape)}")
    valid = ~key_padding_mask
    lengths = valid.sum(dim=1)
    n = key_padding_mask.shape[1]
    prefix = torch.arange(n, device=valid.device).unsqueeze(0) < lengths.unsqueeze(1)
    if not torch.equal(prefix, valid):
        raise ValueError("key_padding_mask: padding must be a suffix of each sequence (valid keys "
                         "first); for other masks restrict the pattern instead")
    return lengths.to(torch.int32)


def _check(q: Tensor, k: Tensor, v: Tensor, indptr: Tensor, indices: Tensor, theta: Tensor,
           lengths: Optional[Tensor]) -> None:
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if q.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"q must be float32 or float64, got {q.dtype}")
    if q.dim() != 4:
        raise ValueError(f"q must be [B, n, H, D], got shape {list(q.shape)}")
    for name, t in (("k", k), ("v", v)):
        if t.dtype != q.dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but q has {q.dtype}")
        if t.shape != q.shape:
            raise ValueError(f"{name} has shape {list(t.shape)} but q has {list(q.shape)}")
    for name, t in (("k", k), ("v", v)):
        if t.device != q.device:
            raise ValueError(f"{name} is on {t.device} but q is on {q.device}")
    if q.device.type == "cuda":
        if not _core.has_cuda:
            raise ValueError(f"q is on {q.device}: this build of diffuser has no CUDA backend "
                             "(reinstall with pip install . -Ccmake.define.DIFFUSER_CUDA=ON; "
                             "docs/python.md, CUDA)")
        if q.dtype != torch.float32:
            raise TypeError(f"q is {q.dtype} on {q.device}: the CUDA backend computes in float32 "
                            "(use .float(), or CPU tensors for float64)")
    elif q.device.type != "cpu":
        raise ValueError(f"q is on {q.device}: diffuser runs attention on CPU tensors and, with "
                         "the CUDA backend, on CUDA tensors")
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not t.is_contiguous():
            raise ValueError(f"{name} must be contiguous (strides {t.stride()}); call .contiguous()")
    for name, t in (("indptr", indptr), ("indices", indices)):
        if not isinstance(t, Tensor) or t.dtype != torch.int32 or t.dim() != 1:
            raise TypeError(f"{name} must be a 1-D int32 tensor (CSR pattern), got "
                            f"{getattr(t, 'dtype', type(t).__name__)} "
                            f"{list(getattr(t, 'shape', []))}")
        if t.device.type != "cpu" or not t.is_contiguous():
            raise ValueError(f"{name} must be a contiguous CPU tensor (the pattern stays on the "
                             f"host; the CUDA backend uploads it once per device), got {t.device}")
    if indptr.shape[0] != q.shape[1] + 1:
        raise ValueError(f"indptr has {indptr.shape[0]} entries but q has n = {q.shape[1]} tokens "
                         f"(expected n + 1 = {q.shape[1] + 1})")
    if theta.dim() != 1 or theta.shape[0] < 1 or not theta.dtype.is_floating_point:
        raise ValueError(f"theta must be a 1-D float tensor theta_0..theta_K, got {theta.dtype} "
                         f"{list(theta.shape)}")
    if lengths is not None:
        if not isinstance(lengths, Tensor) or lengths.dtype not in (torch.int32, torch.int64):
            raise TypeError("lengths must be an int32/int64 tensor [B]")
        if lengths.shape != (q.shape[0],):
            raise ValueError(f"lengths must be [B] = [{q.shape[0]}], got {list(lengths.shape)}")


def sparse_attention(q: Tensor, k: Tensor, v: Tensor, indptr: Tensor, indices: Tensor,
                     diffusion: DiffusionLike = None, lengths: Optional[Tensor] = None,
                     dropout: float = 0.0, seed: int = 0, stream: int = 0,
                     memory: str = "store", threads: int = 0) -> Tensor:
    """Sparse attention + diffusion: ``[B, n, H, D] -> [B, n, H, D]`` (see the module doc).

    diffusion: a :class:`diffuser.Diffusion`, a list theta_0..theta_K, or a float tensor theta
    (learnable: its gradient is dL/dtheta_k = <dZ, A^k V>). lengths: valid length per sequence
    (int32/int64 [B]); keys j >= len are masked and rows i >= len give 0. dropout/seed/stream:
    attention dropout on the edge weights, mask element (b, h, e) = counter_uniform(seed,
    stream, (b H + h) nnz + e) >= p, identical to the C++ core. memory: "store" or "recompute"
    (hop states rebuilt in backward). threads: 0 follows torch.get_num_threads() (CPU tensors;
    the CUDA backend ignores it).
    Causal attention: build the pattern with "causal" in its spec.
    """
    theta = theta_tensor(diffusion)
    _check(q, k, v, indptr, indices, theta, lengths)
    # theta follows q (a module moved to the GPU carries its theta there; the op's device is
    # q's), lengths stay on the host (the kernels read them there); both moves are autograd-safe.
    theta = theta.to(device=q.device, dtype=torch.float64)
    if lengths is not None:
        lengths = lengths.to(device="cpu", dtype=torch.int32)
    seed = int(seed) & 0x7FFFFFFFFFFFFFFF
    stream = int(stream) & 0x7FFFFFFFFFFFFFFF
    # Without autograd (inference, torch.no_grad) forward keeps nothing for backward.
    save = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v, theta))
    z, _, _, _ = _attention_forward(q, k, v, indptr, indices, theta, lengths, float(dropout),
                                    seed, stream, memory, int(threads), save)
    return z


# ----------------------------------------------------------------------------------- module ---
class DiffuserAttention(nn.Module):
    """Multi-head Diffuser attention, ``[B, n, d_model] -> [B, n, d_model]``.

    q, k, v and output projections (``nn.Linear(d_model, d_model)``, like the C++ AttentionBlock
    ``.q/.k/.v/.out``), sparse attention over ``pattern`` with diffusion, attention dropout in
    training mode. ``pattern`` is a spec string (built for each sequence length n on first use,
    as the CLI and the C++ trainer do) or a CsrGraph (cropped to shorter sequences).
    ``learn_theta`` makes theta a parameter. Each training forward advances the dropout stream,
    so masks differ between steps and are reproducible from (seed, step).
    """

    def __init__(self, d_model: int, heads: int, pattern: Union[str, "_graph.CsrGraph"],
                 diffusion: DiffusionLike = None, dropout: float = 0.0, bias: bool = True,
                 learn_theta: bool = False, seed: int = 0, memory: str = "store",
                 threads: int = 0):
        super().__init__()
        if d_model % heads != 0:
            raise ValueError(f"d_model = {d_model} is not a multiple of heads = {heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout = {dropout} outside [0, 1)")
        self.d_model, self.heads = d_model, heads
        self.q = nn.Linear(d_model, d_model, bias=bias)
        self.k = nn.Linear(d_model, d_model, bias=bias)
        self.v = nn.Linear(d_model, d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        theta = theta_tensor(diffusion).to(torch.float64).clone()
        if learn_theta:
            self.theta = nn.Parameter(theta)
        else:
            self.register_buffer("theta", theta)
        self.dropout, self.seed, self.memory, self.threads = dropout, seed, memory, threads
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))
        if isinstance(pattern, str):
            _graph.canonical_spec(pattern)  # fail early on a bad spec
        elif not isinstance(pattern, _graph.CsrGraph):
            raise TypeError(f"pattern must be a spec string or a CsrGraph, got {type(pattern).__name__}")
        self.pattern = pattern
        self._patterns: dict[int, tuple[Tensor, Tensor]] = {}

    def pattern_for(self, n: int) -> tuple[Tensor, Tensor]:
        """(indptr, indices) of the pattern at length n (cached)."""
        hit = self._patterns.get(n)
        if hit is None:
            if isinstance(self.pattern, str):
                g = _graph.build(self.pattern, n)
            elif n == self.pattern.n:
                g = self.pattern
            elif n < self.pattern.n:
                g = self.pattern.crop(n)
            else:
                raise ValueError(f"sequence length {n} exceeds the pattern's n = {self.pattern.n}")
            hit = self._patterns[n] = pattern_tensors(g)
        return hit

    def forward(self, x: Tensor, key_padding_mask: Optional[Tensor] = None,
                lengths: Optional[Tensor] = None) -> Tensor:
        if x.dim() != 3 or x.shape[2] != self.d_model:
            raise ValueError(f"x must be [B, n, d_model = {self.d_model}], got {list(x.shape)}")
        if key_padding_mask is not None:
            if lengths is not None:
                raise ValueError("give key_padding_mask or lengths, not both")
            lengths = lengths_from_padding_mask(key_padding_mask)
        B, n, _ = x.shape
        H, D = self.heads, self.d_model // self.heads
        indptr, indices = self.pattern_for(n)
        q = self.q(x).view(B, n, H, D)
        k = self.k(x).view(B, n, H, D)
        v = self.v(x).view(B, n, H, D)
        p = self.dropout if self.training else 0.0
        stream = 0
        if p > 0:
            stream = int(self.step)
            self.step += 1
        z = sparse_attention(q, k, v, indptr, indices, self.theta, lengths, p, self.seed, stream,
                             self.memory, self.threads)
        return self.out(z.reshape(B, n, self.d_model))
