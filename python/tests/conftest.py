"""Shared fixtures of the pytest suite: the CLI binary, small patterns, a dense reference."""

import math
import os
import shutil

import numpy as np
import pytest

import diffuser
from diffuser import graph


def cli_path():
    """The `diffuser` CLI: $DIFFUSER_CLI, else `diffuser` on PATH, else None."""
    path = os.environ.get("DIFFUSER_CLI") or shutil.which("diffuser")
    return path if path and os.access(path, os.X_OK) else None


@pytest.fixture
def cli():
    path = cli_path()
    if path is None:
        pytest.skip("the diffuser CLI binary is not available: set DIFFUSER_CLI=path/to/cli/diffuser")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def skewed_graph(n: int) -> graph.CsrGraph:
    """Row 0 reads every key, row 1 only itself, the others a window of radius 1 plus key 0:
    very uneven row lengths (the load-balancing and softmax edge cases)."""
    rows, cols = [], []
    for i in range(n):
        keys = set(range(n)) if i == 0 else ({1} if i == 1 else {i - 1, i, min(i + 1, n - 1), 0})
        for j in sorted(keys):
            rows.append(i)
            cols.append(j)
    return graph.CsrGraph.from_edges(n, np.array(rows, np.int32), np.array(cols, np.int32))


def dense_reference(q, k, v, indptr, indices, theta, lengths=None, multipliers=None):
    """Plain-torch oracle: dense masked softmax over the pattern + Horner diffusion.

    q, k, v [B, n, H, D]; theta [K+1]; lengths [B] or None; multipliers [B, H, nnz] dropout
    multipliers (or None). Rows i >= len and keys j >= len are masked; output rows i >= len are 0.
    """
    import torch

    B, n, H, D = q.shape
    indptr = torch.as_tensor(np.array(indptr)).long()
    indices = torch.as_tensor(np.array(indices)).long()
    rows = torch.repeat_interleave(torch.arange(n), indptr[1:] - indptr[:-1])
    adj = torch.zeros(n, n, dtype=torch.bool)
    adj[rows, indices] = True
    lens = torch.full((B,), n) if lengths is None else torch.as_tensor(lengths).long()
    key_ok = torch.arange(n)[None, :] < lens[:, None]  # [B, n]
    row_ok = key_ok
    mask = adj[None, None] & key_ok[:, None, None, :] & row_ok[:, None, :, None]  # [B, 1, n, n]
    s = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(D)
    s = s.masked_fill(~mask, torch.finfo(s.dtype).min)
    a = torch.softmax(s, dim=-1) * mask
    if multipliers is not None:
        m = torch.zeros(B, H, n, n, dtype=q.dtype)
        m[:, :, rows, indices] = torch.as_tensor(multipliers).to(q.dtype)
        a = a * m
    vv = v.permute(0, 2, 1, 3)  # [B, H, n, D]
    theta = torch.as_tensor(theta).to(q.dtype)
    y = theta[-1] * vv
    for t in reversed(theta[:-1]):
        y = a @ y + t * vv
    z = y.permute(0, 2, 1, 3)
    return z * row_ok[:, :, None, None]


@pytest.fixture(autouse=True)
def _threads():
    """Every test starts from the same OpenMP thread count."""
    before = diffuser.num_threads()
    yield
    diffuser.set_num_threads(before)


def opcheck_attention(q, k, v, indptr, indices, theta, lengths):
    """torch.library.opcheck of both custom ops on these tensors (q, k, v requiring grad): the
    forward without and with dropout/recompute/learnable theta and one that saves nothing, then
    the backward on a stored forward state."""
    import torch

    fwd = torch.ops.diffuser.attention_forward.default
    cases = [(q, k, v, indptr, indices, theta, None, 0.0, 0, 0, "store", 0, True),
             (q, k, v, indptr, indices, theta.clone().requires_grad_(), lengths, 0.2, 3, 1,
              "recompute", 0, True),
             (q.detach(), k.detach(), v.detach(), indptr, indices, theta, None, 0.0, 0, 0, "store",
              0, False)]
    for args in cases:
        torch.library.opcheck(fwd, args)
    with torch.no_grad():
        z, attn, dropped, hops = fwd(q, k, v, indptr, indices, theta, lengths, 0.2, 3, 1, "store",
                                     0, True)
    bwd = torch.ops.diffuser.attention_backward.default
    torch.library.opcheck(bwd, (torch.randn_like(z), q.detach(), k.detach(), v.detach(), indptr,
                                indices, theta, lengths, attn, dropped, hops, 0.2, 3, 1, "store",
                                0, True))
