#!/usr/bin/env python3
"""Training throughput (tokens/s): `diffuser train` against PyTorch on the same model.

Why: issue 6 asks for our trainer's throughput next to a PyTorch implementation of the same
model on the same machine, measured in the same run. This script

1. runs `diffuser train --config CONFIG` for `--steps` steps (evaluation off, one checkpoint at
   the end) and reads the steady-state throughput from its log (steps after `--warmup`);
2. reads the task shape (vocab, classes, length) from that run's checkpoint header and builds
   the same model in PyTorch from the model code of scripts/torch_reference.py (which tests
   check against the C++ model to 1e-10); the parameter count must equal the C++ run's;
3. times the same number of AdamW training steps (same batch size, sequence length, learning
   rate, clipping, thread count, float32) with two PyTorch attention implementations:
   - `torch_sparse`: attention on the pattern's edge list (gather, segment softmax with
     scatter_reduce, index_add per hop) -- how the original PyTorch + DGL code computes it,
     without materialising n x n;
   - `torch_dense_masked`: the dense masked softmax of torch_reference.py (n x n per head) --
     what a plain PyTorch implementation of a pattern does.

Only fixed-length tasks are compared (every sequence as long as the task's max_len, e.g.
Fashion-MNIST): the C++ trainer's length buckets are then the same batches PyTorch sees.
PyTorch gets random tokens and labels (its data loading is not timed); the C++ figure includes
batch assembly (a copy of B x n int32 tokens per step).

Usage (docs/experiments.md):
    build/torchenv/bin/python scripts/bench_train_torch.py \\
        --config experiments/configs/fashion_mnist_diffuser.json \\
        --diffuser build/release/cli/diffuser --steps 120 --warmup 20 --threads 1 \\
        --json bench-out/train_throughput.json
"""

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402  (model code shared with the golden-file script)


def read_checkpoint_header(path):
    """The JSON header of a checkpoint (docs/nn.md, "Checkpoint format")."""
    with open(path, "rb") as f:
        head = f.read(32)
        if len(head) < 32 or head[:8] != b"DIFFCKPT":
            raise SystemExit(f"{path}: not a diffuser checkpoint")
        (header_len,) = struct.unpack("<Q", head[16:24])
        return json.loads(f.read(header_len).decode("utf-8"))


def run_ours(args, tmp):
    out = os.path.join(tmp, "run")
    cmd = [args.diffuser, "train", "--config", args.config, "--out", out,
           "--set", f"train.steps={args.steps}", "--set", "train.eval_every=0",
           "--set", f"train.checkpoint_every={args.steps}", "--set", f"train.threads={args.threads}",
           "--set", "train.log_every=10", "--set", "task.val_size=16", "--set", "task.test_size=16"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    log = [json.loads(line) for line in open(os.path.join(out, "log.jsonl"))]
    steps = [e for e in log if e.get("type") == "train"]
    first = min((e for e in steps if e["step"] >= args.warmup), key=lambda e: e["step"])
    last = max(steps, key=lambda e: e["step"])
    run = json.load(open(os.path.join(out, "run.json")))
    config = json.load(open(os.path.join(out, "config.json")))
    header = read_checkpoint_header(os.path.join(out, "checkpoint_last.bin"))
    return {
        "step_ms": 1000 * (last["elapsed_s"] - first["elapsed_s"]) / (last["step"] - first["step"]),
        "parameters": run["model"]["parameters"],
        "config": config,
        "task": header["meta"]["task"],
    }


def torch_model_config(config, task):
    m, a = config["model"], config["attention"]
    variant = a["variant"]
    if variant == "diffuser":
        if a["diffusion"] != "ppr":
            raise SystemExit("only attention.diffusion = ppr is mapped to PyTorch here")
        diffusion = {"family": "ppr", "alpha": a["alpha"], "hops": a["hops"]}
    else:
        diffusion = {"family": "plain"}
    if task["kind"] != "classifier" or task["has_cls"]:
        raise SystemExit("only classifier tasks without a CLS token are mapped to PyTorch here")
    return {
        "kind": "classifier", "vocab": task["vocab"], "num_classes": task["num_classes"],
        "max_len": task["max_len"], "layers": m["layers"], "dim": m["dim"], "heads": m["heads"],
        "mlp_dim": m["mlp_dim"], "norm": m["norm"], "ln_eps": m["ln_eps"], "pool": m["pool"],
        "head_hidden": 0, "variant": variant, "pattern": a["pattern"], "diffusion": diffusion,
        "learn_theta": a["learn_theta"],
    }


def sparse_attention_factory(mask):
    """Attention on the edge list of `mask` (row i = query i): DGL-style message passing."""
    rows_np, cols_np = np.nonzero(mask)
    rows, cols = torch.from_numpy(rows_np).long(), torch.from_numpy(cols_np).long()

    def attn(x, p, prefix, c, _mask, lengths, theta):
        B, n, _ = x.shape
        q, k, v = ref.project_heads(x, p, prefix, c)  # [B, H, n, D]
        H = q.shape[1]
        s = (q[:, :, rows] * k[:, :, cols]).sum(-1) / math.sqrt(q.shape[-1])  # [B, H, E]
        key_ok = cols[None, :] < lengths[:, None]  # [B, E]
        s = s.masked_fill(~key_ok[:, None, :], -1e30)
        idx = rows.expand(B, H, -1)
        row_max = torch.full((B, H, n), -1e30, dtype=s.dtype).scatter_reduce(
            2, idx, s, reduce="amax", include_self=True)
        e = torch.exp(s - row_max.gather(2, idx)) * key_ok[:, None, :]
        denom = torch.zeros((B, H, n), dtype=s.dtype).index_add(2, rows, e)
        a = (e / denom.gather(2, idx).clamp_min(1e-30))[..., None]  # [B, H, E, 1]
        row_ok = torch.arange(n)[None, :] < lengths[:, None]

        def apply_a(y):  # messages a_e * y[col_e], summed into row_e
            return torch.zeros_like(y).index_add(2, rows, a * y[:, :, cols])

        return ref.diffuse_and_project(apply_a, v, theta, row_ok, p, prefix)

    return attn


def check_same_model(c, mask, sparse_attn):
    """The edge-list attention must compute what the dense masked one does (float64, 2 rows)."""
    rng = np.random.default_rng(1)
    p = ref.random_parameters(c, rng, dtype=torch.float64)
    tokens = torch.from_numpy(rng.integers(0, c["vocab"], size=(2, c["max_len"])))
    lengths = torch.tensor([c["max_len"], max(1, c["max_len"] // 2)])
    with torch.no_grad():
        a = ref.model_forward(c, p, tokens, lengths, mask, attn=sparse_attn)
        b = ref.model_forward(c, p, tokens, lengths, mask)
    err = float((a - b).norm() / b.norm())
    if not err < 1e-10:
        raise SystemExit(f"edge-list attention differs from the dense masked one: rel err {err:.3g}")
    return err


def time_torch(c, config, mask, attn, steps, warmup, args):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    p = ref.random_parameters(c, rng, dtype=torch.float32)
    params = [p[name] for name, _, _ in ref.layout(c)]
    o = config["optim"]
    opt = torch.optim.AdamW(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                            weight_decay=o["weight_decay"])
    B, n = config["train"]["batch_size"], c["max_len"]
    lengths = torch.full((B,), n, dtype=torch.long)
    times = []
    for step in range(steps):
        tokens = torch.randint(0, c["vocab"], (B, n))
        labels = torch.randint(0, c["num_classes"], (B,))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        x = ref.model_forward(c, p, tokens, lengths, mask, attn=attn)
        logits = ref.head_forward(c, p, ref.pool(c, x, lengths))
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, o["clip_norm"])
        opt.step()
        times.append(time.perf_counter() - t0)
    steady = times[warmup:]
    return {"step_ms": 1000 * sum(steady) / len(steady),
            "parameters": sum(t.numel() for t in params)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--diffuser", required=True, help="path to the built `diffuser` executable")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--warmup", type=int, default=20, help="steps left out of the timing")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dense", choices=["on", "off"], default="on",
                    help="also time the dense masked PyTorch attention")
    ap.add_argument("--dense-steps", type=int, default=12,
                    help="steps for the dense masked variant (2 of them warm-up): it is slow")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if args.steps <= args.warmup + 10:
        raise SystemExit("--steps must exceed --warmup by more than 10")
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        ours = run_ours(args, tmp)
    config = ours["config"]
    c = torch_model_config(config, ours["task"])
    n, B = c["max_len"], config["train"]["batch_size"]
    if c["variant"] == "full":
        mask = np.ones((n, n), dtype=bool)
    else:
        mask = ref.build_mask(args.diffuser, c["pattern"], n, False)
    results = {"ours": ours["step_ms"]}
    counts = {"ours": ours["parameters"]}
    variants = {"torch_sparse": sparse_attention_factory(mask)}
    agreement = check_same_model(c, mask, variants["torch_sparse"])
    if args.dense == "on":
        variants["torch_dense_masked"] = ref.attention
    for name, attn in variants.items():
        dense = name == "torch_dense_masked"
        steps, warmup = (args.dense_steps, 2) if dense else (args.steps, args.warmup)
        r = time_torch(c, config, mask, attn, steps, warmup, args)
        results[name], counts[name] = r["step_ms"], r["parameters"]
    if len(set(counts.values())) != 1:
        raise SystemExit(f"parameter counts differ, not the same model: {counts}")

    tokens = B * n
    report = {
        "benchmark": "train_throughput",
        "config": args.config, "steps": args.steps, "warmup": args.warmup,
        "dense_steps": args.dense_steps,
        "threads": args.threads, "batch": B, "length": n, "parameters": counts["ours"],
        "pattern_nnz": int(mask.sum()), "torch_version": torch.__version__,
        "sparse_vs_dense_rel_err": agreement,
        "step_ms": results,
        "tokens_per_s": {k: tokens / (v / 1000) for k, v in results.items()},
        "speedup_vs": {k: v / results["ours"] for k, v in results.items() if k != "ours"},
    }
    for k, v in results.items():
        print(f"{k:<20} {v:9.2f} ms/step  {tokens / (v / 1000):12.0f} tokens/s")
    for k, v in report["speedup_vs"].items():
        print(f"diffuser vs {k}: {v:.2f}x")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
