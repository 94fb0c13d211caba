"""Does bfloat16 autocast change quality? float32 against bfloat16 on the digits benchmark.

The same held-out split as compare.py (load_digits, 70/30 stratified, seed 0). For each
seed and precision: the AAE's 2-D held-out 5-NN accuracy, trustworthiness (k=10) and
held-out reconstruction error, and ALAE's 16-D held-out linear-SVM accuracy (the ALAE
paper's probe), with fit seconds. On a CPU without native bfloat16 the bfloat16 rows are
slow (emulated), but their quality is still what it would be on a GPU.

Usage: python benchmarks/precision.py [--seeds 0 1 2]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae._base import resolve_precision
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    print(f"precision='auto' on this machine: {resolve_precision('auto', torch.device('cpu')) or 'float32'}\n")
    print("| model | precision | held-out 5-NN | trustworthiness | reconstruction MSE | linear SVM (16-D) | fit s |")
    print("|---|---|---|---|---|---|---|")
    for precision in ("float32", "bfloat16"):
        rows = []
        for seed in args.seeds:
            start = time.perf_counter()
            aae = AdversarialAutoencoder(precision=precision, random_state=seed).fit(X_train)
            seconds = time.perf_counter() - start
            Z_train, Z_test = aae.transform(X_train), aae.transform(X_test)
            rows.append((heldout_knn_accuracy(Z_train, y_train, Z_test, y_test),
                         trustworthiness(X_test, Z_test), -aae.score(X_test), seconds))
        print(_row("AAE gaussian, 2-D", precision, rows, svm=False))
        rows = []
        for seed in args.seeds:
            start = time.perf_counter()
            alae = ALAE(n_components=16, precision=precision, random_state=seed).fit(X_train)
            seconds = time.perf_counter() - start
            svm = LinearSVC().fit(alae.transform(X_train), y_train)
            rows.append((-alae.score(X_test), svm.score(alae.transform(X_test), y_test), seconds))
        print(_row("ALAE gaussian, 16-D", precision, rows, svm=True))


def _row(name, precision, rows, svm):
    columns = np.array(rows)
    mean, std = columns.mean(axis=0), columns.std(axis=0)
    cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[:-1], std[:-1])]
    if svm:
        cells = ["—", "—", *cells]
    else:
        cells = [*cells, "—"]
    return f"| {name} | {precision} | " + " | ".join(cells) + f" | {mean[-1]:.1f} |"


if __name__ == "__main__":
    main()
