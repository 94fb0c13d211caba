"""Quality measures for embeddings: held-out neighbours, trustworthiness, prior matching."""

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_array, check_random_state

__all__ = ["heldout_knn_accuracy", "trustworthiness", "mmd_rbf"]


def heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, *, n_neighbors=5):
    """Accuracy of a k-NN classifier fitted on training codes and scored on held-out codes.

    It asks whether new rows land among training rows of their own class, which is what
    an embedding with a ``transform`` must get right.

    Parameters
    ----------
    Z_train, Z_test : array-like of shape (n_train, n_components), (n_test, n_components)
        Codes of the training and the held-out rows.
    y_train, y_test : array-like of shape (n_train,), (n_test,)
        Their labels.
    n_neighbors : int, default=5
        Number of neighbours of the classifier.

    Returns
    -------
    accuracy : float

    Examples
    --------
    >>> from sklearn_aae.metrics import heldout_knn_accuracy
    >>> heldout_knn_accuracy([[0], [1], [10], [11]], [0, 0, 1, 1], [[0.5], [10.5]], [0, 1], n_neighbors=1)
    1.0
    """
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
    return float(classifier.score(Z_test, y_test))


def mmd_rbf(X, Y, *, gamma=None, max_samples=2000, random_state=0):
    """Squared maximum mean discrepancy between two samples, with an RBF kernel.

    Zero when both samples come from the same distribution (up to sampling noise); used to
    measure how well codes match the prior. The unbiased estimator is used, so values
    slightly below zero are possible for matching distributions.

    Parameters
    ----------
    X, Y : array-like of shape (n_x, n_features), (n_y, n_features)
        The two samples, e.g. ``model.transform(X)`` and ``model.prior_.sample(n)``.
    gamma : float or None, default=None
        Kernel ``exp(-gamma ||a - b||²)``. ``None`` takes ``1 / median²`` of the pairwise
        distances of the pooled sample (the median heuristic).
    max_samples : int, default=2000
        Each sample is subsampled to at most this many rows (the cost is quadratic).
    random_state : int, RandomState instance or None, default=0
        Seed of the subsampling.

    Returns
    -------
    mmd2 : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae.metrics import mmd_rbf
    >>> rng = np.random.RandomState(0)
    >>> same = mmd_rbf(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))
    >>> shifted = mmd_rbf(rng.normal(size=(500, 2)), rng.normal(2, 1, size=(500, 2)))
    >>> bool(abs(same) < 0.01 < shifted)
    True
    """
    X, Y = check_array(X), check_array(Y)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y need the same number of columns, got {X.shape[1]} and {Y.shape[1]}.")
    if min(len(X), len(Y)) < 2:
        raise ValueError("mmd_rbf needs at least 2 rows in each sample.")
    rng = check_random_state(random_state)
    X = X[rng.permutation(len(X))[:max_samples]]
    Y = Y[rng.permutation(len(Y))[:max_samples]]
    if gamma is None:
        pooled = np.vstack([X, Y])
        median = np.median(euclidean_distances(pooled, pooled)[np.triu_indices(len(pooled), 1)])
        gamma = 1.0 / max(median, np.finfo(float).eps) ** 2
    k_xx, k_yy, k_xy = rbf_kernel(X, X, gamma=gamma), rbf_kernel(Y, Y, gamma=gamma), rbf_kernel(X, Y, gamma=gamma)
    n, m = len(X), len(Y)
    return float((k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
                 - 2 * k_xy.mean())
