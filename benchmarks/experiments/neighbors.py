"""One neighbour-graph setting on held-out digits, seed by seed (issue 7's tuning runs).

Fits ``AdversarialAutoencoder(**params)`` on compare.py's 70/30 split of load_digits,
scores it with compare.py's ``evaluate`` (held-out 5-NN accuracy and trustworthiness,
k=10; held-out reconstruction MSE; MMD of the training codes to the prior; fit time) and
adds, per seed, the training rows' trustworthiness and "smoothed": the same two held-out
scores when each held-out row's code is replaced by the distance-weighted mean of its 5
nearest training rows' codes (umap-learn's way of placing new rows), which separates the
training layout's quality from the encoder's generalisation, and "UMAP-placed": the
same scores when umap-learn's own ``transform`` (nearest training rows, then its
optimisation against fixed training positions) places the held-out rows over the AAE's
training codes, in the graph loss's units, and "neighbor transform": the same fit's
``transform_mode='neighbors'`` (the model is fitted with it, the other columns use its
encoder), with its held-out reconstruction error and rows/s.

``--references`` first prints, per seed, UMAP's own held-out scores and those of an MLP of
the encoder's size trained to map the training rows onto UMAP's training embedding (a
parametric map fitted to UMAP's layout; plain, and on 10 noisy copies of each row).

Usage: python benchmarks/neighbors.py [--seeds 0 1 2] [--params '{"n_neighbors": 15, "tol": null}'] [--references]
"""

import argparse
import json
import warnings

import numpy as np
import umap
from compare import code_scores, evaluate
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def evaluate_neighbors(params, seed, X_train, X_test, y_train, y_test):
    """compare.py's held-out scores of one fit through the encoder, plus the training
    rows' trustworthiness, the smoothed, the UMAP-placed and the neighbour-transform scores."""
    model = AdversarialAutoencoder(random_state=seed, **{"transform_mode": "neighbors", **params})
    placed = evaluate("AAE", model, X_train, X_test, y_train, y_test, as_images=False)
    model.set_params(transform_mode="encoder")
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    scores = dict(code_scores(model, Z_train, Z_test, X_train, X_test, y_train, y_test), fit=placed["fit"])
    distances, nearest = NearestNeighbors(n_neighbors=5).fit(X_train).kneighbors(X_test)
    weights = 1 / (distances + 1e-3)
    Z_smoothed = (Z_train[nearest] * weights[..., None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
    # umap-learn places new rows against embedding_; in the graph loss's units (a private
    # helper, so any prior works) it is the AAE's layout at the scale UMAP's curve expects.
    reducer = umap.UMAP(n_neighbors=model.n_neighbors or 15, min_dist=model.min_dist, random_state=seed).fit(X_train)
    reducer.embedding_ = (Z_train / model._neighbor_code_scale()).astype(np.float32)
    Z_placed = reducer.transform(X_test)
    return dict(
        scores,
        seed=seed,
        train_trust=trustworthiness(X_train, Z_train, n_neighbors=10),
        smoothed_knn=heldout_knn_accuracy(Z_train, y_train, Z_smoothed, y_test, n_neighbors=5),
        smoothed_trust=trustworthiness(X_test, Z_smoothed, n_neighbors=10),
        placed_knn=heldout_knn_accuracy(reducer.embedding_, y_train, Z_placed, y_test, n_neighbors=5),
        placed_trust=trustworthiness(X_test, Z_placed, n_neighbors=10),
        neighbor_knn=placed["knn"],
        neighbor_trust=placed["trust"],
        neighbor_mse=placed["mse"],
        neighbor_speed=placed["transform"],
    )


def references(seed, X_train, X_test, y_train, y_test):
    """UMAP's held-out scores, and those of MLPs trained to map rows onto UMAP's layout."""
    reducer = umap.UMAP(random_state=seed).fit(X_train)
    Z_train, Z_test = reducer.embedding_, reducer.transform(X_test)
    rows = {"UMAP": (Z_train, Z_test)}
    x_scaler, z_scaler = StandardScaler().fit(X_train), StandardScaler().fit(Z_train)
    X_std, Z_std = x_scaler.transform(X_train), z_scaler.transform(Z_train)
    rng = np.random.RandomState(seed)
    # The same 2-layer-512 body as the encoder; noise 0.67 is the AAE's input_noise='auto' here.
    for name, copies, noise, max_iter in (("MLP onto UMAP's layout", 1, 0.0, 200),
                                          ("same, 10 noisy copies per row", 10, 0.67, 40)):
        inputs = np.repeat(X_std, copies, axis=0)
        inputs = inputs + noise * rng.standard_normal(inputs.shape)
        mlp = MLPRegressor(hidden_layer_sizes=(512, 512), max_iter=max_iter, random_state=seed)
        mlp.fit(inputs, np.repeat(Z_std, copies, axis=0))
        rows[name] = (Z_std, mlp.predict(x_scaler.transform(X_test)))
    for name, (Z_train, Z_test) in rows.items():
        print(f"| {name} | {seed} | {heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5):.3f} | "
              f"{trustworthiness(X_test, Z_test, n_neighbors=10):.3f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default='{"n_neighbors": 15, "tol": null}',
                        help="AdversarialAutoencoder parameters as JSON")
    parser.add_argument("--references", action="store_true",
                        help="first print UMAP's scores and those of MLPs fitted to UMAP's layout")
    args = parser.parse_args()
    params = json.loads(args.params)
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    warnings.filterwarnings("ignore", category=UserWarning)  # umap-learn's notes on random_state and threads
    if args.references:
        print("| reference | seed | 5-NN | trust |\n|---|---|---|---|")
        for seed in args.seeds:
            references(seed, *split)
        print()
    print(f"params: {params}")
    print("| seed | 5-NN | trust | train trust | recon. MSE | MMD | fit s | smoothed 5-NN / trust | "
          "UMAP-placed 5-NN / trust | neighbor transform 5-NN / trust / recon. MSE / rows/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    runs = []
    for seed in args.seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = evaluate_neighbors(params, seed, *split)
        runs.append(run)
        print(f"| {seed} | {run['knn']:.3f} | {run['trust']:.3f} | {run['train_trust']:.3f} | {run['mse']:.3f} | "
              f"{run['mmd']:.4f} | {run['fit']:.1f} | {run['smoothed_knn']:.3f} / {run['smoothed_trust']:.3f} | "
              f"{run['placed_knn']:.3f} / {run['placed_trust']:.3f} | {run['neighbor_knn']:.3f} / "
              f"{run['neighbor_trust']:.3f} / {run['neighbor_mse']:.3f} / {run['neighbor_speed']:,.0f} |",
              flush=True)
    mean = {key: np.mean([run[key] for run in runs]) for key in runs[0] if key not in ("seed", "transform", "train")}
    std = {key: np.std([run[key] for run in runs]) for key in mean}
    print(f"| mean | {mean['knn']:.3f} ± {std['knn']:.3f} | {mean['trust']:.3f} ± {std['trust']:.3f} | "
          f"{mean['train_trust']:.3f} | {mean['mse']:.3f} ± {std['mse']:.3f} | {mean['mmd']:.4f} | "
          f"{mean['fit']:.1f} | {mean['smoothed_knn']:.3f} / {mean['smoothed_trust']:.3f} | "
          f"{mean['placed_knn']:.3f} / {mean['placed_trust']:.3f} | {mean['neighbor_knn']:.3f} ± "
          f"{std['neighbor_knn']:.3f} / {mean['neighbor_trust']:.3f} ± {std['neighbor_trust']:.3f} / "
          f"{mean['neighbor_mse']:.3f} / {mean['neighbor_speed']:,.0f} |")


if __name__ == "__main__":
    main()
