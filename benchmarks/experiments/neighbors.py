"""One neighbour-graph setting on held-out digits, seed by seed (issue 7's tuning runs).

Fits ``AdversarialAutoencoder(**params)`` on compare.py's 70/30 split of load_digits,
scores it as compare.py does (``metrics.embedding_scores``: held-out 5-NN accuracy and
trustworthiness, k=10; held-out reconstruction MSE; MMD of the training codes to the prior;
fit time) and
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

Usage: python benchmarks/experiments/neighbors.py [--seeds 0 1 2] [--params '{"n_neighbors": 15, "tol": null}']
                                                 [--references] [--json PATH]
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import umap
from sklearn.neighbors import NearestNeighbors
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common
from _common import Report, argument_parser, digits_split, evaluate, summarise

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._neighbors import prior_code_scale
from sklearn_aae.metrics import embedding_scores, heldout_knn_accuracy, trustworthiness

# header -> the measures of a cell, as (key, format, ± std in the mean row), joined by " / ".
COLUMNS = {
    "5-NN": [("knn", ".3f", True)],
    "trust": [("trust", ".3f", True)],
    "train trust": [("train_trust", ".3f", False)],
    "recon. MSE": [("mse", ".3f", True)],
    "MMD": [("mmd", ".4f", False)],
    "fit s": [("fit", ".1f", False)],
    "smoothed 5-NN / trust": [("smoothed_knn", ".3f", False), ("smoothed_trust", ".3f", False)],
    "UMAP-placed 5-NN / trust": [("placed_knn", ".3f", False), ("placed_trust", ".3f", False)],
    "neighbor transform 5-NN / trust / recon. MSE / rows/s": [
        ("neighbor_knn", ".3f", True), ("neighbor_trust", ".3f", True), ("neighbor_mse", ".3f", False),
        ("neighbor_speed", ",.0f", False)],
}


def evaluate_neighbors(params, seed, X_train, X_test, y_train, y_test):
    """compare.py's held-out scores of one fit through the encoder, plus the training
    rows' trustworthiness, the smoothed, the UMAP-placed and the neighbour-transform scores."""
    model = AdversarialAutoencoder(random_state=seed, **{"transform_mode": "neighbors", **params})
    placed = evaluate(model, X_train, X_test, y_train, y_test)
    model.set_params(transform_mode="encoder")
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    scores = embedding_scores(model, X_train, X_test, y_train, y_test, Z_train=Z_train, Z_test=Z_test)
    distances, nearest = NearestNeighbors(n_neighbors=5).fit(X_train).kneighbors(X_test)
    weights = 1 / (distances + 1e-3)
    Z_smoothed = (Z_train[nearest] * weights[..., None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
    # umap-learn places new rows against embedding_; in the graph loss's units (a private
    # helper, so any prior works) it is the AAE's layout at the scale UMAP's curve expects.
    reducer = umap.UMAP(n_neighbors=model.n_neighbors or 15, min_dist=model.min_dist, random_state=seed).fit(X_train)
    reducer.embedding_ = (Z_train / prior_code_scale(model.prior_)).astype(np.float32)
    Z_placed = reducer.transform(X_test)
    return dict(
        seed=seed,
        knn=scores["knn_accuracy"],
        trust=scores["trustworthiness"],
        train_trust=trustworthiness(X_train, Z_train, n_neighbors=10),
        mse=scores["reconstruction_mse"],
        mmd=scores["mmd_to_prior"],
        fit=placed["fit_seconds"],
        smoothed_knn=heldout_knn_accuracy(Z_train, y_train, Z_smoothed, y_test, n_neighbors=5),
        smoothed_trust=trustworthiness(X_test, Z_smoothed, n_neighbors=10),
        placed_knn=heldout_knn_accuracy(reducer.embedding_, y_train, Z_placed, y_test, n_neighbors=5),
        placed_trust=trustworthiness(X_test, Z_placed, n_neighbors=10),
        neighbor_knn=placed["knn_accuracy"],
        neighbor_trust=placed["trustworthiness"],
        neighbor_mse=placed["reconstruction_mse"],
        neighbor_speed=placed["transform_rows_per_second"],
    )


def references(report, seed, X_train, X_test, y_train, y_test):
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
        knn = heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5)
        trust = trustworthiness(X_test, Z_test, n_neighbors=10)
        report.row([name, seed, f"{knn:.3f}", f"{trust:.3f}"], reference=name, seed=seed, knn=knn, trust=trust)


def cells(runs):
    """The row of one seed's run, or the mean (± std) row of several."""
    return [" / ".join(summarise([run[key] for run in runs], fmt, spread) for key, fmt, spread in measures)
            for measures in COLUMNS.values()]


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default='{"n_neighbors": 15, "tol": null}',
                        help="AdversarialAutoencoder parameters as JSON")
    parser.add_argument("--references", action="store_true",
                        help="first print UMAP's scores and those of MLPs fitted to UMAP's layout")
    args = parser.parse_args()
    params = json.loads(args.params)
    split = digits_split()
    warnings.filterwarnings("ignore", category=UserWarning)  # umap-learn's notes on random_state and threads
    report = Report(args, f"params: {params}")
    if args.references:
        report.table(["reference", "seed", "5-NN", "trust"])
        for seed in args.seeds:
            references(report, seed, *split)
    report.table(["seed", *COLUMNS], "AdversarialAutoencoder(**params), seed by seed")
    runs = []
    for seed in args.seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append(evaluate_neighbors(params, seed, *split))
        report.row([seed, *cells(runs[-1:])], **runs[-1])
    report.row(["mean", *cells(runs)])


if __name__ == "__main__":
    main()
