"""Compare 2-D embeddings of held-out rows: PCA, Isomap, t-SNE, UMAP and sklearn_aae.

Data: load_digits (stratified 70/30 split, seed 0) and make_swiss_roll (3,000 rows, its
position along the roll cut into 6 classes, same kind of split). For every method the
same split, the same seed, one run:

- 5-NN accuracy: k-NN fitted on the training codes, scored on the held-out codes;
- trustworthiness (k=10) of the held-out codes;
- fit seconds, transform rows/s (held-out rows), training samples/s for the AAEs.

t-SNE has no transform: it embeds train and held-out rows together (transductively), which
favours it; its row is marked so.

Usage: python benchmarks/compare.py [--quick]
"""

import argparse
import platform
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits, make_swiss_roll
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, Isomap
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def datasets():
    X, y = load_digits(return_X_y=True)
    yield "digits", X, y
    X, t = make_swiss_roll(n_samples=3000, noise=0.5, random_state=0)
    yield "swiss roll", X, np.digitize(t, np.quantile(t, np.linspace(0, 1, 7)[1:-1]))


def methods(max_iter):
    import umap

    aae = dict(random_state=0) if max_iter is None else dict(random_state=0, max_iter=max_iter)
    return {
        "PCA": lambda: PCA(n_components=2, random_state=0),
        "Isomap": lambda: Isomap(n_components=2),
        "t-SNE (transductive)": lambda: TSNE(n_components=2, random_state=0),
        "UMAP": lambda: umap.UMAP(n_components=2, random_state=0),
        "AAE gaussian": lambda: AdversarialAutoencoder(prior="gaussian", **aae),
        "AAE gaussian_mixture": lambda: AdversarialAutoencoder(prior="gaussian_mixture", **aae),
        "AAE swiss_roll": lambda: AdversarialAutoencoder(prior="swiss_roll", **aae),
    }


def rows_per_second(transform, X, min_seconds=0.5):
    n_rows, start = 0, time.perf_counter()
    while True:
        transform(X)
        n_rows += len(X)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return n_rows / elapsed


def evaluate(name, make, X_train, X_test, y_train, y_test):
    model = make()
    start = time.perf_counter()
    if name.startswith("t-SNE"):
        Z = model.fit_transform(np.vstack([X_train, X_test]))
        Z_train, Z_test = Z[: len(X_train)], Z[len(X_train):]
        fit_seconds, speed = time.perf_counter() - start, float("nan")
    else:
        Z_train = model.fit(X_train).transform(X_train)
        fit_seconds = time.perf_counter() - start
        Z_test = model.transform(X_test)
        speed = rows_per_second(model.transform, X_test)
    train_speed = getattr(model, "t_", np.nan) / fit_seconds
    return dict(
        knn=heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5),
        trust=trustworthiness(X_test, Z_test, n_neighbors=10),
        fit=fit_seconds, transform=speed, train=train_speed,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="AAEs with max_iter=5 (a smoke run)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)

    print(f"# compare.py on {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print("| data | method | 5-NN acc (held-out) | trustworthiness k=10 | fit s | transform rows/s | train samples/s |")
    print("|---|---|---|---|---|---|---|")
    for data_name, X, y in datasets():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        for name, make in methods(5 if args.quick else None).items():
            r = evaluate(name, make, X_train, X_test, y_train, y_test)
            print(f"| {data_name} | {name} | {r['knn']:.3f} | {r['trust']:.3f} | {r['fit']:.1f} | "
                  f"{r['transform']:,.0f} | {r['train']:,.0f} |".replace("nan", "—"), flush=True)


if __name__ == "__main__":
    main()
