#!/usr/bin/env python3
"""The original Diffuser implementation's attention op sequence (DGL) as a peer of bench_attention.

Issue 16: the original code computes sparse attention with diffusion through DGL message passing:

    s = u_dot_v(k, q) / sqrt(D)              per head, on every edge key j -> query i
    a = edge_softmax(s)                      over the keys of each query
    h = v
    repeat K = 5 times:
        h = update_all(u_mul_e(h, a), sum)   h_i <- sum_j a_ij h_j
        h = (1 - alpha) h + alpha v          alpha = 0.1: h = 0.9 A h + 0.1 v

which is our PPR diffusion Z = sum_{k<K} alpha (1-alpha)^k A^k V + (1-alpha)^K A^K V with the same
K = 5 sparse products (docs/math.md: "K steps of Z <- (1-alpha) A Z + alpha V from Z = V").
Backward: the gradient of sum(h * dz) w.r.t. q, k, v through autograd.

This script runs that sequence (written here from the description above) on exactly our pattern:
`diffuser graph build --spec SPEC` writes the edge list, the script loads it into a DGL graph,
and `bench_attention --spec SPEC` (the same graph::build_pattern call) runs our kernels on it, in
the same invocation, at 2 threads each. One fresh subprocess per length and side.

Time: median of --repeats forward + backward passes after one warm-up pass.
Peak memory (the same method as bench_attention's PeakMeter): malloc_trim, reset the
resident-set high-water mark (write "5" to /proc/self/clear_refs), read VmRSS; the edge list and
q, k, v, dz are resident before and not counted; the DGL graph (its COO/CSR/CSC formats, built
inside the measured region as our plan is), the warm-up and the timed passes are. Peak =
VmHWM - that VmRSS.

    build/dglenv/bin/python scripts/bench_seed_dgl.py --lengths 1024,4096,16384 \
        --json bench-out/seed_dgl.json

--backend torch runs the same op sequence in plain torch (index_select / scatter_reduce segment
softmax / index_add), the fallback where DGL cannot be installed. --check N compares the output
and the gradients with `diffuser attention` on the same graph and inputs at length N.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = "blocks=64,global=64,global-positions=random,random=64"


def status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


class PeakMeter:
    """Resident-set high-water mark since construction, minus the resident set at construction."""

    def __init__(self) -> None:
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        self.baseline = status_bytes("VmRSS:")

    def peak_mb(self) -> float:
        return (status_bytes("VmHWM:") - self.baseline) / 2**20

    def now_mb(self) -> float:
        return (status_bytes("VmRSS:") - self.baseline) / 2**20


def load_edges(path: Path):
    """Edge list written by `diffuser graph build --out X.txt`: '# nodes: N' and 'i j' lines."""
    import numpy as np

    text = path.read_text()
    n = None
    body_start = 0
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        if line.startswith("# nodes:"):
            n = int(line.split(":")[1])
        body_start += len(line)
    pairs = np.array(text[body_start:].split(), dtype=np.int64).reshape(-1, 2)
    return n, np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


# ---------------------------------------------------------------------------------------------
# The two implementations of the op sequence. Edge e = (query i = row[e], key j = col[e]);
# as a DGL graph: source j (message sender), destination i (aggregator).


def make_dgl(n, rows, cols, heads, head_dim, alpha, hops):
    import dgl
    import dgl.function as fn
    import torch
    from dgl.ops import edge_softmax, u_dot_v

    g = dgl.graph((torch.from_numpy(cols), torch.from_numpy(rows)), num_nodes=n)
    scale = 1.0 / math.sqrt(head_dim)

    def forward(q, k, v):
        qh, kh, vh = (t.view(n, heads, head_dim) for t in (q, k, v))
        s = u_dot_v(g, kh, qh) * scale  # [nnz, H, 1]: <k_src, q_dst>
        a = edge_softmax(g, s)  # normalised over the in-edges (keys) of each query
        h = vh
        for _ in range(hops):
            with g.local_scope():
                g.ndata["h"] = h
                g.edata["a"] = a
                g.update_all(fn.u_mul_e("h", "a", "m"), fn.sum("m", "h"))
                h = g.ndata["h"]
            h = (1.0 - alpha) * h + alpha * vh
        return h.reshape(n, heads * head_dim)

    return g, forward


def make_torch(n, rows, cols, heads, head_dim, alpha, hops):
    import torch

    row = torch.from_numpy(rows)
    col = torch.from_numpy(cols)
    scale = 1.0 / math.sqrt(head_dim)

    def forward(q, k, v):
        qh, kh, vh = (t.view(n, heads, head_dim) for t in (q, k, v))
        s = (qh.index_select(0, row) * kh.index_select(0, col)).sum(-1) * scale  # [nnz, H]
        m = torch.full((n, heads), -math.inf).scatter_reduce(
            0, row[:, None].expand(-1, heads), s, "amax", include_self=True
        )
        e = torch.exp(s - m.index_select(0, row).detach())
        denom = torch.zeros(n, heads).index_add(0, row, e)
        a = (e / denom.index_select(0, row))[:, :, None]  # [nnz, H, 1]
        h = vh
        for _ in range(hops):
            h = torch.zeros_like(vh).index_add(0, row, h.index_select(0, col) * a)
            h = (1.0 - alpha) * h + alpha * vh
        return h.reshape(n, heads * head_dim)

    return (row, col), forward


def child(args) -> dict:
    """One length, one side, in this (fresh) process; prints one JSON object."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    n, rows, cols = load_edges(Path(args.graph))
    width = args.heads * args.head_dim
    gen = torch.Generator().manual_seed(args.seed + 1)
    q, k, v, dz = (torch.randn(n, width, generator=gen) for _ in range(4))
    for t in (q, k, v):
        t.requires_grad_(True)

    make = make_dgl if args.backend == "dgl" else make_torch
    meter = PeakMeter()
    t0 = time.perf_counter()
    graph, forward = make(n, rows, cols, args.heads, args.head_dim, args.alpha, args.hops)
    build_ms = (time.perf_counter() - t0) * 1e3
    nnz = graph.num_edges() if args.backend == "dgl" else int(rows.size)

    fwd_ms, bwd_ms, total_ms = [], [], []
    z = None
    for r in range(args.repeats + 1):  # pass 0 = warm-up (DGL builds its CSC/CSR formats there)
        for t in (q, k, v):
            t.grad = None
        t1 = time.perf_counter()
        z = forward(q, k, v)
        t2 = time.perf_counter()
        z.backward(dz)
        t3 = time.perf_counter()
        if r > 0:
            fwd_ms.append((t2 - t1) * 1e3)
            bwd_ms.append((t3 - t2) * 1e3)
            total_ms.append((t3 - t1) * 1e3)
    peak_mb = meter.peak_mb()

    out = {
        "side": args.backend,
        "n": n,
        "nnz": nnz,
        "graph_build_ms": build_ms,
        "fwd_ms": statistics.median(fwd_ms),
        "bwd_ms": statistics.median(bwd_ms),
        "fwd_bwd_ms": statistics.median(total_ms),
        "fwd_bwd_ms_all": total_ms,
        "peak_mb": peak_mb,
        "threads": torch.get_num_threads(),
    }
    if args.check_dir:
        d = Path(args.check_dir)
        for name, t in (("q", q), ("k", k), ("v", v), ("dz", dz)):
            np.save(d / f"{name}.npy", t.detach().numpy())
        np.save(d / f"{args.backend}_z.npy", z.detach().numpy())
        for name, t in (("dq", q), ("dk", k), ("dv", v)):
            np.save(d / f"{args.backend}_{name}.npy", t.grad.numpy())
    return out


# ---------------------------------------------------------------------------------------------
# Driver.


def run_json(cmd, env=None) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit(f"bench_seed_dgl: {' '.join(map(str, cmd))} failed:\n{res.stdout}{res.stderr}")
    return res.stdout


def child_cmd(args, graph: Path, check_dir: str | None = None):
    cmd = [sys.executable, __file__, "--child", "--graph", str(graph), "--backend", args.backend,
           "--heads", str(args.heads), "--head-dim", str(args.head_dim), "--alpha", str(args.alpha),
           "--hops", str(args.hops), "--repeats", str(args.repeats), "--threads", str(args.threads),
           "--seed", str(args.seed)]
    if check_dir:
        cmd += ["--check-dir", check_dir]
    return cmd


def thread_env(threads: int) -> dict:
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = str(threads)
    return env


def build_graph(args, n: int, work: Path) -> tuple[Path, str]:
    path = work / f"pattern_{n}.txt"
    spec = args.spec if "seed=" in args.spec else f"{args.spec},seed={args.seed}"
    msg = run_json([args.diffuser, "graph", "build", "--n", str(n), "--spec", spec, "--out", str(path)])
    return path, msg.strip()


def check(args, work: Path) -> dict:
    """Our CLI (`diffuser attention`) against the peer on the same graph and inputs."""
    import numpy as np

    n = args.check
    graph, _ = build_graph(args, n, work)
    d = work / f"check_{n}"
    d.mkdir(exist_ok=True)
    json.loads(run_json(child_cmd(args, graph, str(d)), env=thread_env(args.threads)))
    run_json([args.diffuser, "attention", "--graph", str(graph), "--q", str(d / "q.npy"),
              "--k", str(d / "k.npy"), "--v", str(d / "v.npy"), "--heads", str(args.heads),
              "--alpha", str(args.alpha), "--hops", str(args.hops), "--dz", str(d / "dz.npy"),
              "--grads", str(d / "ours"), "--threads", str(args.threads),
              "--out", str(d / "ours_z.npy")])
    result = {"n": n}
    for name in ("z", "dq", "dk", "dv"):
        peer = np.load(d / f"{args.backend}_{name}.npy").astype(np.float64)
        ours = np.load(d / f"ours_{name}.npy").astype(np.float64)
        result[f"{name}_max_rel_err"] = float(np.abs(peer - ours).max() / np.abs(peer).max())
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", default="1024,4096,16384")
    p.add_argument("--spec", default=DEFAULT_SPEC, help="pattern spec, both sides")
    p.add_argument("--seed", type=int, default=0, help="pattern seed (unless the spec has one)")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--hops", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--backend", choices=["dgl", "torch"], default="dgl")
    p.add_argument("--diffuser", default=str(ROOT / "build/release/cli/diffuser"))
    p.add_argument("--ours", default=str(ROOT / "build/release/bench/bench_attention"),
                   help="bench_attention binary, or 'none' to run the peer alone")
    p.add_argument("--check", type=int, default=0,
                   help="compare z, dq, dk, dv with `diffuser attention` at this length first")
    p.add_argument("--json", default="")
    p.add_argument("--workdir", default="")
    # Child mode (one length, one side).
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--graph", help=argparse.SUPPRESS)
    p.add_argument("--check-dir", default="", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.child:
        print(json.dumps(child(args)))
        return

    work_ctx = tempfile.TemporaryDirectory(prefix="seed_dgl_") if not args.workdir else None
    work = Path(args.workdir or work_ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__}
    if args.backend == "dgl":
        import dgl

        versions["dgl"] = dgl.__version__
    report = {
        "benchmark": "seed_dgl",
        "config": {"spec": args.spec, "seed": args.seed, "heads": args.heads,
                   "head_dim": args.head_dim, "alpha": args.alpha, "hops": args.hops,
                   "repeats": args.repeats, "threads": args.threads, "dtype": "float32",
                   "backend": args.backend},
        "versions": versions,
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "loadavg_start": open("/proc/loadavg").read().split()[:3]},
        "rows": [],
    }
    if args.check:
        report["check"] = check(args, work)
        print(f"check at n={args.check} vs `diffuser attention`: "
              + ", ".join(f"{k} {v:.2e}" for k, v in report["check"].items() if k != "n"))

    header = (f"{'n':>6} {'nnz peer':>10} {'nnz ours':>10} {'peer ms':>9} {'ours ms':>9} "
              f"{'speedup':>8} {'peer MB':>9} {'ours MB':>8} {'mem ratio':>9}")
    print(header)
    for n in (int(x) for x in args.lengths.split(",")):
        graph, msg = build_graph(args, n, work)
        peer = json.loads(run_json(child_cmd(args, graph), env=thread_env(args.threads)))
        row = {"n": n, "pattern_file": msg, "peer": peer}
        if args.ours != "none":
            ours_json = work / f"ours_{n}.json"
            spec = args.spec if "seed=" in args.spec else f"{args.spec},seed={args.seed}"
            run_json([args.ours, "--n", str(n), "--spec", spec, "--heads", str(args.heads),
                      "--head-dim", str(args.head_dim), "--alpha", str(args.alpha),
                      "--hops", str(args.hops), "--repeats", str(args.repeats),
                      "--dense", "off", "--dense-diffusion", "off", "--json", str(ours_json)],
                     env=thread_env(args.threads))
            o = json.loads(ours_json.read_text())
            d = o["variants"]["diffusion"]
            row["ours"] = {"nnz": o["config"]["nnz"], "pattern": o["config"]["pattern"],
                           "fwd_ms": d["fwd_ms"], "bwd_ms": d["bwd_ms"],
                           "fwd_bwd_ms": d["fwd_bwd_ms"], "fwd_bwd_ms_all": d["fwd_bwd_ms_all"],
                           "peak_mb": d["peak_mb"], "threads": o["config"]["threads"],
                           "recompute_fwd_bwd_ms": o["variants"]["diffusion_recompute"]["fwd_bwd_ms"],
                           "recompute_peak_mb": o["variants"]["diffusion_recompute"]["peak_mb"]}
            row["nnz_match"] = row["ours"]["nnz"] == peer["nnz"]
            row["speedup"] = peer["fwd_bwd_ms"] / d["fwd_bwd_ms"]
            row["memory_ratio"] = d["peak_mb"] / peer["peak_mb"]
            print(f"{n:>6} {peer['nnz']:>10} {row['ours']['nnz']:>10} {peer['fwd_bwd_ms']:>9.1f} "
                  f"{d['fwd_bwd_ms']:>9.1f} {row['speedup']:>7.2f}x {peer['peak_mb']:>9.1f} "
                  f"{d['peak_mb']:>8.1f} {row['memory_ratio']:>9.3f}", flush=True)
        else:
            print(f"{n:>6} {peer['nnz']:>10} {'-':>10} {peer['fwd_bwd_ms']:>9.1f} {'-':>9} "
                  f"{'-':>8} {peer['peak_mb']:>9.1f} {'-':>8} {'-':>9}", flush=True)
        report["rows"].append(row)
    report["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
