"""diffuser.torch: the custom op against a dense plain-torch reference, gradcheck, opcheck,
torch.compile, dropout masks, threads."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import diffuser  # noqa: E402
import diffuser.torch as dt  # noqa: E402
from diffuser import Diffusion, graph  # noqa: E402

from conftest import dense_reference, opcheck_attention, skewed_graph  # noqa: E402


def qkv(B, n, H, D, dtype=torch.float64, seed=0, requires_grad=True):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, n, H, D, dtype=dtype, generator=g).requires_grad_(requires_grad)
            for _ in range(3)]


PATTERNS = {
    "skewed": lambda n: skewed_graph(n),
    "causal": lambda n: graph.build("window=2,global=1,random=2,causal,seed=5", n),
    "window+global+random": lambda n: graph.build("window=2,global=1,random=3,seed=2", n),
}


@pytest.mark.parametrize("name", list(PATTERNS))
@pytest.mark.parametrize("lengths", [None, [9, 5]])
def test_gradcheck_float64(name, lengths):
    g = PATTERNS[name](9)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(2, 9, 2, 3)
    theta = dt.theta_tensor(Diffusion.ppr(0.2, 3)).requires_grad_()
    lens = None if lengths is None else torch.tensor(lengths, dtype=torch.int32)
    f = lambda q, k, v, th: dt.sparse_attention(q, k, v, ip, ix, th, lengths=lens)  # noqa: E731
    assert torch.autograd.gradcheck(f, (q, k, v, theta), eps=1e-6, atol=1e-7)


def test_gradcheck_with_dropout_and_recompute():
    g = graph.build("window=2,global=1,seed=1", 8)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(2, 8, 2, 2)
    f = lambda q, k, v: dt.sparse_attention(q, k, v, ip, ix, Diffusion.heat(1.5, 4),  # noqa: E731
                                             dropout=0.3, seed=11, stream=2, memory="recompute")
    assert torch.autograd.gradcheck(f, (q, k, v), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
@pytest.mark.parametrize("name", list(PATTERNS))
def test_equals_dense_reference_fwd_and_grads(name, dtype, tol):
    n, B, H, D = 16, 3, 2, 4
    g = PATTERNS[name](n)
    ip, ix = dt.pattern_tensors(g)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 5))
    lens = torch.tensor([16, 11, 1], dtype=torch.int32)
    q, k, v = qkv(B, n, H, D, dtype=dtype, seed=3)
    z = dt.sparse_attention(q, k, v, ip, ix, theta, lengths=lens)
    dz = torch.randn_like(z)
    grads = torch.autograd.grad(z, (q, k, v), dz)
    q2, k2, v2 = (t.detach().clone().requires_grad_() for t in (q, k, v))
    zr = dense_reference(q2, k2, v2, g.indptr, g.indices, theta, lens)
    grads_r = torch.autograd.grad(zr, (q2, k2, v2), dz)
    torch.testing.assert_close(z, zr, rtol=tol, atol=tol)
    for a, b in zip(grads, grads_r):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def test_dropout_masks_are_the_core_masks():
    n, B, H, D, p = 12, 2, 3, 4, 0.25
    g = graph.build("window=2,global=1,random=2,seed=9", n)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(B, n, H, D, seed=4)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 3))
    z = dt.sparse_attention(q, k, v, ip, ix, theta, dropout=p, seed=42, stream=7)
    mult = diffuser.attention.dropout_mask(diffuser.attention.Plan(g), B, H, p, 42, 7)
    assert 0 < (mult == 0).mean() < 0.5
    zr = dense_reference(q, k, v, g.indptr, g.indices, theta, multipliers=mult)
    torch.testing.assert_close(z, zr, rtol=1e-12, atol=1e-12)
    z2 = dt.sparse_attention(q, k, v, ip, ix, theta, dropout=p, seed=42, stream=8)
    assert not torch.allclose(z, z2), "another stream draws another mask"


def philox_uniform(seed, stream, index):
    """Philox4x32-10 in plain Python (core/Rng.hpp), first word, top 24 bits / 2^24."""
    M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
    c = [index & 0xFFFFFFFF, index >> 32, stream & 0xFFFFFFFF, stream >> 32]
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    for _ in range(10):
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & 0xFFFFFFFF, p1 & 0xFFFFFFFF,
             ((p0 >> 32) ^ c[3] ^ k1) & 0xFFFFFFFF, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return (c[0] >> 8) / 2.0**24


def test_counter_rng_matches_an_independent_philox():
    u = diffuser._core.dropout_uniform(123456789, 5, 2**33 - 3, 6)
    expected = [philox_uniform(123456789, 5, 2**33 - 3 + i) for i in range(6)]
    np.testing.assert_array_equal(u, np.array(expected, np.float32))


def test_theta_gradient_and_plain_attention():
    g = graph.build("window=1", 6)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(1, 6, 1, 2, seed=8)
    z = dt.sparse_attention(q, k, v, ip, ix, [1.0])  # theta = (1): Z = V
    torch.testing.assert_close(z, v)
    theta = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)
    z = dt.sparse_attention(q, k, v, ip, ix, theta)
    (dtheta,) = torch.autograd.grad(z.sum(), theta)
    zr0 = v.sum()  # dL/dtheta_0 = <1, V>
    assert torch.allclose(dtheta[0], zr0)


def test_opcheck_forward_and_backward():
    g = skewed_graph(7)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(2, 7, 2, 3)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 3))
    lens = torch.tensor([7, 4], dtype=torch.int32)
    opcheck_attention(q, k, v, ip, ix, theta, lens)


def test_backward_from_copied_state_equals_fast_path():
    g = graph.build("window=2,global=1", 10)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(2, 10, 2, 2, requires_grad=False)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 4))
    fwd = torch.ops.diffuser.attention_forward.default
    bwd = torch.ops.diffuser.attention_backward.default
    z, attn, dropped, hops = fwd(q, k, v, ip, ix, theta, None, 0.1, 1, 2, "store", 0, True)
    dz = torch.randn_like(z)
    fast = bwd(dz, q, k, v, ip, ix, theta, None, attn, dropped, hops, 0.1, 1, 2, "store", 0, True)
    slow = bwd(dz, q, k, v, ip, ix, theta, None, attn.clone(), dropped.clone(), hops.clone(), 0.1,
               1, 2, "store", 0, True)
    for a, b in zip(fast, slow):
        assert torch.equal(a, b)


class TinyModel(torch.nn.Module):
    def __init__(self, pattern="window=3,global=1,random=2,seed=1"):
        super().__init__()
        self.emb = torch.nn.Linear(8, 16)
        self.attn = dt.DiffuserAttention(16, 4, pattern, diffusion=Diffusion.ppr(0.1, 3))
        self.head = torch.nn.Linear(16, 3)

    def forward(self, x, lengths=None):
        return self.head(self.attn(torch.relu(self.emb(x)), lengths=lengths).mean(dim=1))


def test_torch_compile_fullgraph():
    torch.manual_seed(0)
    m = TinyModel()
    x = torch.randn(2, 24, 8)
    lens = torch.tensor([24, 17], dtype=torch.int32)
    ref = m(x, lens)
    (gref,) = torch.autograd.grad(ref.sum(), m.attn.q.weight)
    cm = torch.compile(m, fullgraph=True)
    out = cm(x, lens)
    (gc,) = torch.autograd.grad(out.sum(), m.attn.q.weight)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gc, gref, rtol=1e-5, atol=1e-6)


def test_module_padding_mask_equals_lengths():
    torch.manual_seed(1)
    m = TinyModel()
    x = torch.randn(2, 20, 8)
    mask = torch.zeros(2, 20, dtype=torch.bool)
    mask[1, 13:] = True
    a = m.attn(m.emb(x), key_padding_mask=mask)
    b = m.attn(m.emb(x), lengths=torch.tensor([20, 13]))
    assert torch.equal(a, b)


def test_module_builds_pattern_per_length_and_crops_graphs():
    m = dt.DiffuserAttention(8, 2, "window=2,global=1")
    y = m(torch.randn(1, 10, 8))
    assert y.shape == (1, 10, 8)
    assert m.pattern_for(10)[0].shape == (11,)
    m2 = dt.DiffuserAttention(8, 2, graph.build("window=2", 16))
    assert m2(torch.randn(2, 12, 8)).shape == (2, 12, 8)


def test_follows_torch_threads():
    g = graph.build("window=8,global=4,random=8", 512)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(2, 512, 4, 16, dtype=torch.float32, requires_grad=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        z1 = dt.sparse_attention(q, k, v, ip, ix)
        torch.set_num_threads(2)
        z2 = dt.sparse_attention(q, k, v, ip, ix)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(z1, z2), "results do not depend on the thread count"


def test_inference_keeps_no_state():
    g = graph.build("window=2", 10)
    ip, ix = dt.pattern_tensors(g)
    q, k, v = qkv(1, 10, 1, 2, requires_grad=False)
    fwd = torch.ops.diffuser.attention_forward.default
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 3))
    _, attn, dropped, hops = fwd(q, k, v, ip, ix, theta, None, 0.0, 0, 0, "store", 0, False)
    assert attn.numel() == dropped.numel() == hops.numel() == 0
    with torch.no_grad():
        z = dt.sparse_attention(*qkv(1, 10, 1, 2), ip, ix, theta)
    assert z.grad_fn is None
