"""Class labels for the AdversarialAutoencoder: encoding, class-wise priors, prediction.

The three label modes of the AAE paper (Sec. 2.3, 4, 5-6) share this plumbing: turning
``y`` (-1 marking an unlabeled row) into class indices, drawing prior samples by class,
generating rows of a chosen class and reading the class head. The networks and training
steps of each mode live with the estimator in ``_aae.py``.
"""

import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .priors import GaussianMixturePrior, SwissRollPrior, resolve_prior

#: The label that marks an unlabeled row, as in scikit-learn's semi-supervised estimators.
UNLABELED = -1


def encode_labels(y, n_samples, classes=None):
    """Split ``y`` into its classes and class indices, -1 marking an unlabeled row.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Integer, float or string labels; -1 (or the string '-1') means unlabeled.
    n_samples : int
        Number of training rows ``y`` must match.
    classes : ndarray or None, default=None
        Known classes (a later ``partial_fit``); ``None`` takes them from ``y``.

    Returns
    -------
    classes : ndarray
        Sorted distinct labels, without the unlabeled marker.
    indices : ndarray of shape (n_samples,), dtype int64
        Position of each row's label in ``classes``; -1 for unlabeled rows.
    """
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} labels but X has {n_samples} rows.")
    if y.dtype.kind == "O":
        unlabeled = np.fromiter((_is_unlabeled(v) for v in y), dtype=bool, count=y.shape[0])
    else:
        unlabeled = _is_unlabeled(y)
    labeled = y[~unlabeled]
    if labeled.dtype.kind == "O" and all(isinstance(v, numbers.Number) for v in labeled):
        labeled = np.asarray(labeled.tolist())  # numbers held in an object array are numbers
    if labeled.size and type_of_target(labeled) not in ("binary", "multiclass"):
        raise ValueError(
            f"Unknown label type: y must hold class labels (-1 for unlabeled rows), got targets of type "
            f"{type_of_target(labeled)!r}; continuous or multi-output y has no classes."
        )
    try:
        seen = np.unique(labeled)
    except TypeError:
        raise ValueError("y mixes label types (e.g. strings and numbers); use one type, "
                         "and -1 for unlabeled rows.") from None
    if classes is None:
        classes = seen
    elif not np.isin(seen, classes).all():
        unseen = seen[~np.isin(seen, classes)]
        raise ValueError(f"y holds labels {unseen.tolist()} not seen in the first fit; known classes: "
                         f"{classes.tolist()}.")
    indices = np.full(y.shape[0], UNLABELED, dtype=np.int64)
    indices[~unlabeled] = np.searchsorted(classes, labeled)
    return classes, indices


def _is_unlabeled(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            return value == str(UNLABELED)
        return value == UNLABELED
    return (isinstance(value, str) and value == str(UNLABELED)) or (
        not isinstance(value, str) and value is not None and value == UNLABELED)


def one_hot(labels, n_slots):
    """One-hot rows of ``n_slots`` floats; label -1 takes the last slot (unlabeled)."""
    return F.one_hot(torch.where(labels < 0, n_slots - 1, labels), n_slots).float()  # (batch, n_slots)


def neighbor_class_consistency(logits_head, logits_tail):
    """Symmetric KL divergence between the class probabilities of the two ends of edges.

    Each side is pulled towards the other's *detached* probabilities, so the gradient is
    that of the cross-entropy against a fixed target (label propagation's update) and
    the loss, ``(KL(p_t || p_h) + KL(p_h || p_t)) / 2`` averaged over the edges, is 0
    when neighbours agree.

    Parameters
    ----------
    logits_head, logits_tail : Tensor of shape (n_edges, n_classes)
        Class logits of the edges' end points.

    Returns
    -------
    loss : Tensor of shape ()
    """
    log_head = torch.log_softmax(logits_head.float(), dim=1)
    log_tail = torch.log_softmax(logits_tail.float(), dim=1)
    # KL(q || p) with q fixed: sum q (log q - log p); its gradient in p is the cross-entropy's.
    head_to_tail = torch.sum(log_tail.detach().exp() * (log_tail.detach() - log_head), dim=1)
    tail_to_head = torch.sum(log_head.detach().exp() * (log_head.detach() - log_tail), dim=1)
    return 0.5 * (head_to_tail + tail_to_head).mean()


def _has_class_head(estimator):
    check_is_fitted(estimator)
    if getattr(estimator, "label_mode_", None) != "categorical":
        raise AttributeError(
            f"{type(estimator).__name__} has no class head to predict with: fit it with "
            "label_mode='categorical' and labels y, or with n_clusters set."
        )
    return True


class LabelsMixin:
    """Label handling of the AdversarialAutoencoder (see its ``label_mode``)."""

    def _check_labels(self, y, n_samples, first_call):
        if first_call:
            return self._fit_label_mode(y, n_samples)
        if getattr(self, "label_mode_", None) is None or self.n_clusters is not None:
            return None  # a model fitted without labels, or a clusterer, keeps ignoring them
        if y is None:
            return np.full(n_samples, UNLABELED, dtype=np.int64)
        return encode_labels(y, n_samples, self.classes_)[1]

    def _fit_label_mode(self, y, n_samples):
        """Decide ``label_mode_`` and ``classes_`` on a first fit; return the indices."""
        self.label_mode_ = None
        self.__dict__.pop("classes_", None)
        if self.n_clusters is not None:
            # A clusterer, like KMeans: fit ignores y (semi-supervised is 'categorical' with y).
            self.label_mode_, self.classes_ = "categorical", np.arange(self.n_clusters)
            return None
        classes, indices = (None, None) if y is None else encode_labels(y, n_samples)
        if classes is None or not classes.size:
            return None
        if self.label_mode == "prior":
            prior = resolve_prior(self.prior, self.n_components)
            adapts = isinstance(self.prior, str) and isinstance(prior, (GaussianMixturePrior, SwissRollPrior))
            if prior.n_classes is None:
                warnings.warn(
                    f"y is ignored: label_mode='prior' places classes in the regions of the prior, and "
                    f"{type(prior).__name__} has none. Use prior='gaussian_mixture' or 'swiss_roll', or "
                    "label_mode='conditional' or 'categorical'.", UserWarning)
                return None
            if not adapts and prior.n_classes < len(classes):
                raise ValueError(f"y has {len(classes)} classes but the prior {type(prior).__name__} has only "
                                 f"{prior.n_classes} class regions; give the prior as many regions as classes.")
        self.label_mode_, self.classes_ = self.label_mode, classes
        return indices

    def _active_loss_names(self):
        names = super()._active_loss_names()
        if getattr(self, "label_mode_", None) == "categorical":
            if self.n_neighbors is not None:
                names += ("neighbor_classes",)  # the class head's graph consistency
            names += ("class_discriminator", "classification")
        return names

    def _initialize(self, X):
        super()._initialize(X)
        if self.label_mode_ == "prior" and isinstance(self.prior, str):
            # A named prior gets one component / segment per class.
            if isinstance(self.prior_, GaussianMixturePrior):
                self.prior_.n_modes = len(self.classes_)
            elif isinstance(self.prior_, SwissRollPrior):
                self.prior_.n_segments = len(self.classes_)

    def _draw_prior(self, n_samples, labels):
        if labels is None or self.label_mode_ != "prior":
            return super()._draw_prior(n_samples, labels)
        labels = labels.cpu().numpy()
        unlabeled = labels < 0
        Z = self.prior_.sample(n_samples, y=np.where(unlabeled, 0, labels), random_state=self._rng)
        if unlabeled.any():
            # Unlabeled rows are matched to the whole prior, not to one class's region.
            Z[unlabeled] = self.prior_.sample(int(unlabeled.sum()), random_state=self._rng)
        return Z

    def _class_indices(self, y, n_samples):
        """Class indices for ``sample(y=...)``: one label for all rows, or one per row."""
        if getattr(self, "label_mode_", None) is None:
            raise ValueError(f"{type(self).__name__} was fitted without labels, so sample() cannot take y; "
                             "fit it with y (and a label_mode) to generate rows of a class.")
        y = np.asarray(y, dtype=self.classes_.dtype if self.classes_.dtype.kind == "O" else None)
        y = np.full(n_samples, y, dtype=y.dtype) if y.ndim == 0 else y
        if y.shape != (n_samples,):
            raise ValueError(f"y must be one label or an array of {n_samples} labels, got shape {y.shape}.")
        try:
            known = np.isin(y, self.classes_)
        except TypeError:
            known = np.zeros(n_samples, dtype=bool)
        if not known.all():
            raise ValueError(f"sample() got labels {np.unique(y[~known].astype(object)).tolist()} that are not "
                             f"among the fitted classes_ {self.classes_.tolist()}.")
        return np.searchsorted(self.classes_, y)

    def _sample_rows(self, n_samples, y, random_state):
        mode = getattr(self, "label_mode_", None)
        if mode is None or (y is None and mode == "prior"):
            return super()._sample_rows(n_samples, y, random_state)
        rng = check_random_state(random_state)
        n_classes = len(self.classes_)
        labels = rng.randint(n_classes, size=n_samples) if y is None else self._class_indices(y, n_samples)
        if mode == "prior":
            Z = self.prior_.sample(n_samples, y=labels, random_state=rng)
            return self._batched(self._generate, Z, to_input_space=True)
        Z = self.prior_.sample(n_samples, random_state=rng)
        content = np.eye(n_classes + (mode == "conditional"))[labels]
        return self._batched(self.decoder_, np.hstack([Z, content]), to_input_space=True)

    @available_if(_has_class_head)
    def predict_proba(self, X):
        """Class (or cluster) probabilities from the encoder's class head.

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
        X = self._validate_input(X, reset=False)
        return self._batched(lambda rows: torch.softmax(self.encoder_.encode(rows, sample=False)[1].float(), dim=1),
                             X, standardise=True)

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
