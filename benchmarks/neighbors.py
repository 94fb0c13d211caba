"""One neighbour-graph setting on held-out digits, seed by seed (issue 7's tuning runs).

Fits ``AdversarialAutoencoder(**params)`` on compare.py's 70/30 split of load_digits,
scores it with compare.py's ``evaluate`` (held-out 5-NN accuracy and trustworthiness,
k=10; held-out reconstruction MSE; MMD of the training codes to the prior; fit time) and
adds, per seed, the training rows' trustworthiness and "smoothed": the same two held-out
scores when each held-out row's code is replaced by the distance-weighted mean of its 5
nearest training rows' codes (umap-learn's way of placing new rows), which separates the
training layout's quality from the encoder's generalisation.

Usage: python benchmarks/neighbors.py [--seeds 0 1 2] [--params '{"n_neighbors": 15, "tol": null}']
"""

import argparse
import json
import warnings

import numpy as np
from compare import evaluate
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def evaluate_neighbors(params, seed, X_train, X_test, y_train, y_test):
    """compare.py's held-out scores of one fit, plus the training rows' trustworthiness
    and the smoothed scores."""
    model = AdversarialAutoencoder(random_state=seed, **params)
    scores = evaluate("AAE", model, X_train, X_test, y_train, y_test, as_images=False)
    Z_train = model.transform(X_train)
    distances, nearest = NearestNeighbors(n_neighbors=5).fit(X_train).kneighbors(X_test)
    weights = 1 / (distances + 1e-3)
    Z_smoothed = (Z_train[nearest] * weights[..., None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
    return dict(
        scores,
        seed=seed,
        train_trust=trustworthiness(X_train, Z_train, n_neighbors=10),
        smoothed_knn=heldout_knn_accuracy(Z_train, y_train, Z_smoothed, y_test, n_neighbors=5),
        smoothed_trust=trustworthiness(X_test, Z_smoothed, n_neighbors=10),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default='{"n_neighbors": 15, "tol": null}',
                        help="AdversarialAutoencoder parameters as JSON")
    args = parser.parse_args()
    params = json.loads(args.params)
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    print(f"params: {params}")
    print("| seed | 5-NN | trust | train trust | recon. MSE | MMD | fit s | smoothed 5-NN / trust |")
    print("|---|---|---|---|---|---|---|---|")
    runs = []
    for seed in args.seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = evaluate_neighbors(params, seed, *split)
        runs.append(run)
        print(f"| {seed} | {run['knn']:.3f} | {run['trust']:.3f} | {run['train_trust']:.3f} | {run['mse']:.3f} | "
              f"{run['mmd']:.4f} | {run['fit']:.1f} | {run['smoothed_knn']:.3f} / {run['smoothed_trust']:.3f} |",
              flush=True)
    mean = {key: np.mean([run[key] for run in runs]) for key in runs[0] if key not in ("seed", "transform", "train")}
    std = {key: np.std([run[key] for run in runs]) for key in mean}
    print(f"| mean | {mean['knn']:.3f} ± {std['knn']:.3f} | {mean['trust']:.3f} ± {std['trust']:.3f} | "
          f"{mean['train_trust']:.3f} | {mean['mse']:.3f} ± {std['mse']:.3f} | {mean['mmd']:.4f} | "
          f"{mean['fit']:.1f} | {mean['smoothed_knn']:.3f} / {mean['smoothed_trust']:.3f} |")


if __name__ == "__main__":
    main()
