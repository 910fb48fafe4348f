#!/usr/bin/env python3
"""Train a small Diffuser classifier on ListOps with PyTorch DistributedDataParallel.

Why: issue 15 — the diffuser op inside a researcher's own PyTorch training loop, trained with
the distributed engine users already run. The same script is its own single-process twin: run
without torchrun it processes every global batch in one process, and its per-step losses equal
the DDP run's (within 1e-5, checked by python/tests/test_ddp.py).

    # two CPU processes, gloo on the loopback interface
    torchrun --nproc_per_node=2 --master_addr=127.0.0.1 --master_port=29511 \
        experiments/python/train_listops_ddp.py --steps 200 --jsonl runs/ddp.jsonl
    # the single-process twin
    python experiments/python/train_listops_ddp.py --steps 200 --jsonl runs/single.jsonl

    # GPUs (a build with the CUDA backend, docs/python.md "CUDA"): one GPU per process, NCCL
    torchrun --nproc_per_node=2 experiments/python/train_listops_ddp.py --device cuda \
        --backend nccl --steps 200

With --device cuda each process uses cuda:LOCAL_RANK; the op's CUDA path computes in float32
(--dtype float64 is refused there with that reason).

Determinism: the data, the model initialisation and every global batch come from --seed; each
rank takes an equal contiguous slice of the global batch, every batch is padded to --max-len
(so all ranks use the same pattern, built once for that length), DDP averages the gradients,
and dropout is off by default (torch's dropout masks and the attention-dropout counters depend
on the rank's local batch, so a run with dropout is reproducible but not equal to its twin).

Data: ListOps expressions (LRA's generator rules: MIN, MAX, MED, SM over digits, 2..max-args
arguments, leaf probability 0.75 past depth 1), generated in Python from --seed, with lengths in
[--min-len, --max-len] tokens (tokens: operators, digits and ']'; no parentheses).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from diffuser import Diffusion
from diffuser.model import DiffuserModel, ModelConfig

OPS = ["MIN", "MAX", "MED", "SM"]
VOCAB = ["<pad>"] + OPS + ["]"] + [str(d) for d in range(10)]
TOKEN = {t: i for i, t in enumerate(VOCAB)}


def generate_tree(rng: random.Random, depth: int, max_depth: int, max_args: int):
    if depth >= max_depth or (depth > 1 and rng.random() < 0.75):
        return rng.randrange(10)
    return (rng.choice(OPS), [generate_tree(rng, depth + 1, max_depth, max_args)
                              for _ in range(rng.randint(2, max_args))])


def evaluate(tree) -> int:
    if isinstance(tree, int):
        return tree
    op, args = tree
    values = [evaluate(a) for a in args]
    if op == "MIN":
        return min(values)
    if op == "MAX":
        return max(values)
    if op == "MED":
        return int(statistics.median(values))
    return sum(values) % 10


def tokens_of(tree) -> list[int]:
    if isinstance(tree, int):
        return [TOKEN[str(tree)]]
    op, args = tree
    out = [TOKEN[op]]
    for a in args:
        out += tokens_of(a)
    return out + [TOKEN["]"]]


def make_dataset(size: int, min_len: int, max_len: int, seed: int, max_depth: int = 6,
                 max_args: int = 5):
    """`size` distinct expressions of min_len..max_len tokens: (tokens [size, max_len] padded with
    0, lengths [size], labels [size])."""
    rng = random.Random(seed)
    seen, rows, labels = set(), [], []
    while len(rows) < size:
        tree = generate_tree(rng, 1, max_depth, max_args)
        toks = tokens_of(tree)
        if not min_len <= len(toks) <= max_len or tuple(toks) in seen:
            continue
        seen.add(tuple(toks))
        rows.append(toks)
        labels.append(evaluate(tree))
    tokens = torch.zeros(size, max_len, dtype=torch.int64)
    for i, t in enumerate(rows):
        tokens[i, : len(t)] = torch.tensor(t)
    lengths = torch.tensor([len(t) for t in rows], dtype=torch.int32)
    return tokens, lengths, torch.tensor(labels)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch", type=int, default=32, help="global batch (split over the ranks)")
    p.add_argument("--train-size", type=int, default=4000)
    p.add_argument("--test-size", type=int, default=400)
    p.add_argument("--min-len", type=int, default=16)
    p.add_argument("--max-len", type=int, default=96, help="every batch is padded to this length")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--mlp-dim", type=int, default=128)
    p.add_argument("--pattern", default="window=4,global=1,random=4,seed=0")
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--hops", type=int, default=5)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--backend", default="gloo", help="gloo (CPU) or nccl (GPU)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--jsonl", default="", help="JSONL file of per-step losses (rank 0)")
    p.add_argument("--dump-grads", default="", help="after step 1, save the gradients here (rank 0)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group(a.backend)
    if a.batch % world:
        raise SystemExit(f"--batch {a.batch} must be a multiple of the world size {world}")
    dtype = getattr(torch, a.dtype)
    device = torch.device(a.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)

    tokens, lengths, labels = make_dataset(a.train_size + a.test_size, a.min_len, a.max_len, a.seed)
    config = ModelConfig(vocab=len(VOCAB), num_classes=10, max_len=a.max_len, layers=a.layers,
                         dim=a.dim, heads=a.heads, mlp_dim=a.mlp_dim, dropout=a.dropout,
                         pattern=a.pattern, diffusion=Diffusion.ppr(a.alpha, a.hops),
                         seed=a.seed)
    torch.manual_seed(a.seed)
    model = DiffuserModel(config).to(device=device, dtype=dtype)
    ddp = DDP(model) if world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)

    local = a.batch // world
    log = open(a.jsonl, "w") if a.jsonl and rank == 0 else None
    first = last = None
    t0 = time.time()
    for step in range(1, a.steps + 1):
        g = torch.Generator().manual_seed(a.seed * 1000003 + step)
        idx = torch.randint(0, a.train_size, (a.batch,), generator=g)[rank * local:(rank + 1) * local]
        logits = ddp(tokens[idx].to(device), lengths[idx].to(device))
        loss = F.cross_entropy(logits, labels[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step == 1 and a.dump_grads and rank == 0:
            torch.save({n: p.grad.detach().cpu().clone() for n, p in model.named_parameters()},
                       a.dump_grads)
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        global_loss = loss.detach().to(torch.float64)
        if world > 1:
            dist.all_reduce(global_loss)
            global_loss /= world
        value = float(global_loss)
        first = value if first is None else first
        last = value
        if log:
            log.write(json.dumps({"step": step, "loss": value}) + "\n")
            log.flush()
        if rank == 0 and (step % 20 == 0 or step == a.steps):
            rate = step * a.batch / (time.time() - t0)
            print(f"step {step}/{a.steps}  loss {value:.4f}  {rate:.0f} seq/s", file=sys.stderr)

    if rank == 0:
        model.eval()
        with torch.no_grad():
            sl = slice(a.train_size, a.train_size + a.test_size)
            pred = model(tokens[sl].to(device), lengths[sl].to(device)).argmax(-1).cpu()
        accuracy = float((pred == labels[sl]).double().mean())
        summary = {"world_size": world, "steps": a.steps, "first_loss": first, "last_loss": last,
                   "test_accuracy": accuracy, "threads": torch.get_num_threads(),
                   "seconds": time.time() - t0}
        print(json.dumps(summary))
        if log:
            log.write(json.dumps({"summary": summary}) + "\n")
            log.close()
    if world > 1:
        # Both ranks leave together (rank 0 evaluates alone above) and drop DDP's reducer before
        # the group goes: a rank that tears gloo down while its peer still holds the pair can
        # abort with "terminate called without an active exception".
        dist.barrier()
        del ddp
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
