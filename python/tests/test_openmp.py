"""The OpenMP hazard (issue 15): torch's PyPI wheel bundles its own libgomp.so.1 with OpenMP 5.0
symbol versions only. diffuser._core must import and run in either order with torch, and must
not need a symbol version that torch's runtime lacks."""

import os
import re
import shutil
import subprocess
import sys

import pytest

import diffuser

SCRIPT = """
import {first}, {second}
import torch, numpy as np
import diffuser.torch as dt
from diffuser import graph
g = graph.build("window=16,global=4,random=8", 2048)
ip, ix = dt.pattern_tensors(g)
q = torch.randn(2, 2048, 4, 16, requires_grad=True)
z = dt.sparse_attention(q, q, q, ip, ix)
z.sum().backward()
torch.set_num_threads(2)
print("ok", float(z.abs().sum()) > 0, torch.get_num_threads())
"""


@pytest.mark.parametrize("first,second", [("torch", "diffuser"), ("diffuser", "torch")])
def test_import_orders(first, second):
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(first=first, second=second)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "True", "2"]


def versions_needed(path):
    text = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\((G?OMP_[0-9.]+)\)", text))


def versions_defined(path):
    text = subprocess.run(["objdump", "-p", path], capture_output=True, text=True, check=True).stdout
    block = text.split("Version definitions:")[1].split("Version References:")[0]
    return set(re.findall(r"\b(G?OMP_[0-9.]+)\b", block))


def test_needs_only_openmp_versions_torch_provides():
    torch = pytest.importorskip("torch")
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    gomp = os.path.join(os.path.dirname(torch.__file__), "lib", "libgomp.so.1")
    if not os.path.exists(gomp):
        pytest.skip("this torch build does not bundle libgomp.so.1")
    needed = versions_needed(diffuser._core.__file__)
    assert needed, "the module uses OpenMP"
    missing = needed - versions_defined(gomp)
    assert not missing, f"diffuser._core needs {sorted(missing)}, which torch's libgomp lacks"
