"""Compare 2-D embeddings of held-out rows: PCA, Isomap, t-SNE, UMAP and sklearn_aae.

Data: load_digits (stratified 70/30 split, seed 0) and make_swiss_roll (3,000 rows, its
position along the roll cut into 6 classes, same kind of split). For every method the
same split, the same seed, one run:

- 5-NN accuracy: k-NN fitted on the training codes, scored on the held-out codes;
- trustworthiness (k=10) of the held-out codes;
- fit seconds, transform rows/s (held-out rows), training samples/s for the AAEs;
- for models with an inverse_transform, the held-out reconstruction error (mean squared
  error on features standardised with the training rows' statistics), and for the AAEs
  the MMD between the training codes and as many prior samples (prior matching).

"+ neighbors" rows turn on UMAP's graph loss (``n_neighbors=15``, issue 7) and run all
max_iter epochs (``tol=None``): held-out neighbourhoods keep improving after the
reconstruction loss has settled. "+ neighbor transform" rows add
``transform_mode='neighbors'``: held-out rows are placed among the training codes as
umap-learn's ``transform`` places them, instead of by the encoder (the training codes of
the k-NN classifier and the MMD are placed the same way, through ``transform``).

A second table follows the ALAE paper's protocol on digits: 1-NN and linear-SVM
(LinearSVC) accuracy on held-out codes at n_components 2 and 16 for PCA, AAE and ALAE,
with each model's held-out reconstruction error; "+ neighbors" rows add the graph loss
(``n_neighbors=15``) to the AAE and ALAE there too.

t-SNE has no transform: it embeds train and held-out rows together (transductively), which
favours it; its row is marked so. Stochastic methods run once per seed (default 0, 1, 2)
and the table gives mean ± standard deviation; "8x8 images in" feeds the same digits as
(n, 8, 8) images, so the AAE scales all pixels with one mean and scale (scaling='auto').

Usage: python benchmarks/compare.py [--quick] [--seeds 0 1 2] [--methods UMAP "AAE gaussian" ...]
                                    [--data digits "swiss roll"] [--tables embeddings protocol]
                                    [--protocol-methods PCA ALAE ...] [--protocol-components 16]
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import torch
from scipy.sparse import SparseEfficiencyWarning
from sklearn.datasets import load_digits, make_swiss_roll
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, Isomap
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, mmd_rbf, trustworthiness

# The neighbourhood-preserving option as benchmarked (see RESULTS.md for how it was tuned).
NEIGHBORS = dict(n_neighbors=15, tol=None)
PLACED = dict(NEIGHBORS, transform_mode="neighbors")


def datasets():
    X, y = load_digits(return_X_y=True)
    yield "digits", X, y
    X, t = make_swiss_roll(n_samples=3000, noise=0.5, random_state=0)
    yield "swiss roll", X, np.digitize(t, np.quantile(t, np.linspace(0, 1, 7)[1:-1]))


def methods(max_iter):
    """name -> (factory(seed), input form); 'images' feeds digits as 8x8 images."""
    import umap

    aae = {} if max_iter is None else dict(max_iter=max_iter)
    return {
        "PCA": (lambda seed: PCA(n_components=2, random_state=seed), "rows"),
        "Isomap": (lambda seed: Isomap(n_components=2), "rows"),
        "t-SNE (transductive)": (lambda seed: TSNE(n_components=2, random_state=seed), "rows"),
        "UMAP": (lambda seed: umap.UMAP(n_components=2, random_state=seed), "rows"),
        "AAE gaussian": (lambda seed: AdversarialAutoencoder(prior="gaussian", random_state=seed, **aae), "rows"),
        "AAE gaussian, 8x8 images in": (
            lambda seed: AdversarialAutoencoder(prior="gaussian", random_state=seed, **aae), "images"),
        "AAE gaussian_mixture": (
            lambda seed: AdversarialAutoencoder(prior="gaussian_mixture", random_state=seed, **aae), "rows"),
        "AAE swiss_roll": (lambda seed: AdversarialAutoencoder(prior="swiss_roll", random_state=seed, **aae), "rows"),
        "ALAE gaussian": (lambda seed: ALAE(random_state=seed, **aae), "rows"),
        "AAE gaussian + neighbors": (
            lambda seed: AdversarialAutoencoder(prior="gaussian", random_state=seed, **NEIGHBORS, **aae), "rows"),
        "AAE gaussian_mixture + neighbors": (
            lambda seed: AdversarialAutoencoder(prior="gaussian_mixture", random_state=seed, **NEIGHBORS, **aae),
            "rows"),
        "AAE swiss_roll + neighbors": (
            lambda seed: AdversarialAutoencoder(prior="swiss_roll", random_state=seed, **NEIGHBORS, **aae), "rows"),
        "ALAE gaussian + neighbors": (lambda seed: ALAE(random_state=seed, **NEIGHBORS, **aae), "rows"),
        "AAE gaussian + neighbor transform": (
            lambda seed: AdversarialAutoencoder(prior="gaussian", random_state=seed, **PLACED, **aae), "rows"),
        "AAE gaussian_mixture + neighbor transform": (
            lambda seed: AdversarialAutoencoder(prior="gaussian_mixture", random_state=seed, **PLACED, **aae),
            "rows"),
        "AAE swiss_roll + neighbor transform": (
            lambda seed: AdversarialAutoencoder(prior="swiss_roll", random_state=seed, **PLACED, **aae), "rows"),
        "ALAE gaussian + neighbor transform": (lambda seed: ALAE(random_state=seed, **PLACED, **aae), "rows"),
    }


def protocol_models(n_components, max_iter):
    """The ALAE paper's comparison: linear and 1-NN probes on held-out codes."""
    kw = {} if max_iter is None else dict(max_iter=max_iter)
    return {
        "PCA": lambda seed: PCA(n_components=n_components, random_state=seed),
        "AAE": lambda seed: AdversarialAutoencoder(n_components=n_components, random_state=seed, **kw),
        "ALAE": lambda seed: ALAE(n_components=n_components, random_state=seed, **kw),
        "AAE + neighbors": lambda seed: AdversarialAutoencoder(n_components=n_components, random_state=seed,
                                                               **NEIGHBORS, **kw),
        "ALAE + neighbors": lambda seed: ALAE(n_components=n_components, random_state=seed, **NEIGHBORS, **kw),
    }


def probe(model, X_train, X_test, y_train, y_test):
    """1-NN and linear-SVM accuracy on held-out codes, and held-out reconstruction error
    (mean squared error on features standardised with the training rows' statistics)."""
    Z_train, Z_test = model.fit(X_train).transform(X_train), model.transform(X_test)
    scale = np.where(X_train.std(axis=0) > 0, X_train.std(axis=0), 1.0)
    error = np.mean(((model.inverse_transform(Z_test) - X_test) / scale) ** 2)
    return dict(
        one_nn=KNeighborsClassifier(n_neighbors=1).fit(Z_train, y_train).score(Z_test, y_test),
        svm=LinearSVC(max_iter=10000).fit(Z_train, y_train).score(Z_test, y_test),
        mse=error,
    )


def rows_per_second(transform, X, min_seconds=0.5):
    n_rows, start = 0, time.perf_counter()
    while True:
        transform(X)
        n_rows += len(X)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return n_rows / elapsed


def reconstruction_mse(model, Z_test, X_train, X_test):
    """Held-out reconstruction error of codes Z_test, on features standardised with the
    training rows' statistics."""
    scale = np.where(X_train.std(axis=0) > 0, X_train.std(axis=0), 1.0)
    return np.mean(((model.inverse_transform(Z_test).reshape(X_test.shape) - X_test) / scale) ** 2)


def evaluate(name, model, X_train, X_test, y_train, y_test, as_images):
    fit_train, fit_test = (X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8)) if as_images else (X_train, X_test)
    start = time.perf_counter()
    if name.startswith("t-SNE"):
        Z = model.fit_transform(np.vstack([X_train, X_test]))
        Z_train, Z_test = Z[: len(X_train)], Z[len(X_train):]
        fit_seconds, speed = time.perf_counter() - start, float("nan")
    else:
        Z_train = model.fit(fit_train).transform(fit_train)
        fit_seconds = time.perf_counter() - start
        Z_test = model.transform(fit_test)
        speed = rows_per_second(model.transform, fit_test)
    return dict(code_scores(model, Z_train, Z_test, X_train, X_test, y_train, y_test),
                fit=fit_seconds, transform=speed, train=getattr(model, "t_", np.nan) / fit_seconds)


def code_scores(model, Z_train, Z_test, X_train, X_test, y_train, y_test):
    """Held-out 5-NN accuracy and trustworthiness of the codes, and for the autoencoders
    their held-out reconstruction error and (AAE) the MMD of the training codes to the prior."""
    mse = mmd = float("nan")
    if hasattr(model, "prior_"):
        mse = reconstruction_mse(model, Z_test, X_train, X_test)
        if isinstance(model, AdversarialAutoencoder):
            mmd = mmd_rbf(Z_train, model.prior_.sample(len(Z_train), random_state=0))
    return dict(
        knn=heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5),
        trust=trustworthiness(X_test, Z_test, n_neighbors=10),
        mse=mse, mmd=mmd,
    )


def summarise(runs, key, fmt):
    values = np.array([run[key] for run in runs])
    if np.isnan(values).all():
        return "—"
    text = format(values.mean(), fmt)
    spread = len(values) > 1 and key in ("knn", "trust", "one_nn", "svm", "mse", "mmd")
    return text + (f" ± {format(values.std(), fmt)}" if spread else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="AAEs with max_iter=5 (a smoke run)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="random_state of every stochastic method; the table gives mean ± std")
    parser.add_argument("--methods", nargs="+", help="run only these rows of the first table (names as printed); "
                        "skips the second table")
    parser.add_argument("--data", nargs="+", help="run only these data sets of the first table; skips the second")
    parser.add_argument("--tables", nargs="+", choices=["embeddings", "protocol"], default=["embeddings", "protocol"])
    parser.add_argument("--protocol-methods", nargs="+", help="run only these rows of the protocol table")
    parser.add_argument("--protocol-components", type=int, nargs="+", default=[2, 16], choices=[2, 16])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=SparseEfficiencyWarning)

    print(f"# compare.py on {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), seeds {args.seeds}\n")
    if "embeddings" in args.tables:
        embeddings_table(args)
    if "protocol" in args.tables and not (args.methods or args.data):
        protocol_table(args)


def embeddings_table(args):
    print("| data | method | 5-NN acc (held-out) | trustworthiness k=10 | fit s | transform rows/s | train samples/s "
          "| reconstruction MSE (held-out) | MMD(codes, prior) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for data_name, X, y in datasets():
        if args.data and data_name not in args.data:
            continue
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        for name, (make, form) in methods(5 if args.quick else None).items():
            if (form == "images" and data_name != "digits") or (args.methods and name not in args.methods):
                continue
            seeds = args.seeds if name not in ("PCA", "Isomap") else args.seeds[:1]
            runs = [evaluate(name, make(seed), X_train, X_test, y_train, y_test, form == "images") for seed in seeds]
            print(f"| {data_name} | {name} | {summarise(runs, 'knn', '.3f')} | {summarise(runs, 'trust', '.3f')} | "
                  f"{summarise(runs, 'fit', '.1f')} | {summarise(runs, 'transform', ',.0f')} | "
                  f"{summarise(runs, 'train', ',.0f')} | {summarise(runs, 'mse', '.3f')} | "
                  f"{summarise(runs, 'mmd', '.4f')} |", flush=True)


def protocol_table(args):
    print("\n## ALAE protocol on digits: probes of held-out codes, held-out reconstruction\n")
    print("| n_components | method | 1-NN acc | linear-SVM acc | reconstruction MSE (standardised) |")
    print("|---|---|---|---|---|")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    for n_components in args.protocol_components:
        for name, make in protocol_models(n_components, 5 if args.quick else None).items():
            if args.protocol_methods and name not in args.protocol_methods:
                continue
            seeds = args.seeds[:1] if name == "PCA" else args.seeds
            runs = [probe(make(seed), X_train, X_test, y_train, y_test) for seed in seeds]
            print(f"| {n_components} | {name} | {summarise(runs, 'one_nn', '.3f')} | {summarise(runs, 'svm', '.3f')} | "
                  f"{summarise(runs, 'mse', '.3f')} |", flush=True)


if __name__ == "__main__":
    main()
