#!/usr/bin/python3
"""Benchmark charts (speed and memory vs n) from the JSON files bench programs write.

Why: docs/benchmarks.md gives tables; a chart shows the scaling at a glance. Reads every
*.json in the given folders (default layout: bench-out/ written by bench/bench_attention and
bench/bench_spectral): attention results become forward+backward time and peak memory against
n, one line per variant (dense attention is the same-run baseline); spectral results become a
bar chart of our solve time against SciPy's eigsh on the same matrix. When several files hold
the same n, the newest one is used.

    build/release/bench/bench_attention --n 4096 --json bench-out/attention_n4096.json
    /usr/bin/python3 scripts/plot_bench.py bench-out --out bench-out/bench.png
"""
import argparse
import glob
import json
import os
import sys

from plot_common import add_output_options, require_matplotlib, save

LABELS = {
    "dense": "dense attention (baseline)",
    "dense_diffusion": "dense + diffusion",
    "sparse_plain": "sparse, no diffusion (K = 0)",
    "diffusion": "sparse + diffusion (K = 5)",
    "diffusion_recompute": "sparse + diffusion, recompute",
}


def load(folders):
    """(attention results by n, spectral results): newest file wins per n."""
    attention, spectral = {}, []
    for folder in folders:
        paths = sorted(glob.glob(os.path.join(folder, "*.json")), key=os.path.getmtime)
        for path in paths:
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                print(f"plot_bench.py: skipping {path}: {e}", file=sys.stderr)
                continue
            if not isinstance(data, dict):
                continue
            if data.get("benchmark") == "attention" and "variants" in data:
                attention[data["config"]["n"]] = (path, data)
            elif data.get("benchmark") == "bench_spectral":
                spectral.append((path, data))
    return attention, spectral


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="folders holding benchmark JSON files")
    add_output_options(parser)
    args = parser.parse_args(argv)
    attention, spectral = load(args.folders)
    if not attention and not spectral:
        sys.exit(f"plot_bench.py: no attention or spectral benchmark JSON in {', '.join(args.folders)}")
    plt, np = require_matplotlib()

    panels = (2 if attention else 0) + (1 if spectral else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.4), squeeze=False,
                             layout="constrained")
    axes = list(axes[0])
    if attention:
        ns = sorted(attention)
        variants = []
        for n in ns:
            for v in attention[n][1]["variants"]:
                if v not in variants:
                    variants.append(v)
        config = attention[ns[-1]][1]["config"]
        ax_t, ax_m = axes[0], axes[1]
        for v in variants:
            xs = [n for n in ns if v in attention[n][1]["variants"]]
            style = dict(marker="o", markersize=4, label=LABELS.get(v, v),
                         linestyle="--" if v.startswith("dense") else "-")
            ax_t.plot(xs, [attention[n][1]["variants"][v]["fwd_bwd_ms"] for n in xs], **style)
            ax_m.plot(xs, [attention[n][1]["variants"][v]["peak_mb"] for n in xs], **style)
        for ax, what in ((ax_t, "forward + backward time (ms, median)"),
                         (ax_m, "peak memory of the call (MB)")):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length n")
            ax.set_ylabel(what)
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)
        ax_t.set_title(f"attention, {config.get('pattern', '')}\nH = {config.get('heads')}, "
                       f"D = {config.get('head_dim')}, {config.get('threads')} threads, "
                       f"{config.get('dtype')}", fontsize=9)
        ax_m.set_title("memory (dense attention: the n x n weights)", fontsize=9)
    if spectral:
        ax = axes[-1]
        path, data = spectral[-1]
        labels, ours, scipy = [], [], []
        for r in data.get("results", []):
            labels.append(r["pattern"].replace(",", ",\n"))
            ours.append(r["ours"]["total_s"]["median"])
            s = r.get("scipy") or {}
            scipy.append(s.get("seconds", {}).get("median", float("nan")))
        x = np.arange(len(labels))
        ax.bar(x - 0.2, ours, width=0.4, label="diffuser (Lanczos, C++)")
        ax.bar(x + 0.2, scipy, width=0.4, label="SciPy eigsh (same matrix, same tol)")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=6)
        ax.set_ylabel("seconds (median)")
        n = data.get("config", {}).get("n", "?")
        ax.set_title(f"spectral gap at n = {n} ({os.path.basename(path)})", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, axis="y")
    save(fig, plt, args)


if __name__ == "__main__":
    main()
