"""The numpy API gives the CLI's results on the same inputs: graph build, graph stats,
spectral summary, suggest-hops, attention forward and gradients. Needs the `diffuser` binary (DIFFUSER_CLI)."""

import json
import subprocess

import numpy as np
import pytest

from diffuser import Diffusion, attention, graph, spectral


def run(cli, *args):
    out = subprocess.run([cli, *map(str, args)], check=True, capture_output=True, text=True)
    return out.stdout


def assert_same(a, b, path=""):
    """Equal JSON-like values; floats to 1e-12 relative (both sides print doubles exactly, but
    the eigen-solvers' reductions are allowed the usual rounding slack)."""
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14), path
    else:
        assert a == b, path


SPECS = ["window=4,global=2,random=3,seed=5", "preset=bigbird", "preset=diffuser",
         "window=3,random=2,causal,seed=1", "expander=3,seed=2"]


@pytest.mark.parametrize("spec", SPECS)
def test_graph_build(cli, tmp_path, spec):
    path = tmp_path / "g.mtx"
    run(cli, "graph", "build", "--n", 300, "--spec", spec, "--out", path)
    assert graph.read(path) == graph.build(spec, 300)


def test_graph_stats(cli, tmp_path):
    g = graph.build("window=3,global=2,random=2,seed=4", 200)
    path = tmp_path / "g.mtx"
    graph.write(path, g)
    expected = json.loads(run(cli, "graph", "stats", path, "--max-hops", 4))
    del expected["file"]
    del expected["receptive_field"]["method"]
    assert_same(graph.stats(g, max_hops=4), expected)


@pytest.mark.parametrize("spec,n", [("window=3,global=2,random=2,seed=4", 300),
                                    ("window=8", 600), ("expander=3,seed=1", 256)])
def test_spectral_summary(cli, tmp_path, spec, n):
    g = graph.build(spec, n)
    path = tmp_path / "g.mtx"
    graph.write(path, g)
    expected = json.loads(run(cli, "spectral", path, "--alpha", 0.1, "--hops", 5))
    for key in ("file", "about", "threads", "solver_seconds", "seconds"):
        expected.pop(key)
    del expected["diffused"]["about"]
    got = spectral.analyze(g, diffusion=Diffusion.ppr(0.1, 5))
    for key in ("spectrum", "sweep"):
        got.pop(key, None)
    assert_same(got, expected)


@pytest.mark.parametrize("spec,n,target", [("window=32", 1025, 0.5),
                                           ("window=8,global=2,random=4", 600, None),
                                           ("window=2,random=2,seed=9", 40, 0.6)])
def test_suggest_hops(cli, tmp_path, spec, n, target):
    g = graph.build(spec, n)
    path = tmp_path / "g.mtx"
    graph.write(path, g)
    args = ["spectral", "suggest-hops", path] + ([] if target is None else ["--epsilon", target])
    expected = json.loads(run(cli, *args))
    ev = None
    if n <= 512:  # the CLI solves densely below --dense-max: give Python every eigenvalue too
        s = np.zeros((n, n))
        rows = np.repeat(np.arange(n), np.diff(np.asarray(g.indptr)))
        s[rows, np.asarray(g.indices)] = 1.0
        s = np.maximum(s, s.T)
        d = 1 / np.sqrt(s.sum(axis=1))
        ev = np.sort(np.linalg.eigvalsh(d[:, None] * s * d[None, :]))[::-1]
    got = spectral.suggest_hops(spectral.spectrum(g), 0.1, target, all_eigenvalues=ev)
    assert got["hops"] == expected["hops"] and got["rule"] == expected["rule"]
    assert got["target_reached"] == expected["target_reached"]
    assert got["exact"] == expected["eigenvalues"].startswith("all")
    assert got["reasoning"] == expected["reasoning"] or n <= 512
    for key in ("epsilon", "epsilon_plain", "epsilon_limit", "converged_threshold"):
        assert got[key] == pytest.approx(expected[key], abs=1e-9)
    assert [c["hops"] for c in got["curve"]] == [c["hops"] for c in expected["curve"]]
    assert np.allclose([c["epsilon"] for c in got["curve"]],
                       [c["epsilon"] for c in expected["curve"]], atol=1e-9)


DIFFUSIONS = [(Diffusion.ppr(0.1, 5), ["--alpha", 0.1, "--hops", 5]),
              (Diffusion.heat(1.5, 4), ["--heat", 1.5, "--hops", 4]),
              (Diffusion.from_coefficients([0.2, 0.3, 0.5]), ["--theta", "0.2,0.3,0.5"]),
              (Diffusion.plain(), ["--hops", 0])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("diffusion,flags", DIFFUSIONS, ids=["ppr", "heat", "theta", "plain"])
def test_attention_forward_and_grads(cli, tmp_path, rng, dtype, diffusion, flags):
    n, H, D = 96, 2, 8
    g = graph.build("window=4,global=2,random=4,seed=3", n)
    graph.write(tmp_path / "g.mtx", g)
    q, k, v, dz = (rng.standard_normal((n, H * D)).astype(dtype) for _ in range(4))
    for name, a in (("q", q), ("k", k), ("v", v), ("dz", dz)):
        np.save(tmp_path / f"{name}.npy", a)
    run(cli, "attention", "--graph", tmp_path / "g.mtx", "--q", tmp_path / "q.npy",
        "--k", tmp_path / "k.npy", "--v", tmp_path / "v.npy", "--heads", H, *flags,
        "--out", tmp_path / "z.npy", "--dz", tmp_path / "dz.npy", "--grads", tmp_path / "g")
    z, state = attention.forward(attention.Plan(g), q, k, v, heads=H, diffusion=diffusion)
    dq, dk, dv = attention.backward(state, dz)
    np.testing.assert_array_equal(z, np.load(tmp_path / "z.npy"))
    for name, a in (("dq", dq), ("dk", dk), ("dv", dv)):
        np.testing.assert_array_equal(a, np.load(tmp_path / f"g_{name}.npy"), err_msg=name)
