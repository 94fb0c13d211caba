"""Quality measures for embeddings: held-out neighbours, trustworthiness, prior matching."""

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_array, check_random_state

from . import AdversarialAutoencoder

__all__ = ["heldout_knn_accuracy", "trustworthiness", "mmd_rbf", "embedding_scores"]


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


def embedding_scores(model, X_train, X_test, y_train, y_test, *, Z_train=None, Z_test=None, n_neighbors=5):
    """Held-out scores of a fitted embedder: k-NN accuracy, trustworthiness, reconstruction, prior match.

    The measures ``benchmarks/compare.py`` reports for each method, for any fitted model
    with a ``transform`` (or its codes):

    - ``'knn_accuracy'``: :func:`heldout_knn_accuracy` of the held-out codes;
    - ``'trustworthiness'``: :func:`trustworthiness` of the held-out codes, k=10;
    - ``'reconstruction_mse'``: for this package's estimators (models with a ``prior_``),
      the held-out error of ``inverse_transform(Z_test)``, a mean squared error on
      features divided by the training rows' standard deviations (constant features by
      1), so that every feature counts alike; NaN for other models;
    - ``'mmd_to_prior'``: for an :class:`~sklearn_aae.AdversarialAutoencoder`,
      :func:`mmd_rbf` between the training codes and as many prior samples, how well the
      codes match the prior; NaN for other models (ALAE's codes are not drawn towards
      its prior).

    Parameters
    ----------
    model : fitted estimator
        The embedder, fitted on ``X_train``.
    X_train, X_test : array-like of shape (n_train, ...), (n_test, ...)
        Training and held-out rows, as the model takes them (images are flattened for
        the trustworthiness and the reconstruction error).
    y_train, y_test : array-like of shape (n_train,), (n_test,)
        Their labels.
    Z_train, Z_test : array-like of shape (n_train, n_components), (n_test, n_components), default=None
        Their codes, when already computed (a timed ``transform``, or an embedder
        without ``transform`` such as t-SNE); ``model.transform`` of the rows when None.
    n_neighbors : int, default=5
        Number of neighbours of the k-NN classifier.

    Returns
    -------
    scores : dict of str to float
        'knn_accuracy', 'trustworthiness', 'reconstruction_mse' and 'mmd_to_prior'.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import AdversarialAutoencoder
    >>> from sklearn_aae.metrics import embedding_scores
    >>> X, y = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(max_iter=2, random_state=0).fit(X[:300])
    >>> scores = embedding_scores(aae, X[:300], X[300:400], y[:300], y[300:400])
    >>> sorted(scores)
    ['knn_accuracy', 'mmd_to_prior', 'reconstruction_mse', 'trustworthiness']
    """
    Z_train = model.transform(X_train) if Z_train is None else Z_train
    Z_test = model.transform(X_test) if Z_test is None else Z_test
    X_train, X_test = np.asarray(X_train), np.asarray(X_test)
    X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    mse = mmd = float("nan")
    if hasattr(model, "prior_"):
        scale = np.where(X_train.std(axis=0) > 0, X_train.std(axis=0), 1.0)
        mse = float(np.mean(((model.inverse_transform(Z_test).reshape(X_test.shape) - X_test) / scale) ** 2))
        if isinstance(model, AdversarialAutoencoder):
            mmd = mmd_rbf(Z_train, model.prior_.sample(len(Z_train), random_state=0))
    return dict(
        knn_accuracy=heldout_knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors=n_neighbors),
        trustworthiness=float(trustworthiness(X_test, Z_test, n_neighbors=10)),
        reconstruction_mse=mse,
        mmd_to_prior=mmd,
    )
