"""How ``transform_mode='neighbors'`` places held-out digits, by steps and step size.

Fits ``AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode='neighbors')`` on
compare.py's 70/30 split of load_digits, once per seed, then places the held-out rows
with each number of Adam steps and each step size (a share of the spread of a row's
neighbours' codes): a copy of the fitted model's placement (``NeighborPlacement`` in
``sklearn_aae/_placement.py``) with its ``steps`` and ``learning_rate`` set for each run.
Prints held-out 5-NN accuracy (against the encoder's training codes) and trustworthiness
(k=10) per seed and their means, and rows/s of the placement against umap-learn's warm
``transform`` of the same rows in the same process. Steps 0 is the starting point alone:
the membership-weighted mean of the neighbours' codes. ``--split-seed`` draws another
70/30 split, to check a choice made on compare.py's (seed 0).

Usage: python benchmarks/experiments/placement.py [--seeds 0 1 2] [--steps 0 5 10 20 30]
                                                  [--shares 0.1 0.2 0.3] [--split-seed 0] [--max-iter N]
                                                  [--json PATH]
"""

import copy
import sys
import warnings
from pathlib import Path

import numpy as np
# Before torch (imported by _common), as when the results in RESULTS.md were measured: which
# of numba and torch starts its OpenMP threads first changes torch's threading, and so the fits.
import umap  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common
from _common import Report, argument_parser, digits_split, max_iter_params, rows_per_second, warm_umap

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._data import INFERENCE_CHUNK
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def placements(model, steps, share):
    """transform of the held-out rows by a copy of ``model``'s placement with these steps."""
    placement = copy.copy(model._placement)
    placement.steps, placement.learning_rate = steps, share
    return lambda X: placement.transform(X, model.device_, INFERENCE_CHUNK)


def main():
    parser = argument_parser(__doc__, max_iter=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 5, 10, 20, 30])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    epochs = max_iter_params(args.max_iter)
    X_train, X_test, y_train, y_test = digits_split(args.split_seed)
    report = Report(args, f"split seed {args.split_seed}")
    reducer, umap_speed = warm_umap(X_train, X_test)
    Z_umap = reducer.transform(X_test)
    models = [AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode="neighbors", random_state=seed,
                                     **epochs).fit(X_train) for seed in args.seeds]
    # The encoder's training codes are what the held-out rows are placed among.
    codes = [model.set_params(transform_mode="encoder").transform(X_train) for model in models]
    report.note(f"UMAP transform: {umap_speed:,.0f} rows/s, held-out 5-NN "
                f"{heldout_knn_accuracy(reducer.embedding_, y_train, Z_umap, y_test, n_neighbors=5):.3f} / trust "
                f"{trustworthiness(X_test, Z_umap, n_neighbors=10):.3f}; library default: "
                f"{models[0]._placement.steps} steps, share {models[0]._placement.learning_rate}\n")
    report.table(["steps", "share", *(f"seed {seed}" for seed in args.seeds), "mean 5-NN / trust", "rows/s",
                  "× UMAP"])
    for steps in args.steps:
        for share in args.shares if steps else args.shares[:1]:
            scores, speeds = [], []
            for model, Z_train in zip(models, codes):
                transform = placements(model, steps, share)
                Z_test = transform(X_test)
                scores.append((heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5),
                               trustworthiness(X_test, Z_test, n_neighbors=10)))
                speeds.append(rows_per_second(transform, X_test))
            mean, speed = np.mean(scores, axis=0), np.mean(speeds)
            report.row([steps, share if steps else "—", *(f"{knn:.3f} / {trust:.3f}" for knn, trust in scores),
                        f"{mean[0]:.3f} / {mean[1]:.3f}", f"{speed:,.0f}", f"{speed / umap_speed:.0f}"],
                       steps=steps, share=share, scores=scores, rows_per_second=speeds, umap_rows_per_second=umap_speed)


if __name__ == "__main__":
    main()
