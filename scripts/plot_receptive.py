#!/usr/bin/python3
"""Receptive-field spread per hop from `diffuser viz receptive` folders.

Why: diffusion lets one query read keys it has no edge to; this shows how far its attention
mass travels hop by hop (row q of A^k, k = 0..K) and where the diffused row sum_k theta_k A^k
puts it. One column per folder: on top the mass per token bin and hop as an image (log colour
scale), below the same rows as lines, with the diffused row in black.

    diffuser viz receptive --n 4096 --preset diffuser --query 2048 --out runs/viz/rf
    /usr/bin/python3 scripts/plot_receptive.py runs/viz/rf --out runs/viz/receptive.png
"""
import os
import textwrap

from plot_common import (
    label_of, load_npy, parse_viz_folders, read_json, require_matplotlib, save,
)


def binned(np, row, bins):
    """Sums of `row` over `bins` contiguous token bins (the same cut as `diffuser viz`)."""
    n = row.shape[-1]
    if n <= bins:
        return row, np.arange(n, dtype=np.float64)
    edges = (np.arange(bins + 1) * n) // bins
    sums = np.add.reduceat(row, edges[:-1], axis=-1)
    return sums, (edges[:-1] + edges[1:] - 1) / 2.0


def main(argv=None):
    def own_options(parser):
        parser.add_argument("--bins", type=int, default=512, help="token bins across the sequence")

    args = parse_viz_folders(__doc__, "receptive", "receptive.json", argv, own_options)
    plt, np = require_matplotlib()
    from matplotlib.colors import LogNorm

    k = len(args.folders)
    fig, axes = plt.subplots(2, k, figsize=(5.6 * k, 6.6), squeeze=False, layout="constrained")
    for c, folder in enumerate(args.folders):
        meta = read_json(os.path.join(folder, "receptive.json"))
        hops = load_npy(np, os.path.join(folder, "hops.npy"))
        diffused = load_npy(np, os.path.join(folder, "diffused.npy"))
        n, q, K = meta["n"], meta["query"], hops.shape[0] - 1
        if hops.shape[1] != n or diffused.shape != (n,):
            raise SystemExit(f"{folder}: hops.npy {hops.shape} / diffused.npy {diffused.shape} "
                             f"do not match n = {n} (receptive.json)")
        sums, centres = binned(np, hops, args.bins)
        dsum, _ = binned(np, diffused, args.bins)
        width = n / sums.shape[1]
        ax = axes[0][c]
        positive = sums[sums > 0]
        image = np.where(sums > 0, sums, np.nan)
        im = ax.imshow(image, aspect="auto", interpolation="nearest", cmap="magma_r",
                       norm=LogNorm(vmin=max(positive.min(), 1e-9), vmax=1.0),
                       extent=[0, n, K + 0.5, -0.5])
        title = textwrap.fill(label_of(folder, meta).replace(",", ", "), 50)
        ax.set_title(f"{title}\nn = {n:,}, query {q}, {meta['weights']} weights, "
                     f"{meta['diffusion']}", fontsize=9)
        ax.set_ylabel("hop k (row q of $A^k$)")
        ax.set_yticks(range(K + 1))
        ax.set_xlabel("key token")
        fig.colorbar(im, ax=ax, label=f"attention mass per {width:.0f}-token bin")
        ax = axes[1][c]
        colours = plt.cm.viridis(np.linspace(0.0, 0.9, K + 1))
        for h in range(1, K + 1):
            row = sums[h]
            mask = row > 0
            ax.plot(centres[mask], row[mask], color=colours[h], linewidth=0.9,
                    label=f"k = {h} (theta = {meta['theta'][h]:.3g})")
        mask = dsum > 0
        ax.plot(centres[mask], dsum[mask], color="black", linewidth=1.2,
                label="diffused $\\sum_k \\theta_k A^k$")
        ax.axvline(q, color="red", linewidth=0.6, linestyle=":")
        ax.set_yscale("log")
        ax.set_xlim(0, n)
        ax.set_xlabel("key token")
        ax.set_ylabel(f"mass per {width:.0f}-token bin")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    save(fig, plt, args)


if __name__ == "__main__":
    main()
