"""Scale check of the neighbour-graph option: 100,000 rows, time and peak memory.

Each configuration runs in its own subprocess, which generates the data
(``make_blobs``, 100,000 rows, 50 features, 20 centres), fits an
``AdversarialAutoencoder`` for a few epochs and reports the time spent building the
neighbour graph, the whole fit time, the rows/s of ``transform`` on 10,000 more rows of
the same blobs and the peak resident memory of fit and transform
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The plain model, fitted the same way,
is the reference; the third configuration keeps the training rows for
``transform_mode='neighbors'``, whose transform searches all of them for each new row.

Usage: python benchmarks/scale_graph.py [--n-samples 100000] [--epochs 2]
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import torch

CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from sklearn.datasets import make_blobs
from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._base import BaseAdversarialAutoencoder

n_samples, epochs, n_neighbors, mode = json.loads(sys.argv[1])
X, _ = make_blobs(n_samples=n_samples + 10_000, n_features=50, centers=20, random_state=0)
X, X_new = X[:n_samples], X[n_samples:]
graph_seconds = []
build = BaseAdversarialAutoencoder._build_neighbor_graph

def timed_build(self, *args):
    start = time.perf_counter()
    graph = build(self, *args)
    graph_seconds.append(time.perf_counter() - start)
    return graph

BaseAdversarialAutoencoder._build_neighbor_graph = timed_build
start = time.perf_counter()
model = AdversarialAutoencoder(n_neighbors=n_neighbors, max_iter=epochs, tol=None, transform_mode=mode,
                               random_state=0).fit(X)
fit_seconds = time.perf_counter() - start
model.transform(X_new[:100])
start = time.perf_counter()
model.transform(X_new)
speed = len(X_new) / (time.perf_counter() - start)
print(json.dumps(dict(fit=fit_seconds, graph=graph_seconds[0] if n_neighbors else 0.0, speed=speed,
                      rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      losses={k: round(v[-1], 3) for k, v in model.loss_history_.items()})))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    print(f"# scale_graph.py on {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.n_samples:,} rows x 50 features, {args.epochs} epochs\n")
    print("| n_neighbors | transform_mode | graph build s | fit s (incl. graph) | transform rows/s | peak RSS MiB "
          "| last losses |")
    print("|---|---|---|---|---|---|---|")
    for n_neighbors, mode in ((None, "encoder"), (15, "encoder"), (15, "neighbors")):
        config = json.dumps([args.n_samples, args.epochs, n_neighbors, mode])
        result = subprocess.run([sys.executable, "-c", CHILD, config], capture_output=True, text=True, check=True)
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"| {n_neighbors} | {mode} | {r['graph']:.1f} | {r['fit']:.1f} | {r['speed']:,.0f} | "
              f"{r['rss_mib']:,.0f} | {r['losses']} |", flush=True)


if __name__ == "__main__":
    main()
