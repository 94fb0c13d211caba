"""Peak memory and speed of fitting large data: 100,000 and 1,000,000 rows × 50 features.

Each size runs in a fresh subprocess, so ``ru_maxrss`` (the peak resident memory) belongs
to that size alone. The subprocess builds the data (float64, 50 features: a mixture of 10
Gaussian blobs), records the peak RSS so far, then fits an AdversarialAutoencoder with
default settings except ``max_iter`` (the default 200 epochs of 1 M rows would take
hours here; memory does not grow with epochs, since every epoch reuses the same buffers)
and records the peak RSS again. "fit adds" is the difference: what training needs beyond
the data itself. It then times ``transform`` of all rows.

Usage: python benchmarks/scale.py [--sizes 100000 1000000] [--epochs 1]
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

N_FEATURES = 50


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_one(n_samples, epochs):
    import torch
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_aae import AdversarialAutoencoder

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=5.0, size=(10, N_FEATURES))
    X = np.empty((n_samples, N_FEATURES))
    for start in range(0, n_samples, 65536):  # in chunks, so no temporary raises the peak
        rows = X[start:start + 65536]
        rows[:] = centres[rng.integers(10, size=rows.shape[0])] + rng.normal(size=rows.shape)
    before = peak_mib()
    start = time.perf_counter()
    model = AdversarialAutoencoder(max_iter=epochs, random_state=0).fit(X)
    fit_seconds = time.perf_counter() - start
    after_fit = peak_mib()
    start = time.perf_counter()
    model.transform(X)
    transform_seconds = time.perf_counter() - start
    return dict(n_samples=n_samples, data_mib=X.nbytes / 2**20, peak_before_fit_mib=before,
                peak_after_fit_mib=after_fit, peak_after_transform_mib=peak_mib(), epochs=model.n_iter_,
                fit_seconds=fit_seconds, rows_per_second=n_samples * model.n_iter_ / fit_seconds,
                transform_rows_per_second=n_samples / transform_seconds, threads=torch.get_num_threads())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.epochs)))
        return
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores; AdversarialAutoencoder defaults, "
          f"max_iter={args.epochs}, {N_FEATURES} float64 features.\n")
    print("| rows | data MiB | peak RSS before fit MiB | peak RSS after fit MiB | fit adds MiB | "
          "training rows/s | transform rows/s | est. 200 epochs |")
    print("|---|---|---|---|---|---|---|---|")
    for n_samples in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n_samples), "--epochs", str(args.epochs)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        full_hours = 200 * r["n_samples"] / r["rows_per_second"] / 3600
        print(f"| {r['n_samples']:,} | {r['data_mib']:.0f} | {r['peak_before_fit_mib']:.0f} | "
              f"{r['peak_after_fit_mib']:.0f} | {r['peak_after_fit_mib'] - r['peak_before_fit_mib']:.0f} | "
              f"{r['rows_per_second']:,.0f} | {r['transform_rows_per_second']:,.0f} | {full_hours:.1f} h |")


if __name__ == "__main__":
    main()
