"""The C++ checkpoint format (nn/Checkpoint.hpp, docs/nn.md): a versioned binary header, JSON
metadata, named tensors and a CRC-32, written atomically and verified on load."""

from __future__ import annotations

import json
import os
from typing import Mapping

import numpy as np

from . import _core

__all__ = ["load", "save"]


def load(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, tensors): the JSON metadata and the named tensors in file order. Truncation, bit
    flips (CRC), bad headers raise DiffuserError naming the file."""
    meta, tensors = _core.load_checkpoint(os.fspath(path))
    return json.loads(meta), dict(tensors)


def save(path: str | os.PathLike, meta: Mapping, tensors: Mapping[str, np.ndarray]) -> None:
    """Writes a checkpoint (float32/float64/int64/uint64 tensors, C-contiguous) atomically."""
    items = [(str(name), np.ascontiguousarray(a)) for name, a in tensors.items()]
    _core.save_checkpoint(os.fspath(path), json.dumps(dict(meta)), items)
