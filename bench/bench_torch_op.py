#!/usr/bin/env python3
"""The diffuser PyTorch op against PyTorch baselines: forward + backward time and memory.

Why: issue 15's benchmark. In one run on one machine, for n = 1K/4K/16K, H = 4, D = 64, K = 5
(PPR alpha = 0.1), float32, batch 1:
  - ours:   diffuser.torch.sparse_attention (C++ kernels) over the pattern;
  - sdpa:   torch.nn.functional.scaled_dot_product_attention, dense full attention (on the CPU
            torch picks its flash kernel: O(n^2) time, O(n) memory);
  - sdpa_math: the same call forced onto the math backend (materialises the n x n weights, as a
            plain PyTorch attention does; skipped where that needs more than --max-gib);
  - gather: the same sparse attention + diffusion written with torch gather / scatter
            (index_select, scatter_reduce segment softmax, index_add per hop) -- how the
            original PyTorch + DGL code computes it, without n x n.
Each timing is the median over --reps of (forward + backward of sum(z * g)), after one warm-up
call. Memory: each case runs in a fresh subprocess with MALLOC_MMAP_THRESHOLD_=65536 (large
blocks go back to the OS when freed, so the resident set follows live memory); after the
warm-up call a sampler thread reads the resident set every 0.5 ms and the figure is its peak
minus the level before the timed calls (inputs allocated): what autograd keeps plus the
temporaries of forward and backward.
With --device cuda (a build with -Ccmake.define.DIFFUSER_CUDA=ON on a machine with a GPU) the
same cases run on CUDA tensors: times are taken after torch.cuda.synchronize(); memory is the
peak of torch's allocator above the level before the timed calls plus, for ours, the peak of the
backend's own device buffers (diffuser._core.cuda_memory(); they bypass torch's allocator);
the Python-overhead comparison is CPU only.
Python overhead at n = 4K compares the op with direct calls of diffuser._core's forward and
backward on the same arrays (same kernels, no torch dispatch, no autograd).

    build/pyenv/bin/python bench/bench_torch_op.py --json bench-out/torch_op.json
    python3 bench/bench_torch_op.py --device cuda --json $OUT/torch_op_cuda.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

import diffuser
import diffuser.torch as dt
from diffuser import Diffusion, graph


def rss_mib() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class PeakSampler:
    """Largest rss_mib() seen while active (sampled every 0.5 ms on a thread)."""

    def __enter__(self):
        self.peak, self.stop = rss_mib(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.0005)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def inputs(n, H, D, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, n, H, D, generator=g).to(device).requires_grad_() for _ in range(3)]


class CudaPeak:
    """Peak device memory above the level at entry: torch's allocator plus the diffuser
    backend's own buffers (in MiB, as .peak - .base like PeakSampler)."""

    def __enter__(self):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        diffuser._core.cuda_reset_peak()
        self.base = (torch.cuda.memory_allocated() + diffuser._core.cuda_memory()[0]) / 2**20
        return self

    def __exit__(self, *exc):
        torch.cuda.synchronize()
        self.peak = (torch.cuda.max_memory_allocated() + diffuser._core.cuda_memory()[1]) / 2**20


def run_ours(q, k, v, ip, ix, theta):
    return dt.sparse_attention(q, k, v, ip, ix, theta)


def run_sdpa(q, k, v, ip, ix, theta):
    z = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    return z.transpose(1, 2)


def run_sdpa_math(q, k, v, ip, ix, theta):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        return run_sdpa(q, k, v, ip, ix, theta)


def run_gather(q, k, v, ip, ix, theta):
    n, H, D = q.shape[1], q.shape[2], q.shape[3]
    dev = q.device
    rows = torch.repeat_interleave(torch.arange(n), ip[1:].long() - ip[:-1].long()).to(dev)
    cols = ix.long().to(dev)
    q0, k0, v0 = q[0], k[0], v[0]
    s = (q0.index_select(0, rows) * k0.index_select(0, cols)).sum(-1) / math.sqrt(D)  # [nnz, H]
    m = torch.full((n, H), -math.inf, device=dev).scatter_reduce(0, rows[:, None].expand(-1, H), s, "amax")
    e = torch.exp(s - m.index_select(0, rows))
    den = torch.zeros(n, H, device=dev).index_add(0, rows, e)
    a = e / den.index_select(0, rows)
    K = theta.shape[0] - 1
    y = theta[K].float() * v0
    for i in range(K - 1, -1, -1):
        y = torch.zeros(n, H, D, device=dev).index_add(0, rows, a[:, :, None] * y.index_select(0, cols)) \
            + theta[i].float() * v0
    return y[None]


RUNNERS = {"ours": run_ours, "sdpa": run_sdpa, "sdpa_math": run_sdpa_math, "gather": run_gather}


def time_case(name, n, H, D, spec, reps, device="cpu"):
    g = graph.build(spec, n)
    ip, ix = dt.pattern_tensors(g)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 5)).to(device)
    q, k, v = inputs(n, H, D, device=device)
    grad = torch.randn(1, n, H, D).to(device)
    cuda = device == "cuda"

    def call():
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        z = RUNNERS[name](q, k, v, ip, ix, theta)
        torch.autograd.backward(z, grad)
        if cuda:
            torch.cuda.synchronize()
        q.grad = k.grad = v.grad = None
        return time.perf_counter() - t0

    call()  # warm-up: plan cache, thread pools, lazy initialisation
    if cuda:
        with CudaPeak() as peak:
            times = [call() for _ in range(reps)]
        base = peak.base
    else:
        base = rss_mib()
        with PeakSampler() as peak:
            times = [call() for _ in range(reps)]
    return {"impl": name, "n": n, "nnz": g.nnz, "median_s": statistics.median(times),
            "times_s": times, "peak_extra_mib": peak.peak - base}


def python_overhead(n, H, D, spec, reps):
    """Median (op fwd+bwd) vs median (_core forward + backward on numpy views), same inputs."""
    g = graph.build(spec, n)
    ip, ix = dt.pattern_tensors(g)
    theta = dt.theta_tensor(Diffusion.ppr(0.1, 5))
    q, k, v = inputs(n, H, D)
    grad = torch.randn(1, n, H, D)
    plan = diffuser.attention.Plan(g)
    qn, kn, vn, gn = (t.detach().numpy() for t in (q, k, v, grad))
    th = theta.tolist()
    threads = torch.get_num_threads()
    op, core = [], []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        z = dt.sparse_attention(q, k, v, ip, ix, theta)
        torch.autograd.backward(z, grad)
        t1 = time.perf_counter()
        _, attn, dropped, hops = diffuser._core.attention_forward(plan, qn, kn, vn, heads=H,
                                                                  theta=th, threads=threads)
        diffuser._core.attention_backward(plan, qn, kn, vn, attn, dropped, hops, gn, heads=H,
                                          theta=th, threads=threads)
        t2 = time.perf_counter()
        if r:
            op.append(t1 - t0)
            core.append(t2 - t1)
        q.grad = k.grad = v.grad = None
    mo, mc = statistics.median(op), statistics.median(core)
    return {"n": n, "op_median_s": mo, "core_median_s": mc, "overhead_fraction": (mo - mc) / mo}


def estimated_bytes(name, n, H, D, spec):
    """Rough peak of the memory-hungry baselines: gather keeps ~3 [nnz, H, D] float32 per hop,
    the math backend ~3 [H, n, n] float32 (scores, weights, their gradient)."""
    if name == "gather":
        return 3 * 5 * graph.build(spec, n).nnz * H * D * 4
    if name == "sdpa_math":
        return 3 * H * n * n * 4
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", default="1024,4096,16384")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--pattern", default="window=16,global=8,random=16",
                   help="spec of the sparse pattern (docs/patterns.md)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--max-gib", type=float, default=6.0,
                   help="skip a baseline whose estimated memory exceeds this")
    p.add_argument("--json", default="")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: CUDA tensors (needs a CUDA build of diffuser and a GPU)")
    p.add_argument("--case", default="", help=argparse.SUPPRESS)  # impl:n, run in a subprocess
    a = p.parse_args()
    H, D = a.heads, a.head_dim
    if a.device == "cuda" and not (diffuser.has_cuda and torch.cuda.is_available()):
        p.error(f"--device cuda needs a CUDA build of diffuser (has_cuda={diffuser.has_cuda}) and "
                f"a GPU (torch.cuda.is_available()={torch.cuda.is_available()})")
    if a.case:
        name, n = a.case.split(":")
        print(json.dumps(time_case(name, int(n), H, D, a.pattern,
                                   a.reps if int(n) < 16384 else max(1, a.reps - 1), a.device)))
        return 0
    rows = []
    for n in (int(x) for x in a.lengths.split(",")):
        for name in RUNNERS:
            need = estimated_bytes(name, n, H, D, a.pattern)
            if need > a.max_gib * 2**30:
                rows.append({"impl": name, "n": n, "skipped": f"needs ~{need / 2**30:.0f} GiB"})
                print(json.dumps(rows[-1]), flush=True)
                continue
            cmd = [sys.executable, __file__, "--case", f"{name}:{n}", "--heads", str(H),
                   "--head-dim", str(D), "--pattern", a.pattern, "--reps", str(a.reps),
                   "--device", a.device]
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                rows.append({"impl": name, "n": n, "failed": out.stderr.strip().splitlines()[-1:]})
            else:
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    by = {(r["impl"], r["n"]): r for r in rows if "median_s" in r}
    ratios = []
    for (impl, n), r in sorted(by.items()):
        if impl == "ours":
            for other in ("sdpa", "sdpa_math", "gather"):
                if (other, n) in by:
                    o = by[other, n]
                    ratios.append({"n": n, "baseline": other,
                                   "speedup": o["median_s"] / r["median_s"],
                                   "memory_ratio": r["peak_extra_mib"] / max(o["peak_extra_mib"], 1e-9)})
    overhead = (python_overhead(4096, H, D, a.pattern, max(3 * a.reps, 9)) if a.device == "cpu"
                else None)
    result = {"config": {"heads": H, "head_dim": D, "hops": 5, "alpha": 0.1, "batch": 1,
                         "dtype": "float32", "pattern": a.pattern, "reps": a.reps,
                         "threads": torch.get_num_threads(), "device": a.device},
              "machine": {"cpu": platform.processor() or platform.machine(),
                          "cores": os.cpu_count(), "torch": torch.__version__,
                          "python": platform.python_version(),
                          "gpu": torch.cuda.get_device_name() if a.device == "cuda" else None},
              "rows": rows, "ratios": ratios, "python_overhead_4k": overhead}
    print(json.dumps({"ratios": ratios, "python_overhead_4k": overhead}, indent=1))
    if a.json:
        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, a.json)  # never a half-written result
    return 0


if __name__ == "__main__":
    sys.exit(main())
