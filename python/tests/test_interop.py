"""Interop with the C++ trainer: a `diffuser train` checkpoint loads into the PyTorch model and
gives `diffuser eval`'s loss and accuracy; a model changed in PyTorch exports for `diffuser eval`,
which then reports the PyTorch numbers."""

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from diffuser.model import export_model, load_model  # noqa: E402

ROOT = __file__.rsplit("/python/tests/", 1)[0]
TOKENS = {"[MIN": 1, "[MAX": 2, "[MED": 3, "[SM": 4, "]": 5, **{str(d): 6 + d for d in range(10)}}


def read_listops(path, cls_id, max_len):
    """Token ids of an LRA ListOps TSV (parentheses dropped), the CLS token prepended when the
    task has one (cls_id >= 0)."""
    rows, labels = [], []
    with open(path) as f:
        next(f)
        for line in f:
            source, target = line.rstrip("\n").split("\t")
            ids = [TOKENS[t] for t in source.split() if t not in "()"]
            ids = [cls_id] + ids if cls_id >= 0 else ids
            rows.append(ids[:max_len])
            labels.append(int(target))
    return rows, labels


def python_eval(model, rows, labels, granularity=32):
    """Mean cross-entropy and accuracy, each sequence padded to its bucket length as the C++
    Batcher does (min(ceil(len / g) g, max_len)): its pattern is built at that length."""
    max_len = model.config.max_len
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for ids, label in zip(rows, labels):
            n = min(math.ceil(len(ids) / granularity) * granularity, max_len)
            tok = torch.zeros(1, n, dtype=torch.int64)
            tok[0, : len(ids)] = torch.tensor(ids)
            logits = model(tok, torch.tensor([len(ids)], dtype=torch.int32)).double()
            loss += float(F.cross_entropy(logits, torch.tensor([label])))
            correct += int(logits.argmax(-1).item() == label)
    return loss / len(rows), correct / len(rows)


def cpp_eval(cli, ckpt):
    out = subprocess.run([cli, "eval", "--checkpoint", str(ckpt), "--data", "test"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("sets", [[], ["model.norm=post", "attention.learn_theta=true",
                                       "model.pool=mean", "attention.diffusion=heat",
                                       "attention.hops=3"], ["attention.variant=full"],
                                  ["attention.variant=sparse"]],
                         ids=["pre-cls-ppr", "post-mean-heat-learned", "full", "sparse"])
def test_checkpoint_round_trip_with_cpp(cli, tmp_path, sets):
    run = tmp_path / "run"
    args = [cli, "train", "--config", f"{ROOT}/experiments/configs/listops_tiny.json",
            "--set", "train.steps=30", "--set", "train.eval_every=30",
            "--set", "train.checkpoint_every=30", "--set", "task.train_size=200",
            "--set", "task.val_size=40", "--set", "task.test_size=60", "--out", str(run)]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True, capture_output=True)
    model, meta = load_model(run / "checkpoint_last.bin")
    task = meta["task"]
    rows, labels = read_listops(run / "data" / "basic_test.tsv",
                                task["vocab"] - 1 if task["has_cls"] else -1, task["max_len"])
    expected = cpp_eval(cli, run / "checkpoint_last.bin")
    loss, acc = python_eval(model, rows, labels)
    assert loss == pytest.approx(expected["loss"], rel=1e-5)
    assert acc == expected["accuracy"]

    # one PyTorch training step, then back to the C++ side
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    tok = torch.zeros(len(rows), model.config.max_len, dtype=torch.int64)
    for i, ids in enumerate(rows):
        tok[i, : len(ids)] = torch.tensor(ids)
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.int32)
    model.config.dropout = 0.0
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    F.cross_entropy(model(tok, lengths), torch.tensor(labels)).backward()
    opt.step()
    out = tmp_path / "exported"
    out.mkdir()
    shutil.copytree(run / "data", out / "data")
    export_model(out / "checkpoint.bin", model, meta, step=31)
    loss2, acc2 = python_eval(model, rows, labels)
    got = cpp_eval(cli, out / "checkpoint.bin")
    assert got["step"] == 31
    assert loss2 != pytest.approx(loss, rel=1e-6), "the PyTorch step changed the model"
    assert got["loss"] == pytest.approx(loss2, rel=1e-5)
    assert got["accuracy"] == acc2
    assert np.isfinite(got["loss"])
