"""Class labels for the AdversarialAutoencoder: encoding, and the label modes as strategies.

The three label modes of the AAE paper (Sec. 2.3, 4, 5-6) are objects, resolved once per
fit from ``label_mode``, ``n_clusters`` and ``y`` by :func:`resolve_label_mode`. Each owns
what it changes: the widths its networks add, its own networks, how the decoder reads a
code (:meth:`NoLabels.decoder_input`, the one place the decoder's input layout is
written), the prior samples it draws, its losses and how it generates rows of a class.
A model without labels uses :class:`NoLabels`.
"""

import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from ._clustering import CLUSTER_VOTE_NEIGHBORS, ClusterVote, best_partition, connectivity_graph, fit_head
from ._losses import discriminator_step, generator_loss
from ._neighbors import nearest_neighbors
from ._torch_utils import adam
from .networks import mlp, reset_parameters
from .priors import resolve_prior

#: The label that marks an unlabeled row, as in scikit-learn's semi-supervised estimators.
UNLABELED = -1
# Weight of the class head's balance term against its adversarial loss: the KL divergence
# of a batch's mean class probabilities from uniform must outweigh the discriminator's
# row-by-row judgement, or a head that puts every row in one category can never leave it
# (clusters died with a weight of 1).
_CLUSTER_BALANCE_WEIGHT = 5
# umap-learn's default graph size: what n_neighbors='auto' trains with
# (NoLabels.auto_n_neighbors), and the graph a clusterer trains on when n_neighbors is
# None. Without a graph the clusterer's head groups rows by what the decoder needs to
# reconstruct them, which is not what makes a class: on held-out digits it matched the
# classes far worse than KMeans on the raw pixels. Along the graph's edges the head's
# probabilities must agree, which makes it cut the data where the graph is thin, as
# spectral clustering does.
UMAP_N_NEIGHBORS = 15
# A cluster holding less than this share of an even split of the rows (n_samples /
# n_clusters) is reported as degenerate after fit, as an empty one is.
_DEGENERATE_CLUSTER_SHARE = 0.1


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
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind == "O":
        def is_missing(value):
            try:
                return value is None or bool(value != value)  # None, NaN, NaT
            except TypeError:
                return True  # pandas.NA: its comparisons have no truth value
        missing = np.fromiter((is_missing(v) for v in y), dtype=bool, count=y.shape[0])
    else:
        missing = np.zeros(0, dtype=bool)
    if missing.any():
        raise ValueError(f"Input y contains missing values (NaN, None or pandas.NA) in {int(missing.sum())} of "
                         f"{n_samples} rows; mark unlabeled rows with -1, scikit-learn's convention.")
    if y.dtype.kind == "f" and np.isinf(y).any():
        raise ValueError("Input y contains infinity; y must hold class labels, -1 marking unlabeled rows.")
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


class NoLabels:
    """A model trained without labels: the prior, the decoder and sampling as in the paper."""

    #: The fitted ``label_mode_``.
    name = None
    #: Widths added to the discriminator's input (a label), the decoder's (a label or
    #: class probabilities) and the encoder's output (a class head).
    condition_size = content_size = head_size = 0
    #: Whether the mode clusters the rows (``n_clusters``): its steps after training read
    #: the neighbour graph's lists of each row's neighbours.
    clusterer = False
    #: Whether the training codes that new rows are placed among may be refined by the
    #: neighbour graph alone after training (see ``AdversarialAutoencoder._placement_codes``):
    #: with labels, codes also answer to them.
    refines_placement = True
    #: What ``n_neighbors='auto'`` trains with: umap-learn's default graph size.
    auto_n_neighbors = UMAP_N_NEIGHBORS
    #: Whether the fit trains on class labels, whose games ``max_iter='auto'`` gives
    #: more epochs (``_training.planned_epochs``).
    trains_on_labels = False

    def training_labels(self, y, n_samples):
        """Class indices of the rows of a later ``partial_fit`` / warm-started fit, or None."""
        return None

    def build(self, estimator, generator):
        """Create the mode's own networks and optimizers on ``estimator``."""

    def draw_prior(self, prior, n_samples, labels, rng):
        """Prior samples for a block of training rows whose class indices are ``labels``."""
        return prior.sample(n_samples, random_state=rng)

    def condition(self, labels):
        """What the code's discriminator reads beside each code, or None."""
        return None

    def decoder_input(self, Z, labels=None, proba=None):
        """The decoder's input for codes ``Z``, with their class indices or probabilities.

        Without either, the decoder reads what it reads for a code that comes alone
        (``inverse_transform``, ``score``).
        """
        return Z

    def update_head(self, estimator, logits):
        """The class head's own adversarial step on a minibatch; returns what its losses need."""
        return None

    def head_losses(self, estimator, head, logits, labels):
        """The class head's terms of the encoder's loss, weighted, and the losses to record."""
        return [], {}

    def n_neighbors(self, estimator):
        """The neighbour graph's size this mode trains with: ``n_neighbors`` as given,
        'auto' resolved (``estimator._n_neighbors()``)."""
        return estimator._n_neighbors()

    def after_fit(self, estimator, X, incremental):
        """Fitted attributes that need the trained networks and the rows ``X`` of the call."""

    def sample(self, estimator, n_samples, y, random_state):
        """Raw generated rows for :meth:`~sklearn_aae.AdversarialAutoencoder.sample`."""
        if y is not None:
            raise ValueError(f"{type(estimator).__name__} was fitted without labels, so sample() cannot take y.")
        return estimator._generate_rows(estimator.prior_.sample(n_samples, random_state=random_state))


class _Classes(NoLabels):
    """A mode trained on classes ``classes``."""

    refines_placement = False
    trains_on_labels = True

    def __init__(self, classes):
        self.classes = classes
        self.n_classes = len(classes)

    @property
    def condition_size(self):
        # The label with an extra slot for unlabeled rows.
        return self.n_classes + 1

    def training_labels(self, y, n_samples):
        if y is None:
            return np.full(n_samples, UNLABELED, dtype=np.int64)
        return encode_labels(y, n_samples, self.classes)[1]

    def condition(self, labels):
        return one_hot(labels, self.n_classes + 1)

    def class_indices(self, y, n_samples):
        """Class indices for ``sample(y=...)``: one label for all rows, or one per row."""
        y = np.asarray(y, dtype=self.classes.dtype if self.classes.dtype.kind == "O" else None)
        y = np.full(n_samples, y, dtype=y.dtype) if y.ndim == 0 else y
        if y.shape != (n_samples,):
            raise ValueError(f"y must be one label or an array of {n_samples} labels, got shape {y.shape}.")
        try:
            known = np.isin(y, self.classes)
        except TypeError:
            known = np.zeros(n_samples, dtype=bool)
        if not known.all():
            # Distinct unknown labels in the order given: sorting could fail on mixed types.
            unknown = y[~known].astype(object).tolist()
            try:
                unknown = list(dict.fromkeys(unknown))
            except TypeError:
                pass  # unhashable labels, listed as they are
            raise ValueError(f"sample() got labels {unknown[:10]} that are not among the fitted classes_ "
                             f"{self.classes.tolist()}.")
        return np.searchsorted(self.classes, y)

    def sample(self, estimator, n_samples, y, random_state):
        # The decoder reads the class: draw one per row unless given, and a style from the prior.
        rng = check_random_state(random_state)
        labels = rng.randint(self.n_classes, size=n_samples) if y is None else self.class_indices(y, n_samples)
        Z = estimator.prior_.sample(n_samples, random_state=rng)
        return estimator._decoded_rows(Z, labels)


class PriorPlacement(_Classes):
    """label_mode='prior': class ``k``'s codes fill region ``k`` of the prior.

    The prior sample the discriminator compares with a code of class ``k`` comes from
    region ``k``, and the discriminator sees the label, which places class ``k`` there.
    """

    name = "prior"

    def draw_prior(self, prior, n_samples, labels, rng):
        if labels is None:
            return prior.sample(n_samples, random_state=rng)
        labels = labels.cpu().numpy()
        unlabeled = labels < 0
        Z = prior.sample(n_samples, y=np.where(unlabeled, 0, labels), random_state=rng)
        if unlabeled.any():
            # Unlabeled rows are matched to the whole prior, not to one class's region.
            Z[unlabeled] = prior.sample(int(unlabeled.sum()), random_state=rng)
        return Z

    def sample(self, estimator, n_samples, y, random_state):
        if y is None:
            return NoLabels.sample(self, estimator, n_samples, y, random_state)
        rng = check_random_state(random_state)
        labels = self.class_indices(y, n_samples)
        return estimator._generate_rows(estimator.prior_.sample(n_samples, y=labels, random_state=rng))


class ConditionalDecoder(_Classes):
    """label_mode='conditional': the decoder reads the one-hot label beside the code.

    The prior sample beside any label comes from the whole prior, so the codes of every
    class must fill it: the code cannot tell the class and carries the style only.
    """

    name = "conditional"
    # n_neighbors='auto' trains without the graph: the data's neighbourhoods are mostly its
    # classes', and on the graph the code learned the class the label is to carry (the
    # samples of a class drifted towards others; benchmarks/RESULTS.md, "With and
    # without the graph").
    auto_n_neighbors = None

    @property
    def content_size(self):
        return self.n_classes + 1

    def decoder_input(self, Z, labels=None, proba=None):
        if labels is None:
            # No label comes with a code here: decode with the unlabeled slot.
            labels = Z.new_full((Z.shape[0],), UNLABELED, dtype=torch.int64)
        return torch.cat([Z, one_hot(labels, self.n_classes + 1).to(Z.dtype)], dim=1)


class ClassHead(_Classes):
    """label_mode='categorical' or ``n_clusters``: a softmax class head beside the style code.

    A second discriminator matches the head's output to a one-hot categorical prior,
    labeled rows add a cross-entropy on the head, and the decoder reads the style code and
    the class probabilities. Built from ``n_clusters`` (``clusterer=True``) it trains
    without labels, like ``KMeans``, and its code's discriminator sees no label.
    """

    name = "categorical"

    def __init__(self, classes, *, clusterer=False, n_samples=None):
        super().__init__(classes)
        self.clusterer = clusterer
        # A single row has no neighbours to build a graph of.
        self.default_n_neighbors = UMAP_N_NEIGHBORS if clusterer and (n_samples or 0) > 1 else None

    @property
    def condition_size(self):
        return 0 if self.clusterer else self.n_classes + 1

    @property
    def trains_on_labels(self):
        # A clusterer trains without labels, on the plain budget its partition was set on.
        return not self.clusterer

    @property
    def content_size(self):
        return self.n_classes

    @property
    def head_size(self):
        return self.n_classes

    def training_labels(self, y, n_samples):
        return None if self.clusterer else super().training_labels(y, n_samples)

    def condition(self, labels):
        return None if self.clusterer else super().condition(labels)

    def build(self, estimator, generator):
        estimator.class_discriminator_ = reset_parameters(
            mlp(self.n_classes, estimator._discriminator_hidden(), 1, estimator.activation, float32=True), generator)
        estimator.class_discriminator_optimizer_ = adam(estimator.class_discriminator_.parameters(),
                                                        estimator.learning_rate_init, betas=(0.5, 0.999))

    def decoder_input(self, Z, labels=None, proba=None):
        if proba is None and labels is not None:
            proba = one_hot(labels, self.n_classes)  # a chosen class, as a certain head says it
        elif proba is None:
            # A style code alone: no class preferred.
            proba = Z.new_full((Z.shape[0], self.n_classes), 1.0 / self.n_classes)
        return torch.cat([Z, proba], dim=1)

    def update_head(self, estimator, logits):
        proba = torch.softmax(logits, dim=1)  # (batch, n_classes)
        categories = torch.randint(self.n_classes, (logits.shape[0],), device=logits.device,
                                   generator=estimator._generator)
        loss = discriminator_step(estimator.class_discriminator_, estimator.class_discriminator_optimizer_,
                                  F.one_hot(categories, self.n_classes).to(proba.dtype), proba)
        return {"proba": proba, "class_discriminator": loss}

    def head_losses(self, estimator, head, logits, labels):
        classification = torch.zeros((), device=logits.device)
        if labels is not None:
            labeled = labels >= 0
            # Averaged over the labeled rows without a host sync on their count.
            per_row = F.cross_entropy(logits.float(), labels.clamp(min=0), reduction="none")
            classification = (per_row * labeled).sum() / labeled.sum().clamp(min=1)
        # The discriminator judges one row at a time, so a head that puts every row in the
        # same one-hot category looks real to it, and a saturated softmax cannot leave: the
        # KL divergence of the batch's mean class probabilities from the uniform prior is
        # what keeps all categories in use.
        proba = head["proba"]
        mean_proba = proba.float().mean(dim=0)
        balance = torch.sum(mean_proba * torch.log(mean_proba * self.n_classes + 1e-8))
        terms = [estimator._adversarial_weight() * (generator_loss(estimator.class_discriminator_, proba)
                                                 + _CLUSTER_BALANCE_WEIGHT * balance),
                 estimator.classification_weight * classification]
        return terms, {"class_discriminator": head["class_discriminator"], "classification": classification}

    def n_neighbors(self, estimator):
        n_neighbors = estimator._n_neighbors()
        if n_neighbors is not None:
            return n_neighbors
        return getattr(self, "default_n_neighbors", None)  # absent from models saved before it existed

    def after_fit(self, estimator, X, incremental):
        """A clusterer's ``labels_`` and ``cluster_centers_``; empty or degenerate clusters are reported.

        After ``fit`` (not ``partial_fit``, whose chunks are parts of the data) the
        head's clusters of the training rows, refined on their neighbour graph (the
        fit's own neighbour lists when it trained on all the rows,
        :func:`_training_neighbors`), and KMeans's and Ward's clusterings of their codes
        laid out along the fit's graph (:func:`_cluster_layout`) are compared, and the
        one of largest modularity on the graph is chosen
        (:mod:`sklearn_aae._clustering`). A row's cluster, in ``labels_`` as in
        ``predict``, is then the distance-weighted vote of its nearest training rows in
        that partition (a training row keeps its own), and the head is fitted to the
        training rows' clusters. After ``partial_fit`` the head clusters the rows.
        """
        if not self.clusterer:
            return
        # The codes (n_samples, n_components): fitting the head's read-out leaves them as they are.
        Z = estimator._map_rows(estimator._encode, X)
        estimator._cluster_vote = None
        if not incremental and X.shape[0] > self.n_classes:
            labels = np.argmax(estimator._map_rows(estimator._head_proba, X), axis=1)
            n_neighbors = estimator._n_neighbors() or UMAP_N_NEIGHBORS
            # One set of lists, long enough for the graph and for the vote.
            indices, distances = _training_neighbors(estimator, X, max(n_neighbors, CLUSTER_VOTE_NEIGHBORS))
            chosen = best_partition(connectivity_graph(indices[:, :n_neighbors]), labels, X,
                                    _cluster_layout(estimator, X, Z), self.n_classes, n_neighbors, estimator._rng)
            vote = ClusterVote(X, chosen, self.n_classes, search_index=_training_search_index(estimator, X))
            proba = vote.neighbor_proba(indices, distances)
            fit_head(estimator, X, np.argmax(proba, axis=1), estimator._rng)
            estimator._cluster_vote = vote
        else:
            proba = estimator._cluster_proba(X)
        # The same arithmetic as predict(), so labels_ is predict() of the training rows.
        labels = estimator.classes_[np.argmax(proba, axis=1)]
        estimator.labels_ = labels
        sizes = np.bincount(labels, minlength=self.n_classes)
        # The decoded mean code of each cluster: the centre in the model's own terms (the
        # mean of the member rows is a blend of styles the model may never generate). An
        # empty cluster decodes the mean code of all rows.
        means = np.stack([Z[labels == k].mean(axis=0) if sizes[k] else Z.mean(axis=0)
                          for k in range(self.n_classes)])
        estimator.cluster_centers_ = estimator._reshape_output(estimator._decoded_rows(means, self.classes))
        degenerate = np.flatnonzero(sizes < _DEGENERATE_CLUSTER_SHARE * X.shape[0] / self.n_classes)
        if degenerate.size:
            warnings.warn(
                f"{type(estimator).__name__}(n_clusters={self.n_classes}): clusters {degenerate.tolist()} hold "
                f"{sizes[degenerate].tolist()} of the {X.shape[0]} training rows (empty, or less than "
                f"{_DEGENERATE_CLUSTER_SHARE:.0%} of an even share). The data may hold fewer groups than "
                "n_clusters, or training stopped early: lower n_clusters, or fit longer (tol=None).",
                ConvergenceWarning)


def _graph_of(estimator, X):
    """The fit's neighbour graph when it was built on exactly the rows ``X``, else None
    (an early-stopping split kept some rows out of it, or there is no graph)."""
    term = estimator.__dict__.get("_neighbor_term")
    return term.graph if term is not None and term.graph.X is X else None


def _cluster_layout(estimator, X, Z):
    """The codes ``Z`` of the training rows ``X`` laid out along the fit's neighbour graph
    (``NeighborGraph.refine_layout``), which the clusterer's KMeans and Ward partitions read.

    Without a graph of these rows the codes are partitioned as trained.
    """
    graph = _graph_of(estimator, X)
    return Z if graph is None else graph.refine_layout(Z, estimator._rng)


def _training_search_index(estimator, X):
    """The NN-descent index of the training rows ``X`` the fit's neighbour graph searched
    them with (above a few thousand rows), or None: new rows are then searched exactly."""
    graph = _graph_of(estimator, X)
    return None if graph is None else graph.search_index


def _training_neighbors(estimator, X, n_neighbors):
    """Each training row's ``n_neighbors`` nearest training rows (itself first) and their distances.

    The fit's neighbour graph found them already when it was built on these rows with
    at least as many neighbours (its lists may be longer, nearest first). Otherwise (an
    early-stopping split kept some rows out of it, a graph of fewer neighbours, or a
    prior on which the clusterer trains without a graph) they are searched as the graph
    searches: exactly up to a few thousand rows, by NN-descent above, whose cost grows
    about as ``n log n`` where an exact search's grows as the square of the rows.
    """
    n_neighbors = min(n_neighbors, X.shape[0])
    graph = _graph_of(estimator, X)
    if graph is not None and graph.knn_indices is not None and graph.n_neighbors >= n_neighbors:
        return graph.knn_indices, graph.knn_distances
    return nearest_neighbors(X, n_neighbors, estimator._rng)


def resolve_label_mode(estimator, y, n_samples):
    """The label mode of a first fit, its training labels and the prior, resolved together.

    Sets ``label_mode_`` and ``classes_`` on ``estimator``. A named 'gaussian_mixture' or
    'swiss_roll' prior in label_mode 'prior' gets one region per class, so the prior is
    resolved here, once, knowing the classes.

    Returns
    -------
    mode : NoLabels
        The strategy (a :class:`NoLabels` or one of its subclasses).
    labels : ndarray of shape (n_samples,) or None
        Class indices of the rows (-1: unlabeled), or None to train without.
    prior : Prior
        The resolved prior.
    """
    estimator.label_mode_ = None
    # A first fit starts without the results of a clusterer fitted before.
    for name in ("classes_", "labels_", "cluster_centers_", "_cluster_vote"):
        estimator.__dict__.pop(name, None)
    mode, labels, n_regions = NoLabels(), None, None
    if estimator.n_clusters is not None:
        if estimator.n_clusters > n_samples:
            raise ValueError(f"n_clusters={estimator.n_clusters} exceeds the number of training rows, "
                             f"n_samples={n_samples}; a clusterer needs at least one row per cluster.")
        # A clusterer, like KMeans: fit ignores y (semi-supervised is 'categorical' with y).
        mode = ClassHead(np.arange(estimator.n_clusters), clusterer=True, n_samples=n_samples)
    elif y is not None:
        classes, labels = encode_labels(y, n_samples)
        if classes.size:
            mode = {"prior": PriorPlacement, "conditional": ConditionalDecoder,
                    "categorical": ClassHead}[estimator.label_mode](classes)
            n_regions = len(classes) if estimator.label_mode == "prior" and isinstance(estimator.prior, str) else None
        else:
            labels = None
    prior = resolve_prior(estimator.prior, estimator.n_components, n_classes=n_regions)
    if isinstance(mode, ClassHead) and (prior.code_activation is not None or mode.n_classes == 1):
        # One cluster has nothing to cut; codes on a simplex (prior='categorical') have no
        # neighbourhoods for UMAP's loss to keep, and it diverges on them.
        mode.default_n_neighbors = None
    if isinstance(mode, PriorPlacement):
        if prior.n_classes is None:
            warnings.warn(
                f"y is ignored: label_mode='prior' places classes in the regions of the prior, and "
                f"{type(prior).__name__} has none. Use prior='gaussian_mixture' or 'swiss_roll', or "
                "label_mode='conditional' or 'categorical'.", UserWarning)
            mode, labels = NoLabels(), None
        elif prior.n_classes < mode.n_classes:
            raise ValueError(f"y has {mode.n_classes} classes but the prior {type(prior).__name__} has only "
                             f"{prior.n_classes} class regions; give the prior as many regions as classes.")
    if mode.name is not None:
        estimator.label_mode_, estimator.classes_ = mode.name, mode.classes
    return mode, labels, prior
