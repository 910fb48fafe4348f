#!/usr/bin/python3
"""Receptive-field spread per hop from `diffuser viz receptive` folders.

Why: diffusion lets one query read keys it has no edge to; this shows how far its attention
mass travels hop by hop (row q of A^k, k = 0..K) and where the diffused row sum_k theta_k A^k
puts it. One column per folder: on top the mass per token bin and hop as an image (log colour
scale), below the same rows as lines (at most 8 hops drawn, evenly spaced, and the last), with
the diffused row in black. With `--image HxW` a third row shows the diffused row over the tokens
of an H x W image (tokens `--image-offset` .. offset + H·W - 1; the offset defaults to 1 when
n = H·W + 1, i.e. a CLS token first, else 0): which pixels the query reads.

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
        parser.add_argument("--image", help="HxW: also draw the diffused row as an H x W image")
        parser.add_argument("--image-offset", type=int, help="first image token (see above)")

    args = parse_viz_folders(__doc__, "receptive", "receptive.json", argv, own_options)
    plt, np = require_matplotlib()
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    image_shape = parse_image(args.image) if args.image else None
    k = len(args.folders)
    rows = 3 if image_shape else 2
    fig, axes = plt.subplots(rows, k, figsize=(5.6 * k, 3.3 * rows + (1.5 if image_shape else 0)),
                             squeeze=False, layout="constrained")
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
        ax.yaxis.set_major_locator(MaxNLocator(nbins=min(K + 1, 8), integer=True))
        ax.set_xlabel("key token")
        fig.colorbar(im, ax=ax, label=f"attention mass per {width:.0f}-token bin")
        ax = axes[1][c]
        colours = plt.cm.viridis(np.linspace(0.0, 0.9, K + 1))
        for h in drawn_hops(K):
            row = sums[h]
            mask = row > 0
            ax.plot(centres[mask], row[mask], color=colours[h], linewidth=0.9,
                    label=f"k = {h} (theta = {meta['theta'][h]:.3g})")
        mask = dsum > 0
        ax.plot(centres[mask], dsum[mask], color="black", linewidth=1.2,
                label="diffused $\\sum_k \\theta_k A^k$")
        ax.axvline(q, color="red", linewidth=0.6, linestyle=":")
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(dsum[mask].min() if mask.any() else 1e-12, 1e-12) / 2)
        ax.set_xlim(0, n)
        ax.set_xlabel("key token")
        ax.set_ylabel(f"mass per {width:.0f}-token bin")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
        if image_shape:
            draw_image(plt, np, LogNorm, axes[2][c], fig, diffused, q, image_shape,
                       args.image_offset, folder)
    save(fig, plt, args)


def parse_image(text):
    """'HxW' -> (H, W), positive integers."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise SystemExit(f"--image must be HxW with positive integers (got '{text}')")
    return int(parts[0]), int(parts[1])


def drawn_hops(K):
    """Hops 1..K drawn as lines: all of them up to 8, else 8 evenly spaced ones ending at K."""
    if K <= 8:
        return list(range(1, K + 1))
    return sorted({max(1, round(K * (i + 1) / 8)) for i in range(8)})


def draw_image(plt, np, LogNorm, ax, fig, diffused, q, shape, offset, folder):
    """The diffused row over an H x W image of tokens (log colour scale; zeros blank)."""
    h, w = shape
    n = diffused.shape[0]
    if offset is None:
        offset = 1 if n == h * w + 1 else 0
    if offset < 0 or offset + h * w > n:
        raise SystemExit(f"{folder}: --image {h}x{w} at offset {offset} does not fit n = {n}")
    pixels = diffused[offset:offset + h * w].reshape(h, w)
    positive = pixels[pixels > 0]
    if positive.size == 0:
        ax.text(0.5, 0.5, "no mass on the image", ha="center", va="center",
                transform=ax.transAxes)
    else:
        im = ax.imshow(np.where(pixels > 0, pixels, np.nan), cmap="magma_r", origin="upper",
                       interpolation="nearest",
                       norm=LogNorm(vmin=max(positive.min(), 1e-12), vmax=positive.max()))
        fig.colorbar(im, ax=ax, label="diffused attention mass per pixel")
    share = float(positive.sum())
    reach = int(positive.size)
    where = "a non-image token" if not offset <= q < offset + h * w else \
        f"pixel ({(q - offset) // w}, {(q - offset) % w})"
    ax.set_title(f"query {q} ({where}) over the {h}x{w} image:\n{reach:,} of {h * w:,} pixels "
                 f"reached, mass {share:.3g}", fontsize=9)
    ax.set_xlabel("column")
    ax.set_ylabel("row")


if __name__ == "__main__":
    main()
