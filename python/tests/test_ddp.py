"""DDP on 2 CPU processes (gloo, 127.0.0.1) equals one process on the full batch: the same
gradients after one step, and the example's per-step losses within 1e-5 of its single-process
twin (experiments/python/train_listops_ddp.py)."""

import json
import os
import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "experiments", "python", "train_listops_ddp.py")
SMALL = ["--train-size", "600", "--test-size", "50", "--max-len", "64", "--batch", "16",
         "--dim", "32", "--mlp-dim", "64"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, ddp: bool):
    cmd = [sys.executable]
    if ddp:
        cmd += ["-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd + [SCRIPT, *SMALL, *args], capture_output=True, text=True,
                         timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    return out


def losses(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return [r["loss"] for r in rows if "loss" in r], rows[-1]["summary"]


def test_ddp_gradients_equal_single_process(tmp_path):
    for ddp, name in ((True, "ddp.pt"), (False, "single.pt")):
        run(["--steps", "1", "--dtype", "float64", "--dump-grads", str(tmp_path / name)], ddp)
    # rank 0's gradients after DDP's all-reduce are the mean over both halves of the batch
    a, b = torch.load(tmp_path / "ddp.pt"), torch.load(tmp_path / "single.pt")
    assert a.keys() == b.keys() and len(a) > 10
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-10, atol=1e-12, msg=k)


def test_ddp_example_trains_and_matches_its_twin(tmp_path):
    run(["--steps", "30", "--jsonl", str(tmp_path / "ddp.jsonl")], True)
    run(["--steps", "30", "--jsonl", str(tmp_path / "single.jsonl")], False)
    ddp, sd = losses(tmp_path / "ddp.jsonl")
    single, ss = losses(tmp_path / "single.jsonl")
    assert sd["world_size"] == 2 and ss["world_size"] == 1 and len(ddp) == len(single) == 30
    assert max(abs(x - y) for x, y in zip(ddp, single)) <= 1e-5
    assert sum(ddp[-5:]) / 5 < sum(ddp[:5]) / 5 - 0.05, "the loss falls"
