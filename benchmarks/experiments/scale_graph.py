"""Scale check of the neighbour-graph option: 100,000 rows, time and peak memory.

Each configuration runs in its own subprocess, which generates the data
(``make_blobs``, 100,000 rows, 50 features, 20 centres), times the neighbour graph of
those rows built as a fit builds it (``sklearn_aae._neighbors.NeighborGraph``, on its
own, first, so that it includes numba's first compilation), then fits an
``AdversarialAutoencoder`` for a few epochs (the whole fit, which builds the graph
again) and reports the rows/s of ``transform`` on 10,000 more rows of the same blobs and
the peak resident memory of the process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``).
The plain model, fitted the same way, is the reference; the third configuration keeps
the training rows for ``transform_mode='neighbors'``, whose transform searches all of
them for each new row.

Usage: python benchmarks/experiments/scale_graph.py [--n-samples 100000] [--epochs 2] [--json PATH]
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common
from _common import Report, argument_parser, peak_mib, run_child

CONFIGURATIONS = ((None, "encoder"), (15, "encoder"), (15, "neighbors"))  # (n_neighbors, transform_mode)


def run_one(n_samples, epochs, n_neighbors, mode):
    from sklearn.datasets import make_blobs

    from sklearn_aae import AdversarialAutoencoder
    from sklearn_aae._neighbors import _NEGATIVE_SAMPLE_RATE, NeighborGraph, prior_code_scale
    from sklearn_aae.priors import resolve_prior

    warnings.filterwarnings("ignore")
    X, _ = make_blobs(n_samples=n_samples + 10_000, n_features=50, centers=20, random_state=0)
    X, X_new = X[:n_samples], X[n_samples:]
    model = AdversarialAutoencoder(n_neighbors=n_neighbors, max_iter=epochs, tol=None, transform_mode=mode,
                                   random_state=0)
    graph_seconds = 0.0
    if n_neighbors:
        code_scale = prior_code_scale(resolve_prior(model.prior, model.n_components))
        start = time.perf_counter()
        NeighborGraph(X, n_neighbors, min_dist=model.min_dist, code_scale=code_scale,
                      negative_sample_rate=_NEGATIVE_SAMPLE_RATE, random_state=np.random.RandomState(0),
                      device=torch.device("cpu"))
        graph_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(X)
    fit_seconds = time.perf_counter() - start
    model.transform(X_new[:100])
    start = time.perf_counter()
    model.transform(X_new)
    speed = len(X_new) / (time.perf_counter() - start)
    return dict(fit=fit_seconds, graph=graph_seconds, speed=speed, rss_mib=peak_mib(),
                losses={name: round(values[-1], 3) for name, values in model.loss_history_.items()})


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--child", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.n_samples, args.epochs, *args.child)))
        return
    report = Report(args, f"{args.n_samples:,} rows x 50 features, {args.epochs} epochs")
    report.table(["n_neighbors", "transform_mode", "graph build s", "fit s (incl. graph)", "transform rows/s",
                  "peak RSS MiB", "last losses"])
    for n_neighbors, mode in CONFIGURATIONS:
        r = run_child(__file__, json.dumps([n_neighbors, mode]), "--n-samples", args.n_samples, "--epochs", args.epochs)
        report.row([n_neighbors, mode, f"{r['graph']:.1f}", f"{r['fit']:.1f}", f"{r['speed']:,.0f}",
                    f"{r['rss_mib']:,.0f}", r["losses"]], n_neighbors=n_neighbors, transform_mode=mode, **r)


if __name__ == "__main__":
    main()
