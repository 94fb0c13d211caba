"""How ``transform_mode='neighbors'`` places held-out digits, by steps and step size.

Fits ``AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode='neighbors')`` on
compare.py's 70/30 split of load_digits, once per seed, then places the held-out rows
with each number of Adam steps and each step size (a share of the spread of a row's
neighbours' codes; the library's constants ``_PLACEMENT_STEPS`` and
``_PLACEMENT_LEARNING_RATE`` in ``sklearn_aae/_graph.py``, set here for each run). Prints
held-out 5-NN accuracy and trustworthiness (k=10) per seed and their means, and rows/s of
``transform`` against umap-learn's warm ``transform`` of the same rows in the same process.
Steps 0 is the starting point alone: the membership-weighted mean of the neighbours' codes.
``--split-seed`` draws another 70/30 split, to check a choice made on compare.py's (seed 0).

Usage: python benchmarks/placement.py [--seeds 0 1 2] [--steps 0 5 10 20 30] [--shares 0.1 0.2 0.3]
                                      [--split-seed 0]
"""

import argparse
import warnings

import numpy as np
import umap
from compare import rows_per_second
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import sklearn_aae._graph as graph
from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 5, 10, 20, 30])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=args.split_seed)
    reducer = umap.UMAP(random_state=0).fit(X_train)
    reducer.transform(X_test)  # numba compiles on the first call; time the warm ones
    umap_speed = rows_per_second(reducer.transform, X_test)
    print(f"split seed {args.split_seed}; UMAP transform: {umap_speed:,.0f} rows/s, held-out 5-NN "
          f"{heldout_knn_accuracy(reducer.embedding_, y_train, reducer.transform(X_test), y_test, n_neighbors=5):.3f}"
          f" / trust {trustworthiness(X_test, reducer.transform(X_test), n_neighbors=10):.3f}; library default: "
          f"{graph._PLACEMENT_STEPS} steps, share {graph._PLACEMENT_LEARNING_RATE}\n")
    models = [AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode="neighbors", random_state=seed)
              .fit(X_train) for seed in args.seeds]
    print("| steps | share | " + " | ".join(f"seed {seed}" for seed in args.seeds)
          + " | mean 5-NN / trust | rows/s | × UMAP |")
    print("|---|---|" + "---|" * len(args.seeds) + "---|---|---|")
    for steps in args.steps:
        for share in args.shares if steps else args.shares[:1]:
            graph._PLACEMENT_STEPS, graph._PLACEMENT_LEARNING_RATE = steps, share
            scores, speeds = [], []
            for model in models:
                # The encoder's training codes are what the held-out rows are placed among.
                Z_train = model.set_params(transform_mode="encoder").transform(X_train)
                model.set_params(transform_mode="neighbors")
                Z_test = model.transform(X_test)
                scores.append((heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=5),
                               trustworthiness(X_test, Z_test, n_neighbors=10)))
                speeds.append(rows_per_second(model.transform, X_test))
            mean, speed = np.mean(scores, axis=0), np.mean(speeds)
            print(f"| {steps} | {share if steps else '—'} | "
                  + " | ".join(f"{knn:.3f} / {trust:.3f}" for knn, trust in scores)
                  + f" | {mean[0]:.3f} / {mean[1]:.3f} | {speed:,.0f} | {speed / umap_speed:.0f} |", flush=True)


if __name__ == "__main__":
    main()
