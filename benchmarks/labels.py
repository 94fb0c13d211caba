"""The AAE paper's label modes measured on load_digits (issue 5).

One fixed stratified split of load_digits (70 % train, 30 % held out, seed 0); every model
is fitted on the training rows and scored on the held-out rows. Four tables:

- placement (label_mode='prior', 2-D codes): share of held-out codes whose nearest
  prior region is their own class, the region of a point being the class of its nearest
  neighbour among 500 class-labelled prior samples per class;
- generation: accuracy of an SVC trained on the real training digits when it classifies
  ``sample(200, y=k)`` for every digit k, in each label mode;
- semi-supervised: held-out accuracy of ``predict`` (label_mode='categorical') with 10 %
  and 100 % of the training labels (the rest -1), next to ``LabelSpreading`` (kNN kernel,
  on all training rows) and an ``MLPClassifier`` trained on the labeled rows only;
- clustering: held-out accuracy after the best cluster-to-class matching (Hungarian for
  as many clusters as classes, each cluster to its majority class for more, as the AAE
  paper does for 16 and 30) and the adjusted Rand index, of ``AdversarialAutoencoder(
  n_clusters=K, random_state=s)`` with its defaults, next to KMeans on the raw rows and
  on UMAP's 2-D embedding, SpectralClustering (kNN affinity) and HDBSCAN on the raw rows,
  all in the same process. On digits K = 10 and 16; the same table runs on other data
  sets (``--cluster-data``): ``swiss_roll`` (make_swiss_roll's position along the roll
  cut into 6 classes, K = 6 and 10), tuned on like digits, and two the clusterer was not
  tuned on, ``expression`` (synthetic single-cell expression of 8 cell types, K = 8 and
  12) and ``signals`` (synthetic 1-D signals of 6 shapes, K = 6 and 10). SpectralClustering and
  HDBSCAN have no ``predict``: a held-out row takes the cluster of its nearest training
  row (HDBSCAN's noise, -1, counts as one more cluster).

Stochastic methods run once per seed; tables give mean ± std over seeds. The parameters of
each AAE row are in PLACEMENT, GENERATION, SEMI_SUPERVISED and CLUSTERING below; the
semi-supervised row with 100 % labels is the 'categorical' generation model.

Usage: python benchmarks/labels.py [--seeds 0 1] [--max-iter N] [--tables placement generation semi cluster]
                                   [--cluster-data digits swiss_roll] [--json PATH]
(``--tables semi`` runs the semi-supervised table alone; its 100 % row fits the
'categorical' generation model.)
"""

import time
import warnings

import numpy as np
from _common import (Report, argument_parser, digits_split, expression_split, max_iter_params, signals_split,
                     summarise, swiss_roll_split)
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import HDBSCAN, KMeans, SpectralClustering
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.semi_supervised import LabelSpreading
from sklearn.svm import SVC

from sklearn_aae import AdversarialAutoencoder

# The parameters each row uses beside random_state (and max_iter when given).
PLACEMENT = {"gaussian_mixture": dict(prior="gaussian_mixture"), "swiss_roll": dict(prior="swiss_roll")}
GENERATION = {
    "conditional": dict(label_mode="conditional", n_components=2, adversarial_weight=1.0, tol=None),
    "categorical": dict(label_mode="categorical", n_components=8, adversarial_weight=1.0, tol=None),
}
# n_neighbors=15 smooths the class head along UMAP's neighbour graph (neighbor_class_weight=1.0,
# the default) beside UMAP's loss on the style code: 0.967 ± 0.008 against 0.957 ± 0.005
# without the graph (seeds 0-2).
SEMI_SUPERVISED = dict(label_mode="categorical", n_components=8, adversarial_weight=1.0, classification_weight=3.0,
                       n_neighbors=15, max_iter=300, tol=None, precision="float32")
# The clusterer runs with its defaults: n_clusters and random_state only.
CLUSTERING = {}
# Data sets of the clustering table, with the numbers of clusters tried on each.
# digits and the swiss roll were tuned on; the synthetic expression (8 cell types) and
# signals (6 shapes) sets were not.
CLUSTER_DATA = {"digits": (digits_split, (10, 16)), "swiss_roll": (swiss_roll_split, (6, 10)),
                "expression": (expression_split, (8, 12)), "signals": (signals_split, (6, 10))}
CLUSTER_METHODS = ("AAE n_clusters", "KMeans, raw rows", "KMeans on UMAP 2-D", "SpectralClustering (kNN), raw rows",
                   "HDBSCAN, raw rows")
TABLES = ("placement", "generation", "semi", "cluster")


def placement_share(model, Z, y):
    labels = np.repeat(np.arange(len(model.classes_)), 500)
    regions = KNeighborsClassifier(1).fit(model.prior_.sample(len(labels), y=labels, random_state=0), labels)
    return np.mean(regions.predict(Z) == np.searchsorted(model.classes_, y))


def generation_accuracy(model, judge):
    return np.mean([np.mean(judge.predict(model.sample(200, y=k, random_state=0)) == k) for k in model.classes_])


def matched_accuracy(y, clusters):
    """Accuracy after the best mapping of clusters to classes (one-to-one when it can be)."""
    ids, clusters = np.unique(clusters, return_inverse=True)
    classes, y = np.unique(y, return_inverse=True)
    counts = np.zeros((len(ids), len(classes)))
    np.add.at(counts, (clusters, y), 1)
    if len(ids) <= len(classes):
        rows, cols = linear_sum_assignment(-counts)
        return counts[rows, cols].sum() / len(y)
    return counts.max(axis=1).sum() / len(y)


def nearest_training_cluster(X_train, labels, X_test):
    """Clusters of held-out rows for a clusterer without predict: that of the nearest training row."""
    return labels[KNeighborsClassifier(1).fit(X_train, np.arange(len(X_train))).predict(X_test)]


def cluster_rows(name, n_clusters, seed, X_train, X_test, epochs):
    """Held-out clusters of one method of the clustering table."""
    if name == "AAE n_clusters":
        model = AdversarialAutoencoder(n_clusters=n_clusters, random_state=seed, **{**CLUSTERING, **epochs})
        return model.fit(X_train).predict(X_test)
    if name == "KMeans, raw rows":
        return KMeans(n_clusters, n_init=10, random_state=seed).fit(X_train).predict(X_test)
    if name == "KMeans on UMAP 2-D":
        import umap

        embedding = umap.UMAP(random_state=seed).fit(X_train)
        kmeans = KMeans(n_clusters, n_init=10, random_state=seed).fit(embedding.embedding_)
        return kmeans.predict(embedding.transform(X_test))
    if name == "SpectralClustering (kNN), raw rows":
        labels = SpectralClustering(n_clusters, affinity="nearest_neighbors", n_neighbors=15,
                                    random_state=seed).fit_predict(X_train)
        return nearest_training_cluster(X_train, labels, X_test)
    return nearest_training_cluster(X_train, HDBSCAN().fit_predict(X_train), X_test)


def main():
    parser = argument_parser(__doc__, max_iter=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES),
                        help="tables to run (default: all)")
    parser.add_argument("--cluster-data", nargs="+", choices=list(CLUSTER_DATA), default=list(CLUSTER_DATA),
                        help="data sets of the clustering table (default: all)")
    args = parser.parse_args()
    tables = set(args.tables)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if "cluster" in tables:
        import umap  # noqa: F401 (fails here, not after the other tables, when umap-learn is missing)

    X_train, X_test, y_train, y_test = digits_split()
    report = Report(args, f"seeds {args.seeds}; load_digits 70/30 split (seed 0); {len(X_test)} held-out rows")
    judge = SVC().fit(X_train, y_train)
    epochs = max_iter_params(args.max_iter)
    results, seconds = {}, {}

    def record(key, value, started):
        results.setdefault(key, []).append(value)
        seconds.setdefault(key, []).append(time.perf_counter() - started)

    def aae(seed, **params):
        return AdversarialAutoencoder(random_state=seed, **{**params, **epochs})

    for seed in args.seeds:
        if tables & {"placement", "generation"}:
            for name, params in PLACEMENT.items():
                started = time.perf_counter()
                model = aae(seed, **params).fit(X_train, y_train)
                record(("placement", name), placement_share(model, model.transform(X_test), y_test), started)
                record(("generation", f"prior ({name})"), generation_accuracy(model, judge), started)
        for name, params in GENERATION.items():
            if "generation" not in tables and not (name == "categorical" and "semi" in tables):
                continue
            started = time.perf_counter()
            model = aae(seed, **params).fit(X_train, y_train)
            record(("generation", name), generation_accuracy(model, judge), started)
            if name == "categorical":
                record(("semi", "AAE categorical", 1.0), np.mean(model.predict(X_test) == y_test), started)
        if "semi" in tables:
            # The same labeled 10 % for every method of a seed, stratified by class.
            labeled = train_test_split(np.arange(len(y_train)), train_size=0.1, stratify=y_train,
                                       random_state=seed)[0]
            y_partial = np.full_like(y_train, -1)
            y_partial[labeled] = y_train[labeled]
            started = time.perf_counter()
            model = aae(seed, **SEMI_SUPERVISED).fit(X_train, y_partial)
            record(("semi", "AAE categorical", 0.1), np.mean(model.predict(X_test) == y_test), started)
            for fraction, partial in ((0.1, y_partial), (1.0, y_train)):
                started = time.perf_counter()
                spreading = LabelSpreading(kernel="knn", n_neighbors=7).fit(X_train, partial)
                record(("semi", "LabelSpreading (kNN kernel, k=7)", fraction), spreading.score(X_test, y_test),
                       started)
                started = time.perf_counter()
                rows = partial != -1
                mlp = MLPClassifier(max_iter=2000, random_state=seed).fit(X_train[rows], partial[rows])
                record(("semi", "MLPClassifier on the labeled rows", fraction), mlp.score(X_test, y_test), started)
        for data in args.cluster_data if "cluster" in tables else ():
            split, cluster_counts = CLUSTER_DATA[data]
            Xc_train, Xc_test, _, yc_test = split()
            for n_clusters in cluster_counts:
                for name in CLUSTER_METHODS:
                    started = time.perf_counter()
                    clusters = cluster_rows(name, n_clusters, seed, Xc_train, Xc_test, epochs)
                    seconds_taken = time.perf_counter() - started
                    key = ("cluster", data, name, n_clusters)
                    results.setdefault(key, []).append(
                        (matched_accuracy(yc_test, clusters), adjusted_rand_score(yc_test, clusters)))
                    seconds.setdefault(key, []).append(seconds_taken)

    def table(title, header, rows):
        """rows: (name, values of the second column, values of the third); cells are mean ± std."""
        report.table(header, title)
        for name, *measured in rows:
            report.row([name, *(summarise(values) for values in measured)], values=measured)

    if "placement" in tables:
        table("Placement (label_mode='prior', held-out codes in their class's region; target ≥ 0.9)",
              ["prior", "share in own region", "fit s"],
              [(name, results[("placement", name)], seconds[("placement", name)]) for name in PLACEMENT])
    if "generation" in tables:
        table("Generation (SVC accuracy on sample(200, y=k), k = 0..9; target ≥ 0.9 for conditional, categorical)",
              ["label_mode", "accuracy", "fit s"],
              [(name, results[("generation", name)], seconds[("generation", name)])
               for name in [f"prior ({p})" for p in PLACEMENT] + list(GENERATION)])
    if "semi" in tables:
        methods = ["AAE categorical", "LabelSpreading (kNN kernel, k=7)", "MLPClassifier on the labeled rows"]
        table("Semi-supervised (held-out accuracy; target: AAE beats both others with 10 % labels)",
              ["method", "10 % labels", "100 % labels"],
              [(m, results[("semi", m, 0.1)], results[("semi", m, 1.0)]) for m in methods])
    for data in args.cluster_data if "cluster" in tables else ():
        k1, k2 = CLUSTER_DATA[data][1]
        columns = [f"accuracy, {k1}", f"ARI, {k1}", f"accuracy, {k2}", f"ARI, {k2}", f"fit s, {k1}"]
        rows = []
        for m in CLUSTER_METHODS:
            first, second = results[("cluster", data, m, k1)], results[("cluster", data, m, k2)]
            rows.append((m, [a for a, _ in first], [r for _, r in first], [a for a, _ in second],
                         [r for _, r in second], seconds[("cluster", data, m, k1)]))
        table(f"Clustering, {data} (held-out accuracy after the best cluster-to-class matching, and adjusted "
              f"Rand index; target: AAE above KMeans on the raw rows, at least KMeans on UMAP)",
              ["method", *columns], rows)

if __name__ == "__main__":
    main()
