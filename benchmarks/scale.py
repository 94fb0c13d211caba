"""Large data side by side: umap-learn and the default AdversarialAutoencoder, 10k to 1M rows.

Data: ``make_classification``'s design (``make_data``) with 50 features (20 informative),
10 classes of 2 clusters each, float64, built in chunks; 2,000 more rows are held out. Each
(size, method) runs in a fresh subprocess, so ``ru_maxrss`` (peak resident memory) is its
own; the subprocess first warms umap-learn's numba kernels on 5,000 rows (UMAP fit and
transform, and a one-epoch fit of the autoencoder, whose neighbour graph uses the same
kernels), so no compilation is timed.
For each it reports:

- fit seconds, and the autoencoder's over umap-learn's on the same rows;
- peak RSS of the subprocess, and the data's own size;
- held-out 5-NN accuracy (a k-NN classifier on the training embedding of a 20,000-row
  sample of the training rows, scored on the 2,000 held-out rows' embedding) and
  trustworthiness (k=10) of the held-out rows' embedding;
- transform rows/s of the held-out rows (warm).

Both run their defaults with ``random_state=0``. ``--rows 1000000`` runs one size on its
own (a 1M-row UMAP fit takes most of an hour on 2 cores).

Usage: python benchmarks/scale.py [--rows 10000 100000] [--methods UMAP AAE] [--json PATH]
"""

import argparse
import json
import time
import warnings

import numpy as np
from _common import Report, argument_parser, peak_mib, rows_per_second, run_child

N_FEATURES = 50
N_HELD_OUT = 2000
N_KNN_TRAIN = 20_000


def make_data(n_samples):
    """Training rows and held-out rows with their labels, built chunk by chunk.

    ``make_classification``'s design, written out so that chunks are new draws of the same
    clusters: 20 clusters (2 per class) at vertices of a hypercube of side 4 in 20
    informative dimensions, each with its own random covariance, 10 redundant features
    (linear combinations of the informative ones) and 20 noise features.
    """
    rng = np.random.default_rng(0)
    n_clusters, n_informative = 20, 20
    centres = rng.choice([-2.0, 2.0], size=(n_clusters, n_informative))
    shapes = rng.uniform(-1, 1, size=(n_clusters, n_informative, n_informative))
    redundant = rng.uniform(-1, 1, size=(n_informative, 10))
    total = n_samples + N_HELD_OUT
    X = np.empty((total, N_FEATURES))
    y = np.empty(total, dtype=np.int64)
    for start in range(0, total, 100_000):
        rows = min(100_000, total - start)
        cluster = rng.integers(n_clusters, size=rows)
        informative = rng.normal(size=(rows, n_informative))
        for k in range(n_clusters):
            mine = cluster == k
            informative[mine] = informative[mine] @ shapes[k] + centres[k]
        X[start:start + rows, :n_informative] = informative
        X[start:start + rows, n_informative:n_informative + 10] = informative @ redundant
        X[start:start + rows, n_informative + 10:] = rng.normal(size=(rows, N_FEATURES - n_informative - 10))
        y[start:start + rows] = cluster % 10
    return X[:n_samples], y[:n_samples], X[n_samples:], y[n_samples:]


def run_one(n_samples, method):
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import KNeighborsClassifier

    warnings.filterwarnings("ignore")
    import umap

    from sklearn_aae import AdversarialAutoencoder

    X, y, X_test, y_test = make_data(n_samples)
    # Above 4,096 rows both search neighbours with NN-descent, which numba compiles on its
    # first call: compile it, and the autoencoder's training step, before timing.
    warm = X[:5000]
    umap.UMAP(random_state=0).fit(warm).transform(warm[:100])
    if method == "AAE":
        AdversarialAutoencoder(max_iter=1, random_state=0).fit(warm)
    model = umap.UMAP(random_state=0) if method == "UMAP" else AdversarialAutoencoder(random_state=0)
    start = time.perf_counter()
    model.fit(X)
    fit_seconds = time.perf_counter() - start
    peak = peak_mib()
    sample = np.random.default_rng(0).permutation(n_samples)[:N_KNN_TRAIN]
    Z_train = model.embedding_[sample] if method == "UMAP" else model.transform(X[sample])
    Z_test = model.transform(X_test)
    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y[sample]).score(Z_test, y_test)
    return dict(n_samples=n_samples, method=method, data_mib=X.nbytes / 2**20, fit_seconds=fit_seconds,
                peak_mib=peak, knn_accuracy=knn, trustworthiness=trustworthiness(X_test, Z_test, n_neighbors=10),
                transform_rows_per_second=rows_per_second(model.transform, X_test),
                epochs=getattr(model, "n_iter_", None))


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--methods", nargs="+", default=["UMAP", "AAE"], choices=["UMAP", "AAE"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(int(args.child[0]), args.child[1])))
        return
    report = Report(args, f"{N_FEATURES} float64 features, defaults with random_state=0, one subprocess each")
    report.table(["rows", "method", "fit s", "fit / UMAP fit", "peak RSS MiB", "data MiB", "held-out 5-NN",
                  "trustworthiness k=10", "transform rows/s", "epochs"])
    for n_samples in args.rows:
        umap_seconds = None
        for method in args.methods:
            r = run_child(__file__, n_samples, method)
            if method == "UMAP":
                umap_seconds = r["fit_seconds"]
            ratio = f"{r['fit_seconds'] / umap_seconds:.2f}" if umap_seconds else "—"
            report.row([f"{n_samples:,}", method, f"{r['fit_seconds']:.1f}", ratio, f"{r['peak_mib']:.0f}",
                        f"{r['data_mib']:.0f}", f"{r['knn_accuracy']:.3f}", f"{r['trustworthiness']:.3f}",
                        f"{r['transform_rows_per_second']:,.0f}", r["epochs"] or "—"], **r)


if __name__ == "__main__":
    main()
