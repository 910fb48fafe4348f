#!/usr/bin/env python3
"""Golden reference for the C++ model (nn/Model.hpp), computed with PyTorch autograd.

Why: the C++ model has hand-written backward passes; an independent implementation of the same
architecture in PyTorch, with the same weights and batch, must give the same logits, loss and
parameter gradients. This script writes them as a small set of .npy files plus a JSON manifest
under tests/data/torch_golden/; tests/nn/test_torch_reference.cpp compares against them without
needing PyTorch.

Everything here is written from the math in docs/design.md section 1 and docs/nn.md (it does not call
into diffuser): embeddings, LayerNorm, exact-erf GELU, multi-head attention restricted to the
pattern as an explicit dense mask (plus the causal mask for the LM), the diffusion polynomial Z = sum_k theta_k A^k V evaluated
densely by Horner, pooling, heads, cross-entropy with label smoothing. The only thing taken from
the C++ side is the attention pattern itself (random keys are drawn by graph/Patterns.cpp), via
`diffuser graph build --spec S --n N --out mask.npy`.

Regenerate (docs/nn.md, "PyTorch reference"):
    build/torchenv/bin/python scripts/torch_reference.py --diffuser build/release/cli/diffuser
"""

import argparse
import json
import math
import os
import subprocess
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

# The cases: each is one tiny model config, one batch and one label smoothing.
CASES = [
    {
        "name": "diffuser_classifier_pre",
        "config": {
            "kind": "classifier", "vocab": 11, "num_classes": 3, "max_len": 12, "layers": 2,
            "dim": 16, "heads": 4, "mlp_dim": 24, "norm": "pre", "ln_eps": 1e-5, "pool": "mean",
            "head_hidden": 6, "variant": "diffuser",
            "pattern": "window=1,global=1,random=2,seed=7",
            "diffusion": {"family": "ppr", "alpha": 0.1, "hops": 5}, "learn_theta": True,
        },
        "batch": 3, "len": 10, "lengths": [10, 7, 10], "label_smoothing": 0.1, "seed": 1,
    },
    {
        "name": "full_classifier_post",
        "config": {
            "kind": "classifier", "vocab": 11, "num_classes": 4, "max_len": 12, "layers": 2,
            "dim": 16, "heads": 2, "mlp_dim": 24, "norm": "post", "ln_eps": 1e-5, "pool": "cls",
            "head_hidden": 0, "variant": "full", "pattern": "window=0",
            "diffusion": {"family": "plain"}, "learn_theta": False,
        },
        "batch": 3, "len": 9, "lengths": [9, 9, 5], "label_smoothing": 0.0, "seed": 2,
    },
    {
        "name": "diffuser_lm_post",
        "config": {
            "kind": "causal_lm", "vocab": 13, "num_classes": 13, "max_len": 12, "layers": 2,
            "dim": 16, "heads": 4, "mlp_dim": 24, "norm": "post", "ln_eps": 1e-5, "pool": "cls",
            "head_hidden": 0, "variant": "diffuser",
            "pattern": "window=2,global=2,global-positions=spread,random=2,seed=3",
            "diffusion": {"family": "ppr", "alpha": 0.2, "hops": 3}, "learn_theta": False,
        },
        "batch": 2, "len": 12, "lengths": [12, 8], "label_smoothing": 0.0, "seed": 3,
    },
    {
        "name": "sparse_dual_pre",
        "config": {
            "kind": "dual_encoder", "vocab": 9, "num_classes": 2, "max_len": 10, "layers": 1,
            "dim": 12, "heads": 3, "mlp_dim": 20, "norm": "pre", "ln_eps": 1e-5, "pool": "mean",
            "head_hidden": 5, "variant": "sparse",
            "pattern": "window=1,random=2,seed=11",
            "diffusion": {"family": "plain"}, "learn_theta": False,
        },
        "batch": 3, "len": 8, "lengths": [8, 6, 3], "lengths2": [5, 8, 8], "label_smoothing": 0.05,
        "seed": 4,
    },
]


def diffusion_theta(d):
    """theta_0..theta_K of docs/design.md section 1 (plain attention: (0, 1))."""
    if d["family"] == "plain":
        return [0.0, 1.0]
    if d["family"] == "ppr":
        a, k = d["alpha"], d["hops"]
        return [a * (1 - a) ** i for i in range(k)] + [(1 - a) ** k]
    raise ValueError(f"unknown diffusion family {d['family']}")


def layout(c):
    """(name, shape, kind) of every parameter, in the C++ registration order (= memory order)."""
    d, m, t = c["dim"], c["mlp_dim"], []
    t += [("embed.token", [c["vocab"], d], "embedding"),
          ("embed.position", [c["max_len"], d], "embedding")]
    if c["norm"] == "post":
        t += [("embed.ln.weight", [d], "norm"), ("embed.ln.bias", [d], "norm")]
    for layer in range(c["layers"]):
        p = f"layers.{layer}"
        for proj in ("q", "k", "v", "out"):
            t += [(f"{p}.attn.{proj}.weight", [d, d], "weight"),
                  (f"{p}.attn.{proj}.bias", [d], "bias")]
        if c["learn_theta"]:
            t += [(f"{p}.attn.theta", [len(diffusion_theta(c["diffusion"]))], "norm")]
        t += [(f"{p}.ln1.weight", [d], "norm"), (f"{p}.ln1.bias", [d], "norm"),
              (f"{p}.mlp.fc1.weight", [m, d], "weight"), (f"{p}.mlp.fc1.bias", [m], "bias"),
              (f"{p}.mlp.fc2.weight", [d, m], "weight"), (f"{p}.mlp.fc2.bias", [d], "bias"),
              (f"{p}.ln2.weight", [d], "norm"), (f"{p}.ln2.bias", [d], "norm")]
    if c["norm"] == "pre":
        t += [("final_ln.weight", [d], "norm"), ("final_ln.bias", [d], "norm")]
    lm = c["kind"] == "causal_lm"
    width = 4 * d if c["kind"] == "dual_encoder" else d
    hidden = 0 if lm else c["head_hidden"]
    classes = c["vocab"] if lm else c["num_classes"]
    if hidden > 0:
        t += [("head.dense.weight", [hidden, width], "weight"),
              ("head.dense.bias", [hidden], "bias")]
        width = hidden
    t += [("head.out.weight", [classes, width], "weight"), ("head.out.bias", [classes], "bias")]
    return t


def random_parameters(c, rng, dtype=torch.float64):
    """Well-scaled random values (the default 0.02 init would leave attention nearly uniform)."""
    theta = diffusion_theta(c["diffusion"])
    params = {}
    for name, shape, kind in layout(c):
        if name.endswith(".theta"):
            v = np.array(theta) + 0.05 * rng.standard_normal(shape)
        elif kind == "norm" and name.endswith(".weight"):
            v = 1.0 + 0.1 * rng.standard_normal(shape)
        elif kind in ("norm", "bias"):
            v = 0.1 * rng.standard_normal(shape)
        elif kind == "embedding":
            v = 0.5 * rng.standard_normal(shape)
        else:
            v = 0.3 * rng.standard_normal(shape)
        params[name] = torch.tensor(v, dtype=dtype, requires_grad=True)
    return params


def build_mask(diffuser, spec, n, causal):
    """The pattern as a dense [n, n] bool mask (row i = query i) from `diffuser graph build`."""
    if causal:
        spec = spec + ",causal"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mask.npy")
        subprocess.run([diffuser, "graph", "build", "--n", str(n), "--spec", spec, "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(path) != 0


def project_heads(x, p, prefix, c):
    """Q, K, V projections of x [B, n, d], split into heads: three [B, H, n, D] tensors."""
    B, n, d = x.shape
    H = c["heads"]

    def proj(name):
        y = x @ p[f"{prefix}.{name}.weight"].T + p[f"{prefix}.{name}.bias"]
        return y.view(B, n, H, d // H).transpose(1, 2)

    return proj("q"), proj("k"), proj("v")


def diffuse_and_project(apply_a, v, theta, row_ok, p, prefix):
    """Z = sum_k theta_k A^k V by Horner (apply_a(y) = A y), padded rows zeroed, heads merged,
    output projection applied: [B, n, d]."""
    B, H, n, D = v.shape
    K = len(theta) - 1
    y = theta[K] * v
    for i in range(K - 1, -1, -1):
        y = apply_a(y) + theta[i] * v
    y = y * row_ok[:, None, :, None]
    z = y.transpose(1, 2).reshape(B, n, H * D)
    return z @ p[f"{prefix}.out.weight"].T + p[f"{prefix}.out.bias"]


def attention(x, p, prefix, c, mask, lengths, theta):
    """Multi-head attention on the mask, padded keys excluded, then diffusion by Horner."""
    n = x.shape[1]
    q, k, v = project_heads(x, p, prefix, c)
    pos = torch.arange(n)
    key_ok = pos[None, :] < lengths[:, None]                      # [B, n] valid keys
    row_ok = key_ok                                               # valid query rows
    allowed = torch.tensor(mask)[None, None] & key_ok[:, None, None, :]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    s = s.masked_fill(~allowed, -1e30)
    a = torch.softmax(s, dim=-1)
    a = torch.where(allowed & row_ok[:, None, :, None], a, torch.zeros_like(a))
    return diffuse_and_project(lambda y: a @ y, v, theta, row_ok, p, prefix)


def model_forward(c, p, tokens, lengths, mask, attn=None):
    """The encoder; `attn` replaces the dense-mask attention (same signature as `attention`)."""
    attn = attn or attention
    eps = c["ln_eps"]
    d = c["dim"]

    def ln(x, name):
        return F.layer_norm(x, (d,), p[f"{name}.weight"], p[f"{name}.bias"], eps)

    def mlp(x, prefix):
        h = F.gelu(x @ p[f"{prefix}.fc1.weight"].T + p[f"{prefix}.fc1.bias"])  # exact erf GELU
        return h @ p[f"{prefix}.fc2.weight"].T + p[f"{prefix}.fc2.bias"]

    n = tokens.shape[1]
    x = p["embed.token"][tokens] + p["embed.position"][:n][None]
    if c["norm"] == "post":
        x = ln(x, "embed.ln")
    fixed_theta = torch.tensor(diffusion_theta(c["diffusion"]), dtype=x.dtype)
    for layer in range(c["layers"]):
        pre = f"layers.{layer}"
        theta = p[f"{pre}.attn.theta"] if c["learn_theta"] else fixed_theta
        if c["norm"] == "pre":
            h = x + attn(ln(x, f"{pre}.ln1"), p, f"{pre}.attn", c, mask, lengths, theta)
            x = h + mlp(ln(h, f"{pre}.ln2"), f"{pre}.mlp")
        else:
            h = ln(x + attn(x, p, f"{pre}.attn", c, mask, lengths, theta), f"{pre}.ln1")
            x = ln(h + mlp(h, f"{pre}.mlp"), f"{pre}.ln2")
    if c["norm"] == "pre":
        x = ln(x, "final_ln")
    return x


def head_forward(c, p, x):
    if c["kind"] != "causal_lm" and c["head_hidden"] > 0:
        x = torch.tanh(x @ p["head.dense.weight"].T + p["head.dense.bias"])
    return x @ p["head.out.weight"].T + p["head.out.bias"]


def pool(c, x, lengths):
    if c["pool"] == "cls":
        return x[:, 0]
    valid = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).to(x.dtype)
    return (x * valid[..., None]).sum(1) / lengths[:, None].to(x.dtype)


def run_case(case, diffuser, out_dir):
    c = case["config"]
    rng = np.random.default_rng(case["seed"])
    B, L = case["batch"], case["len"]
    lm = c["kind"] == "causal_lm"
    p = random_parameters(c, rng)
    tokens = rng.integers(0, c["vocab"], size=(B, L)).astype(np.int32)
    lengths = np.array(case["lengths"], dtype=np.int32)
    if lm:
        labels = rng.integers(0, c["vocab"], size=(B, L)).astype(np.int32)
        labels[np.arange(L)[None, :] >= lengths[:, None]] = -1
    else:
        labels = rng.integers(0, c["num_classes"], size=(B,)).astype(np.int32)
    if c["kind"] == "dual_encoder":
        tokens2 = rng.integers(0, c["vocab"], size=(B, L)).astype(np.int32)
        lengths2 = np.array(case["lengths2"], dtype=np.int32)
    if c["variant"] == "full":
        mask = np.tril(np.ones((L, L), dtype=bool)) if lm else np.ones((L, L), dtype=bool)
    else:
        mask = build_mask(diffuser, c["pattern"], L, lm)

    t_tokens = torch.tensor(tokens, dtype=torch.long)
    t_lengths = torch.tensor(lengths, dtype=torch.long)
    x = model_forward(c, p, t_tokens, t_lengths, mask)
    if lm:
        logits = head_forward(c, p, x)
        flat_logits, flat_labels = logits.reshape(B * L, -1), torch.tensor(labels).long().reshape(-1)
    elif c["kind"] == "dual_encoder":
        u = pool(c, x, t_lengths)
        v = pool(c, model_forward(c, p, torch.tensor(tokens2).long(), torch.tensor(lengths2).long(),
                                  mask), torch.tensor(lengths2).long())
        logits = head_forward(c, p, torch.cat([u, v, u * v, u - v], dim=-1))
        flat_logits, flat_labels = logits, torch.tensor(labels).long()
    else:
        logits = head_forward(c, p, pool(c, x, t_lengths))
        flat_logits, flat_labels = logits, torch.tensor(labels).long()
    loss = F.cross_entropy(flat_logits, flat_labels, ignore_index=-1,
                           label_smoothing=case["label_smoothing"])
    loss.backward()
    counted = flat_labels != -1
    correct = int((flat_logits.argmax(-1)[counted] == flat_labels[counted]).sum())

    names = layout(c)
    values = np.concatenate([p[n].detach().numpy().ravel() for n, _, _ in names])
    grads = np.concatenate([p[n].grad.numpy().ravel() for n, _, _ in names])
    tensors, offset = [], 0
    for name, shape, kind in names:
        size = int(np.prod(shape))
        tensors.append({"name": name, "shape": shape, "kind": kind, "offset": offset, "size": size})
        offset += size

    case_dir = os.path.join(out_dir, case["name"])
    os.makedirs(case_dir, exist_ok=True)
    files = {
        "tokens": tokens, "lengths": lengths, "labels": labels,
        "mask": mask.astype(np.int32), "params": values, "grads": grads,
        "logits": logits.detach().numpy(),
    }
    if c["kind"] == "dual_encoder":
        files["tokens2"], files["lengths2"] = tokens2, lengths2
    for key, array in files.items():
        np.save(os.path.join(case_dir, key + ".npy"), array)
    entry = {k: case[k] for k in ("name", "batch", "len", "label_smoothing")}
    entry["config"] = dict(c, theta=diffusion_theta(c["diffusion"]))
    entry["files"] = {k: f"{case['name']}/{k}.npy" for k in files}
    entry["tensors"] = tensors
    entry["loss"] = float(loss.detach())
    entry["correct"] = correct
    entry["count"] = int(counted.sum())
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--diffuser", required=True, help="path to the built `diffuser` executable")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                  "torch_golden"))
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    os.makedirs(args.out, exist_ok=True)
    cases = [run_case(case, args.diffuser, args.out) for case in CASES]
    manifest = {
        "generator": "scripts/torch_reference.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "cases": cases,
    }
    tmp = os.path.join(args.out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(args.out, "manifest.json"))
    for c in cases:
        print(f"{c['name']}: loss {c['loss']:.12f}, {c['count']} targets, {c['correct']} correct")


if __name__ == "__main__":
    main()
