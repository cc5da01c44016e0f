"""UMAP's defaults on the samples of an NPY file, for the stage tables of BENCHMARKS.md ("A
million points"): umap.UMAP() on all of them as float32 rows (2 components, n_jobs=2), timed
after a warm-up fit on 2,000 of them that compiles numba's functions; prints the wall time and
the process's peak RSS.

    PY=$(../shared/peers/setup.sh)
    $PY bench/umap_scale.py /tmp/d100k/images.npy [--out e.npy]
"""

import argparse
import resource
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--out")
    a = p.parse_args()
    import umap

    t = time.perf_counter()
    x = np.load(a.data, mmap_mode="r")
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    load = time.perf_counter() - t
    umap.UMAP(n_jobs=2).fit_transform(x[:2000])
    t = time.perf_counter()
    e = umap.UMAP(n_jobs=2).fit_transform(x)
    fit = time.perf_counter() - t
    if a.out:
        np.save(a.out, e.astype(np.float32))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"umap {umap.__version__}: {len(x)} samples of {x.shape[1]} values, load {load:.1f} s, "
          f"fit_transform {fit:.1f} s, peak RSS {peak:.2f} GB", flush=True)


if __name__ == "__main__":
    main()
