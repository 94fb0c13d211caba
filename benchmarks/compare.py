"""Compare 2-D embeddings of held-out rows: PCA, Isomap, t-SNE, UMAP and sklearn_aae.

Data: load_digits (stratified 70/30 split, seed 0) and make_swiss_roll (3,000 rows, its
position along the roll cut into 6 classes, same kind of split), the two the defaults were
tuned on; with ``--data`` also the held-out ones of ``_common.SPLITS`` (breast cancer,
synthetic single-cell expression, synthetic 1-D signals). For every method the same split,
the same seed, one run:

- 5-NN accuracy: k-NN fitted on the training codes, scored on the held-out codes;
- trustworthiness (k=10) of the held-out codes;
- fit seconds (with the training rows' transform), and "fit / UMAP fit": each fit's
  seconds over the mean of umap-learn's fits of the same data in the same run (UMAP
  always runs; numba and the AAE warmed by an earlier fit of each); transform rows/s (held-out rows),
  training samples/s for the autoencoders;
- for models with an inverse_transform, the held-out reconstruction error (mean squared
  error on features standardised with the training rows' statistics), and for the AAEs
  the MMD between the training codes and as many prior samples (prior matching).

"AAE (defaults)" is ``AdversarialAutoencoder(random_state=seed)``: the neighbour graph,
placed transform on data of this size. "AAE plain (n_neighbors=None)" is the paper's AAE;
"AAE, encoder transform" the default model transforming through its encoder. The ALAE
rows are named the same way (ALAE's defaults have the graph too).

A second table follows the ALAE paper's protocol on digits: 1-NN and linear-SVM
(LinearSVC) accuracy on held-out codes at n_components 2 and 16 for PCA, the AAE's
defaults and plain model, and ALAE's, with each model's held-out
reconstruction error.

t-SNE has no transform: it embeds train and held-out rows together (transductively), which
favours it; its row is marked so. Stochastic methods run once per seed (default 0, 1, 2)
and the table gives mean ± standard deviation; "8x8 images in" feeds the same digits as
(n, 8, 8) images, so the AAE scales all pixels with one mean and scale (scaling='auto').

Usage: python benchmarks/compare.py [--quick] [--seeds 0 1 2] [--methods UMAP "AAE gaussian" ...]
                                    [--data digits "swiss roll" "breast cancer" ...] [--tables embeddings protocol]
                                    [--protocol-methods PCA ALAE ...] [--protocol-components 16]
                                    [--json PATH]
"""

import warnings

import numpy as np
from _common import SPLITS, Report, argument_parser, digits_split, evaluate, max_iter_params, summarise
from scipy.sparse import SparseEfficiencyWarning
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, Isomap
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from sklearn_aae import ALAE, AdversarialAutoencoder

# The rows beside the references: the defaults, the paper's plain AAE one parameter away,
# the default's encoder transform, other priors, and ALAE the same way.
AUTOENCODERS = {
    "AAE (defaults)": (AdversarialAutoencoder, {}),
    "AAE gaussian_mixture": (AdversarialAutoencoder, dict(prior="gaussian_mixture")),
    "AAE swiss_roll": (AdversarialAutoencoder, dict(prior="swiss_roll")),
    "AAE, encoder transform": (AdversarialAutoencoder, dict(transform_mode="encoder")),
    "AAE plain (n_neighbors=None)": (AdversarialAutoencoder, dict(n_neighbors=None)),
    "ALAE (defaults)": (ALAE, {}),
    "ALAE, encoder transform": (ALAE, dict(transform_mode="encoder")),
    "ALAE plain (n_neighbors=None)": (ALAE, dict(n_neighbors=None)),
}
# The first table's columns: (header, key of _common.evaluate's result, format, ± std over seeds).
COLUMNS = [
    ("5-NN acc (held-out)", "knn_accuracy", ".3f", True),
    ("trustworthiness k=10", "trustworthiness", ".3f", True),
    ("fit s", "fit_seconds", ".1f", False),
    ("fit / UMAP fit", "fit_ratio", ".2f", False),
    ("transform rows/s", "transform_rows_per_second", ",.0f", False),
    ("train samples/s", "train_samples_per_second", ",.0f", False),
    ("reconstruction MSE (held-out)", "reconstruction_mse", ".3f", True),
    ("MMD(codes, prior)", "mmd_to_prior", ".4f", True),
]


# The data sets run without --data: the two tuned on; the held-out ones are in SPLITS.
DEFAULT_DATA = ("digits", "swiss roll")


def seeded(cls, **params):
    """A factory: seed -> cls(random_state=seed, **params)."""
    return lambda seed: cls(random_state=seed, **params)


def methods(max_iter):
    """name -> (factory(seed), input form); 'images' feeds digits as 8x8 images."""
    import umap

    epochs = max_iter_params(max_iter)
    table = {
        "PCA": (seeded(PCA, n_components=2), "rows"),
        "Isomap": (lambda seed: Isomap(n_components=2), "rows"),
        "t-SNE (transductive)": (seeded(TSNE, n_components=2), "rows"),
        "UMAP": (seeded(umap.UMAP, n_components=2), "rows"),
    }
    for name, (cls, params) in AUTOENCODERS.items():
        table[name] = (seeded(cls, **params, **epochs), "rows")
        if name == "AAE (defaults)":
            table["AAE (defaults), 8x8 images in"] = (table[name][0], "images")
    return table


def protocol_models(n_components, max_iter):
    """The ALAE paper's comparison: linear and 1-NN probes on held-out codes."""
    epochs = max_iter_params(max_iter)
    table = {"PCA": seeded(PCA, n_components=n_components)}
    for name, (cls, options) in (("AAE (defaults)", (AdversarialAutoencoder, {})),
                                 ("AAE plain (n_neighbors=None)", (AdversarialAutoencoder, dict(n_neighbors=None))),
                                 ("ALAE (defaults)", (ALAE, {})),
                                 ("ALAE plain (n_neighbors=None)", (ALAE, dict(n_neighbors=None)))):
        table[name] = seeded(cls, n_components=n_components, **options, **epochs)
    return table


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


def main():
    parser = argument_parser(__doc__)
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
    for category in (ConvergenceWarning, FutureWarning, UserWarning, SparseEfficiencyWarning):
        warnings.filterwarnings("ignore", category=category)

    report = Report(args, f"seeds {args.seeds}")
    if "embeddings" in args.tables:
        embeddings_table(args, report)
    if "protocol" in args.tables and not (args.methods or args.data):
        protocol_table(args, report)


def embeddings_table(args, report):
    import umap

    # numba compiles umap-learn's kernels (the AAE's graph uses the same) on their first
    # call, and a process's first fit of the AAE imports torch's optimiser machinery and
    # compiles the graph's kernels for its float64 distances: do both before anything is
    # timed, so every row is a warm fit.
    X_warm = digits_split()[0][:300]
    umap.UMAP(random_state=0).fit(X_warm).transform(X_warm[:10])
    AdversarialAutoencoder(max_iter=1, random_state=0).fit(X_warm).transform(X_warm[:10])
    report.table(["data", "method", *(header for header, *_ in COLUMNS)])
    for data_name, split in SPLITS.items():
        if (args.data and data_name not in args.data) or (not args.data and data_name not in DEFAULT_DATA):
            continue
        X_train, X_test, y_train, y_test = split()
        umap_seconds = None
        for name, (make, form) in methods(5 if args.quick else None).items():
            # UMAP always runs: the "fit / UMAP fit" column divides by its fits of the same run.
            wanted = name == "UMAP" or not args.methods or name in args.methods
            if (form == "images" and data_name != "digits") or not wanted:
                continue
            inputs = (X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8)) if form == "images" else (X_train, X_test)
            seeds = args.seeds if name not in ("PCA", "Isomap") else args.seeds[:1]
            runs = [evaluate(make(seed), *inputs, y_train, y_test) for seed in seeds]
            if name == "UMAP":
                umap_seconds = np.mean([run["fit_seconds"] for run in runs])
            for run in runs:
                run["fit_ratio"] = run["fit_seconds"] / umap_seconds if umap_seconds else float("nan")
            report.row([data_name, name, *(summarise([run[key] for run in runs], fmt, spread)
                                           for _, key, fmt, spread in COLUMNS)],
                       data=data_name, method=name, seeds=seeds, runs=runs)


def protocol_table(args, report):
    report.table(["n_components", "method", "1-NN acc", "linear-SVM acc", "reconstruction MSE (standardised)"],
                 "ALAE protocol on digits: probes of held-out codes, held-out reconstruction")
    X_train, X_test, y_train, y_test = digits_split()
    for n_components in args.protocol_components:
        for name, make in protocol_models(n_components, 5 if args.quick else None).items():
            if args.protocol_methods and name not in args.protocol_methods:
                continue
            seeds = args.seeds[:1] if name == "PCA" else args.seeds
            runs = [probe(make(seed), X_train, X_test, y_train, y_test) for seed in seeds]
            cells = [summarise([run[key] for run in runs]) for key in ("one_nn", "svm", "mse")]
            report.row([n_components, name, *cells], n_components=n_components, method=name, seeds=seeds, runs=runs)


if __name__ == "__main__":
    main()
