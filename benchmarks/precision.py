"""Does bfloat16 autocast change quality? float32 against bfloat16 on the digits benchmark.

The same held-out split as compare.py (load_digits, 70/30 stratified, seed 0). For each
seed and precision: the AAE's 2-D held-out 5-NN accuracy, trustworthiness (k=5, scikit-learn's
default) and held-out reconstruction error (``-score``), and ALAE's 16-D held-out linear-SVM
accuracy (the ALAE paper's probe), with fit seconds. On a CPU without native bfloat16 the
bfloat16 rows are slow (emulated), but their quality is still what it would be on a GPU.

Usage: python benchmarks/precision.py [--seeds 0 1 2] [--max-iter N] [--json PATH]
"""

import time
import warnings

import torch
from _common import Report, argument_parser, digits_split, max_iter_params, summarise
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae._torch_utils import resolve_precision
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness

# (header, key of a run); a model leaves out what it is not measured on (NaN, printed as —).
COLUMNS = [("held-out 5-NN", "knn"), ("trustworthiness", "trust"), ("reconstruction MSE", "mse"),
           ("linear SVM (16-D)", "svm")]


def aae_run(precision, seed, epochs, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    aae = AdversarialAutoencoder(precision=precision, random_state=seed, **epochs).fit(X_train)
    seconds = time.perf_counter() - start
    Z_train, Z_test = aae.transform(X_train), aae.transform(X_test)
    return dict(knn=heldout_knn_accuracy(Z_train, y_train, Z_test, y_test), trust=trustworthiness(X_test, Z_test),
                mse=-aae.score(X_test), svm=float("nan"), fit=seconds)


def alae_run(precision, seed, epochs, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    alae = ALAE(n_components=16, precision=precision, random_state=seed, **epochs).fit(X_train)
    seconds = time.perf_counter() - start
    svm = LinearSVC().fit(alae.transform(X_train), y_train)
    return dict(knn=float("nan"), trust=float("nan"), mse=-alae.score(X_test),
                svm=svm.score(alae.transform(X_test), y_test), fit=seconds)


def main():
    parser = argument_parser(__doc__, max_iter=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    epochs = max_iter_params(args.max_iter)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    split = digits_split()
    auto = resolve_precision("auto", torch.device("cpu")) or "float32"
    report = Report(args, f"precision='auto' on this machine: {auto}")
    report.table(["model", "precision", *(header for header, _ in COLUMNS), "fit s"])
    for precision in ("float32", "bfloat16"):
        for name, run in (("AAE gaussian, 2-D", aae_run), ("ALAE gaussian, 16-D", alae_run)):
            runs = [run(precision, seed, epochs, *split) for seed in args.seeds]
            cells = [summarise([r[key] for r in runs]) for _, key in COLUMNS]
            report.row([name, precision, *cells, summarise([r["fit"] for r in runs], ".1f", spread=False)],
                       model=name, precision=precision, seeds=args.seeds, runs=runs)


if __name__ == "__main__":
    main()
