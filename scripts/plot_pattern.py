#!/usr/bin/python3
"""Pattern heatmaps and degree profiles from `diffuser viz pattern` folders.

Why: the block-density map shows at a glance which keys each query reads (band, global rows and
columns, random scatter) even at n = 1M, where the matrix itself cannot be drawn. One column per
folder: the density map on top (log colour scale: fraction of the block's cells that are
edges), the degree profile below.

    diffuser viz pattern --n 16384 --preset diffuser --out runs/viz/diffuser
    /usr/bin/python3 scripts/plot_pattern.py runs/viz/diffuser --out runs/viz/pattern.png
"""
import os
import textwrap

from plot_common import (
    label_of, load_npy, parse_viz_folders, read_csv, read_json, require_matplotlib, save,
)


def main(argv=None):
    args = parse_viz_folders(__doc__, "pattern", "pattern.json", argv)
    plt, np = require_matplotlib()
    from matplotlib.colors import LogNorm

    k = len(args.folders)
    fig, axes = plt.subplots(2, k, figsize=(4.6 * k + 1.0, 6.6), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.1]}, layout="constrained")
    # One colour scale for every panel: the fraction of a block's cells that are edges.
    norm = LogNorm(vmin=1e-4, vmax=1.0)
    image = None
    for c, folder in enumerate(args.folders):
        meta = read_json(os.path.join(folder, "pattern.json"))
        values = load_npy(np, os.path.join(folder, "density.npy"))
        starts = np.asarray(meta["block_starts"], dtype=np.float64)
        sizes = np.diff(starts)
        n = meta["n"]
        if values.shape != (len(sizes), len(sizes)):
            raise SystemExit(f"{folder}: density.npy has shape {values.shape}, "
                             f"expected {len(sizes)} x {len(sizes)} (pattern.json)")
        density = values / np.outer(sizes, sizes)
        shown = np.where(density > 0, np.clip(density, 1e-4, 1.0), np.nan)
        ax = axes[0][c]
        image = ax.imshow(shown, cmap="viridis", interpolation="nearest", norm=norm,
                          extent=[0, n, n, 0])
        name = label_of(folder, meta)
        title = name
        if meta.get("spec") and meta["spec"] != name:
            title += "\n" + textwrap.fill(meta["spec"].replace(",", ", "), 48)
        ax.set_title(f"{title}\nn = {n:,}, nnz = {meta['nnz']:,} "
                     f"({meta['nnz'] / n:.0f} keys/query)", fontsize=9)
        ax.set_xlabel("key j")
        ax.set_ylabel("query i")
        ax.set_facecolor("white")
        rows = read_csv(os.path.join(folder, "degree.csv"))
        mid = np.array([(float(r["start"]) + float(r["end"]) - 1) / 2 for r in rows])
        out_mean = np.array([float(r["out_mean"]) for r in rows])
        in_mean = np.array([float(r["in_mean"]) for r in rows])
        ax = axes[1][c]
        ax.plot(mid, in_mean, color="tab:orange", linewidth=0.8, label="queries per key")
        ax.plot(mid, out_mean, color="tab:blue", linewidth=0.8, label="keys per query")
        top = max(out_mean.max(), in_mean.max())
        low = min(out_mean.min(), in_mean.min())
        if top > 8 * max(low, 1e-9):
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, top * 1.15)
        ax.set_xlim(0, n)
        ax.set_xlabel(f"token (mean over {n / len(rows):.0f}-token bins)" if len(rows) < n
                      else "token")
        ax.grid(alpha=0.3)
        if c == 0:
            ax.set_ylabel("degree")
            ax.legend(fontsize=7, loc="best")
    fig.colorbar(image, ax=[axes[0][c] for c in range(k)], fraction=0.03, pad=0.02,
                 label="fraction of the block's cells that are edges")
    save(fig, plt, args)


if __name__ == "__main__":
    main()
