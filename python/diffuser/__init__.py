"""diffuser: sparse token-graph attention with multi-hop diffusion (Feng et al., AAAI 2023).

Submodules: :mod:`diffuser.graph` (patterns, CSR graphs, I/O, statistics),
:mod:`diffuser.attention` (forward/backward on numpy arrays), :mod:`diffuser.spectral`
(gaps, Cheeger bounds, diffusion maps), :mod:`diffuser.checkpoint` (the C++ checkpoint format)
and, with torch installed, :mod:`diffuser.torch` (the PyTorch op and ``DiffuserAttention``).
"""

from . import _core
from ._core import Diffusion, DiffuserError, num_threads, set_num_threads
from . import graph, attention, spectral, checkpoint

__version__ = "0.1.0"
has_cuda = _core.has_cuda

__all__ = [
    "Diffusion",
    "DiffuserError",
    "attention",
    "checkpoint",
    "graph",
    "has_cuda",
    "num_threads",
    "set_num_threads",
    "spectral",
]
