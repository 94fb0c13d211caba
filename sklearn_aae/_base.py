"""The estimator base shared by AdversarialAutoencoder and ALAE: the public API.

It owns what both models do the same way: parameter checks, the first-fit set-up
(standardisation, device, precision, seeds, prior), ``fit`` / ``partial_fit`` /
``transform`` / ``inverse_transform`` / ``sample`` / ``score``, and pickling that reopens a
GPU-trained model on a CPU. The epoch loop is in ``_training.py``, the data handling in
``_data.py``, the label modes in ``_labels.py`` and the neighbour option in
``_neighbors.py`` / ``_placement.py``. A subclass builds its networks in ``_build``, says
what one minibatch update is in ``_train_step`` and how codes are read and written in
``_encode`` / ``_decode`` / ``_generate``.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted
from tqdm.auto import tqdm

from . import _torch_utils
from ._data import (INFERENCE_CHUNK, ChunkedInference, TrainingData, check_codes, split_validation, validate_input)
from ._labels import NoLabels
from ._losses import reconstruction_loss
from ._neighbors import NeighborTerm, prior_code_scale, show_phase
from ._persistence import save
from ._placement import NeighborPlacement
from ._fit_state import continue_settings, initialize, labels_now_given, state_changed
from ._training import fit_codes, planned_batch_size, planned_epochs, run_epochs
from .networks import ACTIVATIONS, layer_sizes
from .priors import _PRIORS, Prior, resolve_prior

_LAYER_SIZES = ["array-like", Interval(Integral, 1, None, closed="left")]


class BaseAdversarialAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ChunkedInference, BaseEstimator,
                                 metaclass=ABCMeta):
    """Base class for the adversarial autoencoders. Not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(_PRIORS)), Prior, callable],
        "hidden_layer_sizes": _LAYER_SIZES,
        "discriminator_layer_sizes": _LAYER_SIZES,
        "activation": [StrOptions(set(ACTIVATIONS))],
        "reconstruction_loss": [StrOptions({"mse", "bce"})],
        "scaling": [StrOptions({"auto", "feature", "global"})],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"linear", "constant"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "n_neighbors": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"}), None],
        "neighbor_weight": [Interval(Real, 0, None, closed="neither")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"spectral", "random"})],
        "transform_mode": [StrOptions({"auto", "encoder", "neighbors"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "warm_start": ["boolean"],
        "precision": [StrOptions({"float32", "bfloat16", "auto"})],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Prefix of get_feature_names_out: 'aae' gives aae0, aae1, ...
    _feature_names_prefix = "aae"
    #: The loss that loss_curve_ records and tol / n_iter_no_change watch.
    _monitored_loss = "reconstruction"
    #: Optimizer attributes that learning_rate='linear' leaves at learning_rate_init
    #: (_training.set_learning_rate); every other optimizer follows the schedule.
    _CONSTANT_RATE_OPTIMIZERS = ()
    # Whether the training codes that new rows are placed among are refined after
    # training (_placement_codes).
    _REFINES_PLACEMENT = False
    #: Whether the embedding itself is matched to the prior (the AAE's codes) or free
    #: (ALAE's w): the neighbour graph's unit of distance follows the prior's spread or not.
    _embedding_matches_prior = True
    #: Parameters the fitted networks and histories depend on: a warm-started fit rebuilds
    #: the model when one changed, partial_fit refuses the change. The others are read at
    #: each call (weights, tol, max_iter, ...), or (learning_rate_init, precision) passed
    #: on to the continuing model; random_state seeds first fits only.
    _state_parameters = ("n_components", "prior", "hidden_layer_sizes", "discriminator_layer_sizes", "activation",
                         "reconstruction_loss", "scaling", "alpha", "input_noise", "n_neighbors", "device")

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _build(self, n_features, generator):
        """Create the networks (on the CPU, initialised from ``generator``) and optimizers."""

    @abstractmethod
    def _train_step(self, X, Z_prior, y=None, rows=None):
        """One minibatch update; returns a dict of the named losses (tensors).

        ``y`` holds the batch's class indices (-1: unlabeled) when the model trains on
        labels, else ``None``; ``rows`` the batch's positions in the training data. The
        fit's neighbour term, if any, is ``self._neighbor_term``: its minibatches are
        the end points of graph edges, heads then tails, and its ``losses`` reads the
        batch's own codes.
        """

    @abstractmethod
    def _encode(self, X):
        """Deterministic codes of standardised rows ``X`` (a float32 tensor)."""

    @abstractmethod
    def _decode(self, Z):
        """Raw generator output for codes ``Z``: standardised rows, or logits for 'bce'."""

    def _generate(self, Z):
        """Raw output for prior samples ``Z``; the AAE decodes them directly."""
        return self._decode(Z)

    def _reconstruct(self, X):
        """Raw reconstruction of standardised rows ``X``, for the reconstruction error."""
        return self._decode(self._encode(X))

    def _prior_dimension(self):
        """Dimension of the prior samples; the AAE matches its codes to them directly."""
        return self.n_components

    def _resolve_labels(self, y, n_samples):
        """The label mode, the training labels and the prior of a first fit.

        The base estimator has no use for labels: it ignores ``y``.
        """
        return NoLabels(), None, resolve_prior(self.prior, self._prior_dimension())

    # ------------------------------------------------------------------ public API
    def fit(self, X, y=None):
        """Train the networks on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Training rows: a float array, a pandas DataFrame, or images.
        y : array-like of shape (n_samples,) or None, default=None
            Class labels, -1 marking an unlabeled row, for the estimators that use them
            (see ``label_mode`` of :class:`AdversarialAutoencoder`); others ignore it.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        return self._fit(X, incremental=False, y=y)

    def partial_fit(self, X, y=None):
        """Train for one pass over ``X``, continuing from the current state.

        The first call fits the standardisation on its chunk; later chunks reuse it.
        With ``n_neighbors`` set, each call builds the neighbour graph of its own chunk:
        neighbours are only sought within the chunk, so chunks should be large (thousands
        of rows) for the graph to resemble that of the whole data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            One chunk of training rows.
        y : None
            Ignored: only :meth:`fit` uses labels (dask-ml's ``Incremental`` passes a
            placeholder here). A model fitted with labels trains on these rows as
            unlabeled ones.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not hasattr(self, "prior_"):
            self._validate_params()
        return self._fit(X, incremental=True)

    def transform(self, X):
        """Encode ``X`` into the latent space (deterministically).

        With ``transform_mode='encoder'`` the encoder maps each row to its code. With
        ``transform_mode='neighbors'`` each row is placed among the training rows' codes
        by the neighbour graph's loss, as umap-learn's ``transform`` places it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Rows to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype float64
            Latent codes.
        """
        check_is_fitted(self)
        X = validate_input(self, X, reset=False)
        if self._transform_mode() == "neighbors":
            if getattr(self, "_placement", None) is None:
                raise ValueError(f"transform_mode='neighbors' needs the training rows, which {type(self).__name__} "
                                 "keeps only when fitted with that mode; refit it with transform_mode='neighbors' "
                                 "or set transform_mode='encoder'.")
            return self._placement.transform(X, self.device_, INFERENCE_CHUNK)
        return self._map_rows(self._encode, X)

    def inverse_transform(self, X):
        """Decode latent codes back to the input space, units and shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Reconstructed rows in the units (and image shape) of the training data.
        """
        check_is_fitted(self)
        return self._reshape_output(self._rows_from(self._decode, check_codes(X, self.n_components)))

    def sample(self, n_samples=1, y=None, random_state=None):
        """Generate new rows: draw codes from the prior and decode them.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        y : label, array-like of shape (n_samples,) or None, default=None
            Class of the rows to generate (one label for all, or one per row), for a
            model fitted with labels; see ``label_mode`` of :class:`AdversarialAutoencoder`.
        random_state : int, RandomState instance or None, default=None
            Seed for the prior draw.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Generated rows in the units (and image shape) of the training data.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        return self._reshape_output(self._label_mode.sample(self, n_samples, y, random_state))

    def score(self, X, y=None):
        """Negative mean reconstruction error of ``X`` (higher is better).

        The error is measured on standardised features (mean squared error) or, with
        ``reconstruction_loss='bce'``, as binary cross-entropy, so every feature counts the
        same whatever its units. This makes ``GridSearchCV`` work without a scorer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w[, c])
            Rows to reconstruct.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Minus the mean reconstruction error.
        """
        check_is_fitted(self)
        return -self._reconstruction_error(validate_input(self, X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``aae0, aae1, ...`` (``alae0, ...`` for ALAE).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "_n_features_out")
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray([f"{self._feature_names_prefix}{i}" for i in range(self._n_features_out)], dtype=object)

    def save(self, path):
        """Write the fitted model to one file that is safe to open: loading it runs no code.

        Parameters, fitted attributes and arrays go as JSON and ``.npz`` (read without
        pickle), the networks' weights through ``torch.save`` (read with
        ``weights_only=True``); :func:`sklearn_aae.load` opens it, on a CPU if the
        model was trained on a GPU this machine lacks. A callable prior or a ``Prior``
        subclass of your own cannot be written this way (it is code): use pickle or
        joblib for those, which run code when opened.

        Parameters
        ----------
        path : str or path-like
            File to write (a zip archive; ``.zip`` is a good suffix).

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_aae import ALAE, load
        >>> X, _ = load_digits(return_X_y=True)
        >>> path = os.path.join(tempfile.mkdtemp(), "alae.zip")
        >>> ALAE(max_iter=2, random_state=0).fit(X[:200]).save(path)
        >>> load(path).sample(3, random_state=0).shape
        (3, 64)
        """
        check_is_fitted(self)
        save(self, path)

    @property
    def _n_features_out(self):
        return self.n_components

    # ------------------------------------------------------------------ fitting
    def _fit(self, X, incremental, y=None):
        # A call that fails before completing an epoch leaves the estimator as it was
        # (unfitted after a failed first fit); one that fails later keeps its last
        # completed epoch (run_epochs goes back to it) and re-raises.
        before, n_iter_before = dict(self.__dict__), None
        try:
            X, data, validation_score = self._prepare_fit(X, incremental, y)
            n_iter_before = self.n_iter_
            if self.init == "spectral" and self._neighbor_term is not None and not incremental and self.n_iter_ == 0:
                self._start_from_spectral_layout(data)
            n_epochs = 1 if incremental else planned_epochs(self.max_iter, len(data),
                                                            planned_batch_size(self, len(data)),
                                                            refined=self._refines_placement(),
                                                            labels=self._label_mode.trains_on_labels)
            run_epochs(self, data, n_epochs, incremental=incremental, validation_score=validation_score)
            self._label_mode.after_fit(self, X, incremental)
            self._place_training_rows()
        except BaseException:
            if n_iter_before is None or self.n_iter_ == n_iter_before:
                self.__dict__.clear()
                self.__dict__.update(before)
            else:
                self._place_training_rows(refine=False)
            raise
        finally:
            # The graph (and its view of the caller's rows) is only needed while training.
            self.__dict__.pop("_neighbor_term", None)
        return self

    def _prepare_fit(self, X, incremental, y):
        """Validate, set up or continue the model; the training rows and the validation score."""
        first_call = not hasattr(self, "prior_") or not (incremental or self.warm_start)
        self._check_transform_mode(incremental)
        first_call = first_call or state_changed(self, incremental)
        X = validate_input(self, X, reset=first_call)
        if not first_call and not incremental and labels_now_given(self, y, X.shape[0]):
            first_call, X = True, validate_input(self, X, reset=True)
        if first_call:
            self._label_mode, labels, prior = self._resolve_labels(y, X.shape[0])
            initialize(self, X, prior)
        else:
            labels = self._label_mode.training_labels(y, X.shape[0])
            continue_settings(self)
        self._resolve_transform_mode(incremental)
        if not incremental:
            self._no_improvement_count = 0
        train_rows, self._validation_indices = np.arange(X.shape[0]), None
        if self.early_stopping and not incremental:
            train_rows, self._validation_indices = split_validation(X.shape[0], self.validation_fraction, self._rng)
        data = TrainingData(X, train_rows, self.mean_, self.scale_, self.device_, labels)
        self._neighbor_term = self._neighbor_term_for(X, data)
        validation_score = None
        if self._validation_indices is not None:
            def validation_score():
                return -self._reconstruction_error(X, self._validation_indices)
        return X, data, validation_score

    def _transform_mode(self):
        """The mode transform uses: the parameter, or for 'auto' the one resolved in fit."""
        return self.transform_mode_ if self.transform_mode == "auto" else self.transform_mode

    def _place_training_rows(self, refine=True):
        """With transform_mode 'neighbors' (or 'auto' resolved to it), keep the training
        rows and their codes, refined by :meth:`_placement_codes` unless ``refine`` is False
        (a fit that failed after some epochs keeps its encoder's codes)."""
        self._placement = None
        if self._transform_mode() == "neighbors" and self._neighbor_term is not None:
            graph = self._neighbor_term.graph
            refined = refine and self._refines_placement()
            # With verbose, the refinement is a phase of the fit's progress of its own: on
            # large data its epochs over the graph's edges take minutes after training.
            with tqdm(total=2 if refined else 1, desc=f"{type(self).__name__} placement", unit="phase",
                      disable=not self.verbose) as progress:
                progress = None if progress.disable else progress
                show_phase(progress, f"training codes of {graph.X.shape[0]:,} rows")
                codes = self._map_rows(self._encode, graph.X)
                if refined:
                    show_phase(progress, "codes refined along the graph, decoder fitted to them")
                    codes = self._placement_codes(graph, codes)
                show_phase(progress, "done")
            self._placement = NeighborPlacement.from_graph(graph, codes)

    def _refines_placement(self):
        """Whether this fit refines the training codes it places new rows among
        (:meth:`_placement_codes`): with transform_mode 'neighbors' in use, when the model
        refines them at all (``_REFINES_PLACEMENT``)."""
        return (self._REFINES_PLACEMENT and self._label_mode.refines_placement
                and self._transform_mode() == "neighbors" and self._neighbor_term is not None)

    def _placement_codes(self, graph, codes):
        """The training codes new rows are placed among, from the encoder's ``codes`` of the
        rows of ``graph``, for a model that refines them."""
        raise NotImplementedError

    def _resolve_transform_mode(self, incremental):
        """The mode transform will use, ``transform_mode_``.

        'auto' places new rows among the training rows (umap-learn's transform) when the
        neighbour graph is in use and the call is a whole ``fit``: ``partial_fit`` never
        sees the training rows whole. The placement searches them as the graph did
        (exactly, or by its NN-descent index on large data), so it scales as the graph.
        Needs the fit's label mode, which resolves ``n_neighbors='auto'``.
        """
        if self.transform_mode != "auto":
            if self.transform_mode == "neighbors" and self._n_neighbors() is None:
                raise ValueError("transform_mode='neighbors' places rows by the neighbour graph's loss, which "
                                 "n_neighbors=None trains without and n_neighbors='auto' leaves out for "
                                 "label_mode='conditional' fits with labels; set n_neighbors (15, say) or use "
                                 "transform_mode='encoder'.")
            self.transform_mode_ = self.transform_mode
            return
        placed = self._n_neighbors() is not None and not incremental
        self.transform_mode_ = "neighbors" if placed else "encoder"

    def _n_neighbors(self):
        """``n_neighbors`` with 'auto' resolved by the fit's label mode (``auto_n_neighbors``:
        15, or ``None`` for label_mode='conditional' with labels)."""
        return self._label_mode.auto_n_neighbors if self.n_neighbors == "auto" else self.n_neighbors

    def _check_transform_mode(self, incremental):
        # Before any work; a fit without the graph is refused once 'auto' is resolved
        # (_resolve_transform_mode).
        if self.transform_mode != "neighbors":
            return
        if incremental:
            raise ValueError("transform_mode='neighbors' places new rows among the training rows of one "
                             "fit, which partial_fit never sees whole; use fit, or "
                             "transform_mode='encoder' with partial_fit.")

    def _start_from_spectral_layout(self, data):
        """init='spectral': the encoder's codes of the training rows first fit the graph's
        spectral layout (:meth:`_spectral_start`, ``_training.fit_codes``)."""
        # With verbose, the start is a phase of the fit's progress of its own: on large
        # data the layout's eigenvectors take minutes between the graph and training.
        with tqdm(total=2, desc=f"{type(self).__name__} spectral start", unit="phase",
                  disable=not self.verbose) as progress:
            progress = None if progress.disable else progress
            show_phase(progress, f"spectral layout of {len(data):,} rows")
            targets = self._spectral_start()
            show_phase(progress, "encoder fitted to the layout")
            fit_codes(self, data, targets)
            show_phase(progress, "done")

    def _spectral_start(self):
        """The codes the encoder first fits with init='spectral': the graph's spectral layout
        with the prior's mean and spread in each coordinate (an embedding not matched to a
        prior, ALAE's, gets mean 0 and spread 1)."""
        mean, spread = np.zeros(self.n_components), np.ones(self.n_components)
        if self._embedding_matches_prior:
            Z = self.prior_.sample(1000, random_state=0)
            mean, spread = Z.mean(axis=0), Z.std(axis=0)
        layout = self._neighbor_term.graph.spectral_layout(self.n_components, self._rng)
        return mean + spread * layout

    def _layer_sizes(self, name):
        return layer_sizes(getattr(self, name), name)

    def _neighbor_term_for(self, X, data):
        """The neighbour graph's loss on this fit's training rows, or None without ``n_neighbors``."""
        n_neighbors = self._label_mode.n_neighbors(self)  # a clusterer's graph is on by default
        if n_neighbors is None:
            return None
        code_scale = prior_code_scale(self.prior_) if self._embedding_matches_prior else 1.0
        # With verbose, the graph's build is the first phase of the fit's progress: on
        # large data the neighbour search takes minutes before training starts.
        with tqdm(total=2, desc=f"{type(self).__name__} neighbour graph", unit="phase",
                  disable=not self.verbose) as progress:
            return NeighborTerm(X, data, n_neighbors=n_neighbors, min_dist=self.min_dist,
                                code_scale=code_scale, random_state=self._rng,
                                progress=None if progress.disable else progress,
                                keep_neighbor_lists=self._label_mode.clusterer,
                                keep_search_index=(self._transform_mode() == "neighbors"
                                                   or self._label_mode.clusterer))

    def _corrupt(self, X):
        """Training input of the encoder: X plus Gaussian noise when ``input_noise`` > 0.

        The networks still reconstruct the clean X (a denoising autoencoder), which makes
        the encoder smoother and generalise better to rows it has not seen.
        """
        if not self.input_noise_:
            return X
        return X + self.input_noise_ * torch.randn(X.shape, device=X.device, dtype=X.dtype, generator=self._generator)

    def _reconstruction_loss(self, raw, X):
        return reconstruction_loss(raw, X, self.reconstruction_loss)

    @torch.no_grad()
    def _reconstruction_error(self, X, rows=None):
        """Mean reconstruction loss of raw rows ``X`` (or of ``X[rows]``), chunk by chunk."""
        self._set_training(False)
        n_rows = X.shape[0] if rows is None else len(rows)
        total = 0.0
        for start in range(0, n_rows, INFERENCE_CHUNK):
            chunk = X[start:start + INFERENCE_CHUNK] if rows is None else X[rows[start:start + INFERENCE_CHUNK]]
            chunk = self._tensor(self._standardise(chunk))
            loss = self._reconstruction_loss(self._reconstruct(chunk).float(), chunk)
            total += loss.item() * chunk.shape[0]
        return total / n_rows

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        state = _torch_utils.pack_state(self.__dict__)
        state.pop("_best_state", None)  # a copy of the weights, only needed during fit
        return state

    def __setstate__(self, state):
        self.__dict__.update(_torch_utils.unpack_state(state))
        self._best_state = None
