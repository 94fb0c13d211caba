"""``predict``, ``predict_proba`` and ``fit_predict`` of an AdversarialAutoencoder with a class head."""

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._data import validate_input


def _has_class_head(estimator):
    check_is_fitted(estimator)
    if getattr(estimator, "label_mode_", None) != "categorical":
        raise AttributeError(
            f"{type(estimator).__name__} has no class head to predict with: fit it with "
            "label_mode='categorical' and labels y, or with n_clusters set."
        )
    return True


def _is_clusterer(estimator):
    if getattr(estimator, "n_clusters", None) is None:
        raise AttributeError(f"{type(estimator).__name__} is a clusterer only with n_clusters set, so it has no "
                             "fit_predict; set n_clusters, or use fit_transform.")
    return True


class ClassHeadPredictions:
    """The class head's predictions, available once a fit has trained one
    (``label_mode='categorical'`` with labels, or ``n_clusters``)."""

    # After a clusterer's fit, the vote of the training rows' clusters (ClusterVote) that
    # predicts in the head's place; None for a classifier, after partial_fit, and in
    # models saved before it existed.
    _cluster_vote = None

    def _head_proba(self, rows):
        """Class probabilities of standardised rows (a float32 tensor)."""
        return torch.softmax(self.encoder_.encode(rows, sample=False)[1].float(), dim=1)

    def _cluster_proba(self, X):
        """Class (cluster) probabilities of validated rows ``X``: (n_rows, n_classes)."""
        if self._cluster_vote is not None:
            return self._cluster_vote.predict_proba(X)
        return self._map_rows(self._head_proba, X)

    @available_if(_is_clusterer)
    def fit_predict(self, X, y=None):
        """Fit the clusterer on ``X`` and return the cluster of each row, ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Training rows.
        y : None
            Ignored, as by ``KMeans.fit_predict``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster ids ``0 .. n_clusters - 1``; the same as ``predict(X)``.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_aae import AdversarialAutoencoder
        >>> X, _ = load_digits(return_X_y=True)
        >>> clusterer = AdversarialAutoencoder(n_clusters=10, max_iter=2, random_state=0)
        >>> clusterer.fit_predict(X[:200]).shape
        (200,)
        """
        return self.fit(X).labels_

    @available_if(_has_class_head)
    def predict_proba(self, X):
        """Class probabilities from the encoder's class head, or cluster probabilities.

        A clusterer's, after ``fit``, are the shares of the clusters in the vote of the
        row's 15 nearest training rows, each weighted by the inverse of its distance
        (user guide, "Clustering"); after ``partial_fit`` they come from the class head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities of the classes in ``classes_``; each row sums to 1.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_aae import AdversarialAutoencoder
        >>> X, y = load_digits(return_X_y=True)
        >>> aae = AdversarialAutoencoder(label_mode="categorical", max_iter=2, random_state=0)
        >>> aae.fit(X[:200], y[:200]).predict_proba(X[:3]).shape
        (3, 10)
        """
        X = validate_input(self, X, reset=False)
        return self._cluster_proba(X)

    @available_if(_has_class_head)
    def predict(self, X):
        """Class (or, fitted with ``n_clusters`` and no labels, cluster id) of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Rows to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_aae import AdversarialAutoencoder
        >>> X, _ = load_digits(return_X_y=True)
        >>> clusterer = AdversarialAutoencoder(n_clusters=16, max_iter=2, random_state=0).fit(X[:200])
        >>> clusterer.predict(X[:5]).shape
        (5,)
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
