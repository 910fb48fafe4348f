"""Bad input never crashes: each case raises a Python exception whose message names the
problem (numpy API, graph construction, files, spectral, torch op, module, checkpoints)."""

import numpy as np
import pytest

import diffuser
from diffuser import DiffuserError, Diffusion, attention, graph, spectral

G = graph.build("window=2,global=1", 8)
PLAN = attention.Plan(G)


def arrays(dtype=np.float32, shape=(2, 8, 4)):
    r = np.random.default_rng(0)
    return [r.standard_normal(shape).astype(dtype) for _ in range(3)]


def with_nan(a, value=np.nan):
    a = a.copy()
    a[1, 3, 2] = value
    return a


def fwd(q, k, v, **kw):
    kw.setdefault("heads", 2)
    return attention.forward(PLAN, q, k, v, **kw)


q, k, v = arrays()
_, STATE = fwd(q, k, v)

# (id, callable, exception type, regex the message must match)
CASES = [
    ("q float16", lambda: fwd(q.astype(np.float16), k, v), TypeError, "q must be float32 or float64"),
    ("q int32", lambda: fwd(q.astype(np.int32), k, v), TypeError, "q must be float32"),
    ("k dtype differs", lambda: fwd(q, k.astype(np.float64), v), TypeError, "k has dtype float64 but q has float32"),
    ("q not an array", lambda: fwd(q.tolist(), k, v), TypeError, "q must be an array"),
    ("q None", lambda: fwd(None, k, v), TypeError, "q must be an array"),
    ("q non-contiguous", lambda: fwd(np.asfortranarray(q), k, v), ValueError, "q must be C-contiguous"),
    ("v sliced view", lambda: fwd(q, k, np.ones((2, 8, 8), np.float32)[:, :, ::2]), ValueError, "v must be C-contiguous"),
    ("v shape mismatch", lambda: fwd(q, k, v[:1]), ValueError, r"v has shape \[1, 8, 4\] but q has \[2, 8, 4\]"),
    ("wrong n", lambda: fwd(*arrays(shape=(2, 7, 4))), ValueError, "7 tokens .* pattern has n = 8"),
    ("q rank 1", lambda: fwd(*arrays(shape=(32,))), ValueError, r"q must be \[n, H\*D\]"),
    ("width vs heads", lambda: fwd(*arrays(shape=(2, 8, 5))), DiffuserError, "multiple of heads"),
    ("4-D heads mismatch", lambda: fwd(*arrays(shape=(2, 8, 3, 2))), ValueError, "heads = 2"),
    ("NaN in q", lambda: fwd(with_nan(q), k, v), DiffuserError, r"q: element \[1, 3, 2\] is nan"),
    ("Inf in v", lambda: fwd(q, k, with_nan(v, np.inf)), DiffuserError, r"v: element \[1, 3, 2\] is inf"),
    ("lengths > n", lambda: fwd(q, k, v, lengths=[8, 9]), ValueError, r"lengths must lie in \[0, n = 8\]"),
    ("lengths count", lambda: fwd(q, k, v, lengths=[8]), ValueError, "lengths has 1 entries but the batch has 2"),
    ("lengths float", lambda: fwd(q, k, v, lengths=[8.0, 3.0]), TypeError, "lengths must be integers"),
    ("dropout 1", lambda: fwd(q, k, v, dropout=1.0), DiffuserError, r"dropout = 1 outside \[0, 1\)"),
    ("theta NaN", lambda: fwd(q, k, v, diffusion=[0.5, float("nan")]), DiffuserError, "theta"),
    ("hops too many", lambda: Diffusion.ppr(0.1, 5000), DiffuserError, "hops"),
    ("alpha > 1", lambda: Diffusion.ppr(1.5, 3), DiffuserError, "alpha"),
    ("untruncated in attention", lambda: fwd(q, k, v, diffusion=Diffusion.ppr(0.1, None)), ValueError, "not a polynomial"),
    ("memory mode", lambda: fwd(q, k, v, memory="disk"), ValueError, "memory must be 'store' or 'recompute'"),
    ("kernels name", lambda: fwd(q, k, v, kernels="fast"), ValueError, "kernels must be"),
    ("dz NaN", lambda: attention.backward(STATE, with_nan(np.ones_like(q))), DiffuserError, r"dz: element \[1, 3, 2\] is nan"),
    ("dz shape", lambda: attention.backward(STATE, np.ones((2, 8, 2), np.float32)), ValueError, "dz must match q"),
    ("dz dtype", lambda: attention.backward(STATE, np.ones_like(q, dtype=np.float64)), ValueError, "dz must match q"),
    ("state type", lambda: attention.backward({"attn": 1}, np.ones_like(q)), TypeError, "state must be the State"),
    ("plan arg", lambda: attention.forward("window=2", q, k, v, heads=2), TypeError, "expected an attention.Plan"),
    ("CSR I1 indptr length", lambda: graph.CsrGraph(3, np.array([0, 1, 2], np.int32), np.array([0, 1], np.int32)), DiffuserError, "I1"),
    ("CSR I3 decreasing", lambda: graph.CsrGraph(2, np.array([0, 2, 1], np.int32), np.array([0], np.int32)), DiffuserError, "I2|I3"),
    ("CSR I4 out of range", lambda: graph.CsrGraph(2, np.array([0, 1, 2], np.int32), np.array([0, 5], np.int32)), DiffuserError, "I4"),
    ("CSR I4 negative", lambda: graph.CsrGraph(2, np.array([0, 1, 2], np.int32), np.array([0, -1], np.int32)), DiffuserError, "I4"),
    ("CSR I5 unsorted", lambda: graph.CsrGraph(2, np.array([0, 2, 3], np.int32), np.array([1, 0, 1], np.int32)), DiffuserError, "I5"),
    ("CSR I5 duplicate", lambda: graph.CsrGraph(2, np.array([0, 2, 3], np.int32), np.array([1, 1, 1], np.int32)), DiffuserError, "I5"),
    ("CSR I6 NaN value", lambda: graph.CsrGraph(1, np.array([0, 1], np.int32), np.array([0], np.int32), np.array([np.nan])), DiffuserError, "I6"),
    ("indptr float", lambda: graph.CsrGraph(1, np.array([0.0, 1.0]), np.array([0], np.int32)), TypeError, "indptr must be int32 or int64"),
    ("indices int64 overflow", lambda: graph.CsrGraph(1, np.array([0, 1], np.int32), np.array([2**40])), ValueError, "does not fit int32"),
    ("indptr 2-D", lambda: graph.CsrGraph(1, np.zeros((2, 1), np.int32), np.array([0], np.int32)), ValueError, "indptr must be 1-D"),
    ("values length", lambda: graph.CsrGraph(1, np.array([0, 1], np.int32), np.array([0], np.int32), np.ones(3)), ValueError, r"values must have shape \[nnz\] = \[1\]"),
    ("empty row in plan", lambda: attention.Plan(graph.CsrGraph(2, np.array([0, 1, 1], np.int32), np.array([0], np.int32))), DiffuserError, "row 1 has no keys"),
    ("from_edges lengths", lambda: graph.CsrGraph.from_edges(3, np.array([0, 1], np.int32), np.array([0], np.int32)), ValueError, "rows has 2 entries but cols has 1"),
    ("bad spec key", lambda: graph.build("windo=3", 8), DiffuserError, "windo"),
    ("bad spec value", lambda: graph.build("window=-1", 8), DiffuserError, "window"),
    ("spec not a string", lambda: graph.build(3, 8), TypeError, "spec must be a string"),
    ("n = 0", lambda: graph.build("window=1", 0), ValueError, "must be >= 1"),
    ("unknown preset", lambda: graph.build("preset=nope", 8), DiffuserError, "nope"),
    ("missing file", lambda: graph.read("/nonexistent/g.mtx"), DiffuserError, "/nonexistent/g.mtx"),
    ("unknown extension", lambda: graph.read("g.xyz"), DiffuserError, "xyz"),
    ("spectral n < 2", lambda: spectral.analyze(graph.build("window=0", 1)), ValueError, "n >= 2"),
    ("spectral tol", lambda: spectral.analyze(G, tol=2.0), ValueError, r"tol must be in \(0, 1\)"),
    ("spectral method", lambda: spectral.analyze(G, method="magic"), ValueError, "method must be"),
    ("sweep x dtype", lambda: spectral.sweep_cut(G, np.ones(8, np.float32)), TypeError, "x must be a 1-D float64"),
    ("conductance bad id", lambda: spectral.conductance(G, [0, 99]), DiffuserError, "99"),
    ("suggest_hops alpha", lambda: spectral.suggest_hops(spectral.spectrum(G), alpha=1.5), DiffuserError, "alpha = 1.5"),
    ("suggest_hops epsilon", lambda: spectral.suggest_hops(spectral.spectrum(G), epsilon=0.0), DiffuserError, "target_epsilon = 0"),
    ("suggest_hops rel_tol", lambda: spectral.suggest_hops(spectral.spectrum(G), rel_tol=1.0), DiffuserError, "relative_tolerance = 1"),
    ("suggest_hops max_hops", lambda: spectral.suggest_hops(spectral.spectrum(G), max_hops=5000), DiffuserError, "max_hops = 5000"),
    ("suggest_hops eigenvalue count", lambda: spectral.suggest_hops(spectral.spectrum(G), all_eigenvalues=[1.0, 0.5]), DiffuserError, "2 eigenvalues given for a pattern of n = 8"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_named_error(case):
    _, fn, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        fn()


def test_malformed_matrix_market_names_file_and_line(tmp_path):
    p = tmp_path / "bad.mtx"
    p.write_text("%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 1\n4 1\n")
    with pytest.raises(DiffuserError, match=r"bad.mtx:4"):
        graph.read(p)


def test_corrupted_checkpoint_is_refused(tmp_path):
    p = tmp_path / "c.bin"
    diffuser.checkpoint.save(p, {"step": 1}, {"param/w": np.ones((2, 3), np.float32)})
    data = bytearray(p.read_bytes())
    data[40] ^= 0x55
    p.write_bytes(bytes(data))
    with pytest.raises(DiffuserError, match="c.bin"):
        diffuser.checkpoint.load(p)


def test_backward_with_another_plan_is_refused():
    state = attention.State(attention.Plan(graph.build("window=1", 8)), STATE.q, STATE.k, STATE.v,
                            STATE.attn, STATE.attn_dropped, STATE.hops, STATE.options)
    with pytest.raises(DiffuserError, match="saved state"):
        attention.backward(state, np.ones_like(q))


torch = pytest.importorskip("torch")
import diffuser.torch as dt  # noqa: E402

IP, IX = dt.pattern_tensors(G)
TQ = torch.randn(2, 8, 2, 2)

TORCH_CASES = [
    ("q int", lambda: dt.sparse_attention(TQ.long(), TQ.long(), TQ.long(), IP, IX), TypeError, "q must be float32 or float64"),
    ("q list", lambda: dt.sparse_attention([1.0], TQ, TQ, IP, IX), TypeError, "q must be a torch.Tensor"),
    ("q 3-D", lambda: dt.sparse_attention(TQ[0], TQ[0], TQ[0], IP, IX), ValueError, r"q must be \[B, n, H, D\]"),
    ("k dtype", lambda: dt.sparse_attention(TQ, TQ.double(), TQ, IP, IX), TypeError, "k has dtype torch.float64"),
    ("v shape", lambda: dt.sparse_attention(TQ, TQ, TQ[:1], IP, IX), ValueError, "v has shape"),
    ("q transposed", lambda: dt.sparse_attention(TQ.transpose(2, 3), TQ.transpose(2, 3), TQ.transpose(2, 3), IP, IX), ValueError, "q must be contiguous"),
    ("q meta device", lambda: dt.sparse_attention(TQ.to("meta"), TQ.to("meta"), TQ.to("meta"), IP, IX), ValueError, "q is on meta"),
    ("indptr int64", lambda: dt.sparse_attention(TQ, TQ, TQ, IP.long(), IX), TypeError, "indptr must be a 1-D int32"),
    ("indptr length", lambda: dt.sparse_attention(TQ, TQ, TQ, IP[:-1], IX), ValueError, "indptr has 8 entries"),
    ("indices out of range", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, torch.full_like(IX, 9)), DiffuserError, "I4"),
    ("NaN in k", lambda: dt.sparse_attention(TQ, TQ.clone().index_fill_(1, torch.tensor([2]), float("nan")), TQ, IP, IX), DiffuserError, "k: element"),
    ("theta 2-D", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, IX, torch.ones(2, 2)), ValueError, "theta must be a 1-D"),
    ("lengths shape", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, IX, lengths=torch.tensor([8])), ValueError, r"lengths must be \[B\] = \[2\]"),
    ("lengths float", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, IX, lengths=torch.tensor([8.0, 1.0])), TypeError, "lengths must be an int32/int64"),
    ("lengths range", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, IX, lengths=torch.tensor([8, 12])), DiffuserError, "length"),
    ("dropout negative", lambda: dt.sparse_attention(TQ, TQ, TQ, IP, IX, dropout=-0.1), DiffuserError, "dropout"),
    ("padding mask not suffix", lambda: dt.lengths_from_padding_mask(torch.tensor([[False, True, False]])), ValueError, "suffix"),
    ("padding mask dtype", lambda: dt.lengths_from_padding_mask(torch.zeros(1, 3)), ValueError, "bool"),
    ("module d_model", lambda: dt.DiffuserAttention(10, 3, "window=1"), ValueError, "not a multiple of heads"),
    ("module bad spec", lambda: dt.DiffuserAttention(8, 2, "window=x"), DiffuserError, "window"),
    ("module input shape", lambda: dt.DiffuserAttention(8, 2, "window=1")(torch.randn(2, 5, 6)), ValueError, r"x must be \[B, n, d_model = 8\]"),
    ("module too long", lambda: dt.DiffuserAttention(4, 2, graph.build("window=1", 4))(torch.randn(1, 6, 4)), ValueError, "exceeds the pattern"),
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_torch_bad_input_raises_named_error(case):
    _, fn, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        fn()
