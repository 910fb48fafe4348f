#!/usr/bin/env python3
"""SciPy baseline for bench/bench_spectral.cpp.

Loads the normalised adjacency M = D^-1/2 S D^-1/2 that the benchmark wrote as CSR arrays
(<dir>/<prefix>_indptr.npy int64, _indices.npy int32, _data.npy float64), runs
scipy.sparse.linalg.eigsh(M, k=2, which='LA', tol=TOL) -- the usual way to get the
second-largest eigenvalue mu2 and the gap lambda2 = 1 - mu2 -- and writes one JSON object with
the median time over repeats, the eigenvalues, the residual of the second Ritz pair, the extra
peak memory of the solve and whether ARPACK converged (ArpackNoConvergence is reported, not
raised).

When SciPy is missing, the script creates a virtual environment build/pyenv (with the system
site packages), installs SciPy there with pip, says so on stderr, and re-runs itself in it.
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, "build", "pyenv")


def ensure_scipy():
    try:
        import scipy  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(venv_python):
        sys.exit("bench_spectral_scipy: SciPy is still missing inside %s" % VENV)
    print("bench_spectral_scipy: SciPy not found for %s; installing it into %s"
          % (sys.executable, VENV), file=sys.stderr)
    if not os.path.exists(venv_python):
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", VENV])
    subprocess.check_call([venv_python, "-m", "pip", "install", "--quiet", "scipy", "numpy"])
    os.execv(venv_python, [venv_python] + sys.argv)


def status_bytes(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return 0.0


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--maxiter", type=int, default=None,
                    help="ARPACK restarts (default: SciPy's, n * 10)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the starting vector")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ensure_scipy()
    import numpy as np
    import scipy
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    base = os.path.join(args.dir, args.prefix)
    indptr = np.load(base + "_indptr.npy")
    indices = np.load(base + "_indices.npy")
    data = np.load(base + "_data.npy")
    n = indptr.shape[0] - 1
    m = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    v0 = np.random.default_rng(args.seed).standard_normal(n)

    times, extra_peak = [], []
    vals = vecs = None
    converged, note = True, ""
    peak_ok = True
    for _ in range(max(1, args.repeats)):
        peak_ok = reset_peak_rss() and peak_ok
        rss0 = status_bytes("VmRSS:")
        t0 = time.perf_counter()
        try:
            vals, vecs = eigsh(m, k=2, which="LA", tol=args.tol, v0=v0, maxiter=args.maxiter)
            converged, note = True, ""
        except ArpackNoConvergence as e:
            vals, vecs = e.eigenvalues, e.eigenvectors
            converged = False
            note = "ARPACK did not converge: %s" % e
        times.append(time.perf_counter() - t0)
        extra_peak.append(status_bytes("VmHWM:") - rss0)

    order = np.argsort(vals)[::-1] if vals is not None and len(vals) else []
    result = {
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "python": sys.executable,
        "call": "eigsh(M, k=2, which='LA', tol=%g, v0=seeded normal)" % args.tol,
        "n": int(n),
        "nnz": int(m.nnz),
        "matrix_bytes": int(data.nbytes + indices.nbytes + indptr.nbytes),
        "tol": args.tol,
        "seconds": {"median": float(np.median(times)), "all": times},
        "eigenvalues": [float(vals[i]) for i in order],
        "converged": converged,
        "note": note,
        "extra_peak_rss_bytes": max(extra_peak),
        "peak_rss_measured": peak_ok,
    }
    if len(order) >= 2:
        i = order[1]
        x = vecs[:, i]
        result["mu2"] = float(vals[i])
        result["lambda2"] = float(1.0 - vals[i])
        result["residual"] = float(np.linalg.norm(m @ x - vals[i] * x) / np.linalg.norm(x))
    else:
        result["mu2"] = result["lambda2"] = result["residual"] = None
    tmp = args.out + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    print("bench_spectral_scipy: %s converged=%s median %.3f s lambda2=%s"
          % (args.prefix, converged, result["seconds"]["median"], result["lambda2"]))


if __name__ == "__main__":
    main()
