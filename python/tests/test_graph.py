"""diffuser.graph: building from spec strings, zero-copy views, scipy, file I/O, statistics."""

import numpy as np
import pytest

import diffuser
from diffuser import graph


def test_build_matches_spec_semantics():
    g = graph.build("window=2", n=8)
    assert g.n == 8
    # |i - j| <= 2 with the self-loop: degrees 3, 4, 5, 5, 5, 5, 4, 3
    assert np.diff(g.indptr).tolist() == [3, 4, 5, 5, 5, 5, 4, 3]
    assert g.indices[: 3].tolist() == [0, 1, 2]
    assert g.indptr.dtype == np.int32 and g.indices.dtype == np.int32


def test_global_and_causal():
    g = graph.build("window=1,global=1,causal", n=6)
    sp = g.to_scipy().toarray()
    assert np.all(np.triu(sp, 1) == 0), "causal: no key after its query"
    assert np.all(sp[:, 0] == 1), "token 0 is global: every query reads it"


def test_views_are_zero_copy_and_read_only():
    g = graph.build("window=4,random=2,seed=7", n=64)
    a, b = g.indptr, g.indptr
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    assert not a.flags.writeable and not g.indices.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 5
    del g  # the view keeps the graph alive
    assert a[-1] == b[-1] > 0


def test_scipy_round_trip():
    pytest.importorskip("scipy")
    g = graph.build("window=3,global=2,random=3,seed=1", n=50)
    m = g.to_scipy()
    assert m.shape == (50, 50) and m.nnz == g.nnz
    back = graph.from_scipy(m).pattern()
    assert back == g


def test_constructor_copies_and_validates():
    indptr = np.array([0, 2, 3], np.int64)
    indices = np.array([0, 1, 1], np.int64)
    g = graph.CsrGraph(2, indptr, indices, np.array([1.0, 2.0, 3.0]))
    indices[0] = 1  # the graph holds its own copy
    assert g.indices.tolist() == [0, 1, 1]
    assert g.values.dtype == np.float32 and g.has_values


@pytest.mark.parametrize("ext", ["mtx", "json", "txt", "npy"])
def test_file_round_trip(tmp_path, ext):
    g = graph.build("window=2,global=1,random=2,seed=3", n=40)
    path = tmp_path / f"g.{ext}"
    graph.write(path, g)
    assert graph.read(path) == g


def test_graphml_written(tmp_path):
    g = graph.build("window=1", n=5)
    path = tmp_path / "g.graphml"
    graph.write(path, g)
    text = path.read_text()
    assert "<graphml" in text and text.count("<edge") == g.nnz


def test_stats_shape():
    g = graph.build("window=2", n=16)
    s = graph.stats(g)
    assert s["n"] == 16 and s["nnz"] == g.nnz
    assert s["degree"]["max"] == 5 and s["symmetric"] is True
    assert s["components"] == 1 and s["diameter"]["exact"]
    assert s["diameter"]["value"] == 8  # ceil(15 / 2) hops across the window
    assert len(s["receptive_field"]["fraction"]) == 5


def test_transpose_and_ops():
    g = graph.build("window=1,global=1", n=6)
    t, perm = g.transpose()
    assert t.n == 6 and t.nnz == g.nnz and perm.shape == (g.nnz,)
    assert g.symmetrize() == g  # window + global is symmetric
    assert g.causal().nnz < g.nnz
    assert g.crop(3).n == 3


def test_presets_and_canonical():
    assert "diffuser" in graph.presets()
    assert graph.canonical_spec("seed=3,window=16") == "window=16,seed=3"


def test_bfs_and_components():
    g = graph.build("window=1", n=5)
    assert graph.bfs_hops(g, 0).tolist() == [0, 1, 2, 3, 4]
    c = graph.components(g)
    assert c["count"] == 1 and c["label"].tolist() == [0] * 5
