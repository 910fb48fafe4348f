"""The numpy attention API and the spectral API: layouts, kernels, memory modes, GIL release,
checkpoints; spectral numbers against a dense numpy eigen-solve."""

import threading

import numpy as np
import pytest

import diffuser
from diffuser import Diffusion, attention, checkpoint, graph, spectral


def inputs(rng, shape, dtype=np.float64):
    return [rng.standard_normal(shape).astype(dtype) for _ in range(3)]


def test_layouts_agree(rng):
    g = graph.build("window=3,global=1,random=2,seed=1", 40)
    plan = attention.Plan(g)
    q, k, v = inputs(rng, (40, 12))
    z2, _ = attention.forward(plan, q, k, v, heads=3)
    z3, _ = attention.forward(plan, q[None], k[None], v[None], heads=3)
    z4, _ = attention.forward(plan, *(a.reshape(1, 40, 3, 4) for a in (q, k, v)), heads=3)
    assert z2.shape == (40, 12) and z3.shape == (1, 40, 12) and z4.shape == (1, 40, 3, 4)
    np.testing.assert_array_equal(z2, z3[0])
    np.testing.assert_array_equal(z2, z4.reshape(40, 12))


def test_reference_kernels_and_recompute(rng):
    g = graph.build("window=2,global=2,random=3,seed=4", 64)
    plan = attention.Plan(g)
    q, k, v = inputs(rng, (2, 64, 8))
    dz = rng.standard_normal(q.shape)
    out = {}
    for kernels in ("optimized", "reference"):
        for memory in ("store", "recompute"):
            z, st = attention.forward(plan, q, k, v, heads=2, lengths=[64, 50], dropout=0.1,
                                      seed=5, kernels=kernels, memory=memory)
            out[kernels, memory] = (z, *attention.backward(st, dz, want_dtheta=True))
    base = out["reference", "store"]
    for key, got in out.items():
        for a, b in zip(got, base):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12, err_msg=str(key))
    assert out["optimized", "store"][1][1, 50:].max() == 0, "padded rows get zero gradients"


def test_state_arrays_own_the_buffers(rng):
    g = graph.build("window=2", 16)
    q, k, v = inputs(rng, (1, 16, 4))
    z, st = attention.forward(g, q, k, v, heads=1, diffusion=Diffusion.ppr(0.1, 3))
    assert st.attn.shape == (1, 1, g.nnz) and st.hops.shape == (1, 2, 16, 4)
    rows = np.repeat(np.arange(16), np.diff(g.indptr))
    np.testing.assert_allclose(np.bincount(rows, st.attn[0, 0]), 1.0, rtol=1e-12)
    dq1 = attention.backward(st, np.ones_like(z))[0]
    copy = attention.State(st.plan, q, k, v, st.attn.copy(), st.attn_dropped.copy(),
                           st.hops.copy(), st.options)
    np.testing.assert_array_equal(dq1, attention.backward(copy, np.ones_like(z))[0])


def test_gil_is_released_during_attention(rng):
    g = graph.build("window=32,global=8,random=32", 8192)
    plan = attention.Plan(g)
    q, k, v = inputs(rng, (2, 8192, 64), np.float32)
    t = threading.Thread(target=attention.forward, args=(plan, q, k, v),
                         kwargs=dict(heads=4, save=False))
    count = 0
    t.start()
    while t.is_alive():
        count += 1
    t.join()
    assert count > 10000, "the main thread ran while the kernels did"


def test_threads_give_identical_results(rng):
    g = graph.build("window=8,global=2,random=8", 1024)
    q, k, v = inputs(rng, (2, 1024, 32), np.float32)
    plan = attention.Plan(g)
    z1, _ = attention.forward(plan, q, k, v, heads=2, threads=1)
    z2, _ = attention.forward(plan, q, k, v, heads=2, threads=2)
    np.testing.assert_array_equal(z1, z2)


def dense_normalized_adjacency(g):
    s = g.to_scipy().toarray() != 0
    s = (s | s.T).astype(float)
    d = s.sum(1)
    return s / np.sqrt(np.outer(d, d))


def test_spectral_against_dense_numpy():
    pytest.importorskip("scipy")
    g = graph.build("window=2,random=2,seed=3", 120)
    ev = np.sort(np.linalg.eigvalsh(dense_normalized_adjacency(g)))[::-1]
    r = spectral.analyze(g, method="iterative", diffusion=Diffusion.ppr(0.1, 5))
    s = r["spectrum"]
    assert s.converged and r["converged"] == {"lambda2": True, "lambda_max": True, "mu2_walk": True}
    assert s.mu2.value == pytest.approx(ev[1], abs=1e-9)
    assert s.mu_min.value == pytest.approx(ev[-1], abs=1e-9)
    assert s.mu2.residual < 1e-8 and s.mu2.method in ("lanczos", "shift-invert")
    assert r["gap"] == pytest.approx(1 - ev[1], abs=1e-9)
    assert r["cheeger_lower"] <= r["sweep_conductance"] <= r["cheeger_upper"] + 1e-12
    assert r["diffused"]["f_mu2"] == pytest.approx(Diffusion.ppr(0.1, 5).map(ev[1]), abs=1e-9)
    cut = spectral.sweep_cut(g, s.mu2.vector)
    assert cut["conductance"] == pytest.approx(r["sweep_conductance"])
    again = spectral.conductance(g, cut["set"])
    assert again["conductance"] == pytest.approx(cut["conductance"])
    eps = spectral.epsilon_vs_hops(s, 0.1, [0, 1, 5], all_eigenvalues=ev)
    assert [e["exact"] for e in eps] == [True] * 3
    assert eps[2]["epsilon"] == pytest.approx(max(abs(Diffusion.ppr(0.1, 5).map(m)) for m in ev[1:]))


def test_disconnected_is_exact():
    g = graph.CsrGraph.from_edges(4, np.array([0, 1, 2, 3, 0, 1], np.int32),
                                  np.array([0, 1, 2, 3, 1, 0], np.int32))
    r = spectral.analyze(g)
    assert r["components"] == 3 and r["mu2"] == 1.0 and r["method"]["lambda2"] == "components"


def test_checkpoint_round_trip(tmp_path):
    tensors = {"param/a": np.arange(6, dtype=np.float32).reshape(2, 3),
               "param/b": np.array([1.5, -2.0]), "count": np.array([3], np.int64)}
    checkpoint.save(tmp_path / "c.bin", {"step": 7, "config": {"x": [1, 2]}}, tensors)
    meta, back = checkpoint.load(tmp_path / "c.bin")
    assert meta == {"step": 7, "config": {"x": [1, 2]}}
    assert list(back) == list(tensors)
    for name in tensors:
        assert back[name].dtype == tensors[name].dtype
        np.testing.assert_array_equal(back[name], tensors[name])


def test_version_and_exports():
    assert diffuser.__version__ == "0.1.0"
    assert isinstance(diffuser.has_cuda, bool)
    assert diffuser.num_threads() >= 1
