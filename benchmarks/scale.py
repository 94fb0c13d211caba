"""Peak memory and speed of fitting large data: 100,000 and 1,000,000 rows × 50 features.

Each size runs in a fresh subprocess, so ``ru_maxrss`` (the peak resident memory) belongs
to that size alone. The subprocess builds the data (float64, 50 features: a mixture of 10
Gaussian blobs), records the peak RSS so far, then fits an AdversarialAutoencoder with
default settings except ``max_iter`` (the default 200 epochs of 1 M rows would take
hours here; memory does not grow with epochs, since every epoch reuses the same buffers)
and records the peak RSS again. "fit adds" is the difference: what training needs beyond
the data itself. It then times ``transform`` of all rows.

Usage: python benchmarks/scale.py [--sizes 100000 1000000] [--epochs 1] [--json PATH]
"""

import argparse
import json
import time
import warnings

import numpy as np
from _common import Report, argument_parser, peak_mib, run_child

N_FEATURES = 50


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
    parser = argument_parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.epochs)))
        return
    report = Report(args, f"AdversarialAutoencoder defaults, max_iter={args.epochs}, {N_FEATURES} float64 features")
    report.table(["rows", "data MiB", "peak RSS before fit MiB", "peak RSS after fit MiB", "fit adds MiB",
                  "training rows/s", "transform rows/s", "est. 200 epochs"])
    for n_samples in args.sizes:
        r = run_child(__file__, n_samples, "--epochs", args.epochs)
        full_hours = 200 * r["n_samples"] / r["rows_per_second"] / 3600
        report.row([f"{r['n_samples']:,}", f"{r['data_mib']:.0f}", f"{r['peak_before_fit_mib']:.0f}",
                    f"{r['peak_after_fit_mib']:.0f}", f"{r['peak_after_fit_mib'] - r['peak_before_fit_mib']:.0f}",
                    f"{r['rows_per_second']:,.0f}", f"{r['transform_rows_per_second']:,.0f}", f"{full_hours:.1f} h"],
                   **r)


if __name__ == "__main__":
    main()
