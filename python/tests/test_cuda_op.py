"""diffuser.torch on CUDA tensors (issue 15): the op dispatches CUDA tensors to the CUDA backend
in place. The tests that need a GPU compare it with the CPU op in float64 (itself checked against
the dense reference and by gradcheck in test_torch_op.py) and skip, with the reason printed, on a
machine without a GPU or with a CPU-only build. The device-free checks (device errors, the
handle's error without a GPU) run everywhere."""

import pytest

torch = pytest.importorskip("torch")

import diffuser  # noqa: E402
import diffuser.torch as dt  # noqa: E402
from diffuser import DiffuserError, Diffusion, _core, graph  # noqa: E402

from conftest import opcheck_attention, skewed_graph  # noqa: E402

CUDA_OK = diffuser.has_cuda and torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(
    not CUDA_OK,
    reason=("needs a CUDA device and diffuser built with -Ccmake.define.DIFFUSER_CUDA=ON "
            f"(has_cuda={diffuser.has_cuda}, torch.cuda.is_available()="
            f"{torch.cuda.is_available()})"))

PATTERNS = {
    "skewed": lambda n: skewed_graph(n),
    "causal": lambda n: graph.build("window=2,global=1,random=2,causal,seed=5", n),
    "window+global+random": lambda n: graph.build("window=3,global=2,random=3,seed=2", n),
}


def qkv(B, n, H, D, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, n, H, D, dtype=dtype, generator=g) for _ in range(3)]


# ----------------------------------------------------------------------- everywhere ---
def test_cuda_available_answers_with_a_reason():
    ok, reason = _core.cuda_available()
    assert isinstance(ok, bool) and isinstance(reason, str)
    if not ok:
        assert reason
    if not diffuser.has_cuda:
        assert not ok and "DIFFUSER_CUDA=ON" in reason


@pytest.mark.skipif(not diffuser.has_cuda or _core.cuda_available()[0],
                    reason="needs a CUDA build on a machine without a usable GPU")
def test_cuda_handle_without_a_gpu_is_a_clear_error():
    plan = _core.AttentionPlan(graph.build("window=2", 8))
    with pytest.raises(DiffuserError, match="CUDA"):
        _core.CudaAttention(plan, 0)


@pytest.mark.skipif(not diffuser.has_cuda, reason="needs a CUDA build")
def test_cuda_handle_rejects_a_bad_path():
    plan = _core.AttentionPlan(graph.build("window=2", 8))
    with pytest.raises(DiffuserError, match="fastest"):
        _core.CudaAttention(plan, 0, "fastest")


def test_meta_tensors_are_refused_naming_the_device():
    ip, ix = dt.pattern_tensors(graph.build("window=2", 8))
    q = torch.empty(1, 8, 2, 4, device="meta")
    with pytest.raises(ValueError, match="q is on meta"):
        dt.sparse_attention(q, q, q, ip, ix)


def test_k_on_another_device_than_q_is_refused():
    ip, ix = dt.pattern_tensors(graph.build("window=2", 8))
    q = torch.randn(1, 8, 2, 4)
    with pytest.raises(ValueError, match="k is on meta but q is on cpu"):
        dt.sparse_attention(q, torch.empty(1, 8, 2, 4, device="meta"), q, ip, ix)


# ------------------------------------------------------------------------- on a GPU ---
def run_op(q, k, v, ip, ix, theta, lengths=None, dropout=0.0, seed=0, stream=0, memory="store"):
    """z and the gradients of <z, dz> for q, k, v, theta (dz fixed by a seed)."""
    q, k, v = (t.detach().clone().requires_grad_() for t in (q, k, v))
    theta = theta.detach().clone().requires_grad_()
    z = dt.sparse_attention(q, k, v, ip, ix, theta, lengths=lengths, dropout=dropout, seed=seed,
                            stream=stream, memory=memory)
    # drawn in float64 for both runs (randn's bits depend on the dtype), then cast
    dz = torch.randn(z.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    (z * dz.to(device=z.device, dtype=z.dtype)).sum().backward()
    return [t.detach().cpu().double() for t in (z, q.grad, k.grad, v.grad, theta.grad)]


@needs_gpu
@pytest.mark.parametrize("memory", ["store", "recompute"])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
@pytest.mark.parametrize("lengths", [None, [40, 23, 1]])
@pytest.mark.parametrize("name", list(PATTERNS))
def test_cuda_equals_cpu_float64(name, lengths, dropout, memory):
    n = 40
    ip, ix = dt.pattern_tensors(PATTERNS[name](n))
    q, k, v = qkv(3, n, 2, 8, seed=4)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 5))
    lens = None if lengths is None else torch.tensor(lengths, dtype=torch.int32)
    ref = run_op(q, k, v, ip, ix, theta, lens, dropout, 7, 3, memory)
    got = run_op(*(t.float().cuda() for t in (q, k, v)), ip, ix, theta, lens, dropout, 7, 3,
                 memory)
    for name_, a, b in zip(["z", "dq", "dk", "dv", "dtheta"], got, ref):
        torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-5, msg=name_)


@needs_gpu
def test_cuda_long_rows_and_heat_kernel():
    n = 2100  # a global token reads every key: rows longer than the backend's long-row cut
    ip, ix = dt.pattern_tensors(graph.build("window=4,global=2,random=4,seed=3", n))
    q, k, v = qkv(1, n, 4, 16, seed=5)
    theta = dt.theta_tensor(Diffusion.heat(1.0, 4))
    ref = run_op(q, k, v, ip, ix, theta)
    got = run_op(*(t.float().cuda() for t in (q, k, v)), ip, ix, theta)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


@needs_gpu
def test_cuda_backward_from_copied_state_equals_fast_path():
    ip, ix = dt.pattern_tensors(graph.build("window=2,global=1", 12))
    q, k, v = (t.float().cuda() for t in qkv(2, 12, 2, 4))
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 4))
    fwd = torch.ops.diffuser.attention_forward.default
    bwd = torch.ops.diffuser.attention_backward.default
    z, attn, dropped, hops = fwd(q, k, v, ip, ix, theta, None, 0.1, 1, 2, "store", 0, True)
    assert attn.is_cuda and dropped.is_cuda and hops.is_cuda
    dz = torch.randn_like(z)
    fast = bwd(dz, q, k, v, ip, ix, theta, None, attn, dropped, hops, 0.1, 1, 2, "store", 0, True)
    slow = bwd(dz, q, k, v, ip, ix, theta, None, attn.clone(), dropped.clone(), hops.clone(), 0.1,
               1, 2, "store", 0, True)
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@needs_gpu
def test_cuda_opcheck_forward_and_backward():
    ip, ix = dt.pattern_tensors(skewed_graph(7))
    q, k, v = (t.float().cuda().requires_grad_() for t in qkv(2, 7, 2, 4))
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 3))
    lens = torch.tensor([7, 4], dtype=torch.int32)
    opcheck_attention(q, k, v, ip, ix, theta, lens)


@needs_gpu
def test_cuda_module_and_torch_compile_match_cpu():
    torch.manual_seed(0)
    m = dt.DiffuserAttention(32, 4, "window=3,global=1,random=2,seed=1",
                             diffusion=Diffusion.ppr(0.1, 3), learn_theta=True)
    x = torch.randn(2, 48, 32)
    mask = torch.zeros(2, 48, dtype=torch.bool)
    mask[1, 30:] = True
    ref = m(x, key_padding_mask=mask)
    (gref,) = torch.autograd.grad(ref.square().sum(), m.theta)
    mc = m.cuda()
    out = mc(x.cuda(), key_padding_mask=mask.cuda())
    (gout,) = torch.autograd.grad(out.square().sum(), mc.theta)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gout.cpu(), gref.cpu(), rtol=1e-3, atol=1e-4)
    # fullgraph: the mask-to-lengths check is data dependent, so lengths go in (as on the CPU)
    lens = dt.lengths_from_padding_mask(mask.cuda())
    cm = torch.compile(mc, fullgraph=True)
    torch.testing.assert_close(cm(x.cuda(), lengths=lens), out, rtol=1e-5, atol=1e-6)


@needs_gpu
def test_cuda_on_a_side_stream_and_current_device_kept():
    ip, ix = dt.pattern_tensors(graph.build("window=3,global=1,seed=1", 256))
    q, k, v = qkv(2, 256, 4, 16, seed=2)
    ref = dt.sparse_attention(q, k, v, ip, ix)
    device = torch.cuda.current_device()
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        qc, kc, vc = (t.float().cuda() * 1.0 for t in (q, k, v))  # written on the side stream
        z = dt.sparse_attention(qc, kc, vc, ip, ix)
        zc = z.cpu()
    torch.testing.assert_close(zc.double(), ref, rtol=2e-4, atol=2e-5)
    assert torch.cuda.current_device() == device


def _gpu_bad_cases():
    ip, ix = dt.pattern_tensors(graph.build("window=2", 8))
    q = torch.randn(1, 8, 2, 4)
    nan = q.clone()
    nan[0, 3, 1, 2] = float("nan")
    c = lambda t: t.cuda()  # noqa: E731
    return [
        ("float64 on cuda", lambda: dt.sparse_attention(c(q.double()), c(q.double()),
                                                        c(q.double()), ip, ix),
         TypeError, "CUDA backend computes in float32"),
        ("k on the cpu", lambda: dt.sparse_attention(c(q), q, c(q), ip, ix), ValueError,
         "k is on cpu but q is on cuda"),
        ("pattern on the gpu", lambda: dt.sparse_attention(c(q), c(q), c(q), c(ip), ix),
         ValueError, "indptr must be a contiguous CPU tensor"),
        ("non-contiguous", lambda: dt.sparse_attention(c(q).transpose(2, 3).contiguous()
                                                       .transpose(2, 3), c(q), c(q), ip, ix),
         ValueError, "q must be contiguous"),
        ("NaN in q", lambda: dt.sparse_attention(c(nan), c(q), c(q), ip, ix), DiffuserError,
         "is nan"),
        ("wrong width", lambda: dt.sparse_attention(c(q[:, :7]), c(q[:, :7]), c(q[:, :7]), ip,
                                                    ix), ValueError, "indptr has 9 entries"),
    ]


@needs_gpu
@pytest.mark.parametrize("index", range(6))
def test_cuda_bad_input_is_a_clear_error(index):
    name, call, error, match = _gpu_bad_cases()[index]
    with pytest.raises(error, match=match):
        call()


@needs_gpu
def test_cuda_training_example_matches_the_cpu_run(tmp_path):
    """The DDP example's single-process run on the GPU: its first losses equal the CPU run's
    within float32 rounding, and the loss falls."""
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = os.path.join(root, "experiments", "python", "train_listops_ddp.py")
    small = ["--train-size", "600", "--test-size", "50", "--max-len", "64", "--batch", "16",
             "--dim", "32", "--mlp-dim", "64", "--steps", "30"]
    losses = {}
    for device in ("cpu", "cuda"):
        path = tmp_path / f"{device}.jsonl"
        out = subprocess.run([sys.executable, script, *small, "--device", device, "--jsonl",
                              str(path)], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-4000:]
        with open(path) as f:
            losses[device] = [r["loss"] for r in map(json.loads, f) if "loss" in r]
    assert len(losses["cuda"]) == 30
    for a, b in zip(losses["cuda"][:5], losses["cpu"][:5]):
        assert abs(a - b) < 1e-3 * max(1.0, abs(b))
    assert sum(losses["cuda"][-5:]) < sum(losses["cuda"][:5])
