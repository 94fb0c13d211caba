"""The estimator base shared by AdversarialAutoencoder and ALAE.

It owns everything both models do the same way: parameter checks, input validation and
standardisation, device and precision, seeding, the epoch loop with early stopping and
histories, ``transform`` / ``inverse_transform`` / ``sample`` / ``score``, and pickling
that reopens a GPU-trained model on a CPU. A subclass builds its networks in ``_build``
and says what one minibatch update is in ``_train_step``.
"""

import copy
import io
import logging
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_array, check_is_fitted, validate_data
from tqdm.auto import tqdm

from ._graph import NeighborGraph
from .networks import ACTIVATIONS
from .priors import _PRIORS, Prior, resolve_prior

logger = logging.getLogger(__name__)

# Rows per chunk in transform / inverse_transform: bounds memory for any n_samples.
_INFERENCE_CHUNK = 8192
# Neighbour-graph edges drawn per training row of a minibatch, and the weight of non-edges
# per edge (umap-learn's negative_sample_rate).
_EDGES_PER_ROW = 4
_NEGATIVE_SAMPLE_RATE = 5
_CODE_SCALE_PER_PRIOR_STD = 0.3


def resolve_device(device):
    """Map the ``device`` parameter to a ``torch.device``; 'auto' prefers CUDA."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but torch sees no CUDA GPU; use device='cpu' or 'auto'.")
    return resolved


def _cpu_has_native_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision, device):
    """Return the autocast dtype for ``precision`` on ``device`` (``None``: plain float32).

    'auto' uses bfloat16 only where the hardware computes it natively (CUDA GPUs that
    support it, CPUs with AVX512-BF16 or AMX); elsewhere bfloat16 is emulated and many
    times slower than float32.
    """
    if precision == "float32":
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if device.type == "cpu" and _cpu_has_native_bf16() else None


def adam(params, lr, *, betas=(0.9, 0.999), weight_decay=0.0):
    """Adam with the fused kernel where this torch build has one for the device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, foreach=True)


class BaseAdversarialAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator,
                                 metaclass=ABCMeta):
    """Base class for the adversarial autoencoders. Not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(_PRIORS)), Prior, callable],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "reconstruction_loss": [StrOptions({"mse", "bce"})],
        "scaling": [StrOptions({"auto", "feature", "global"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "n_neighbors": [Interval(Integral, 2, None, closed="left"), None],
        "neighbor_weight": [Interval(Real, 0, None, closed="neither")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "transform_mode": [StrOptions({"encoder", "neighbors"})],
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
    #: Names of the losses _train_step returns, in order; the first is reconstruction.
    _loss_names = ("reconstruction",)

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _build(self, n_features, generator):
        """Create the networks (on the CPU, initialised from ``generator``) and optimizers."""

    @abstractmethod
    def _train_step(self, X, Z_prior, y=None):
        """One minibatch update; returns the detached losses named by ``_active_loss_names()``.

        ``y`` holds the batch's class indices (-1: unlabeled) when the model trains on
        labels, else ``None``.
        """

    @abstractmethod
    def _encode(self, X):
        """Deterministic codes of standardised rows ``X`` (a float32 tensor)."""

    @abstractmethod
    def _decode(self, Z):
        """Raw generator output for codes ``Z``: standardised rows, or logits for 'bce'."""

    def _active_loss_names(self):
        """Names of the losses ``_train_step`` returns, in order: ``_loss_names``, then
        'neighbors' when the graph loss is on; subclasses append their own after these."""
        return self._loss_names + (("neighbors",) if self.n_neighbors is not None else ())

    def _prior_dimension(self):
        """Dimension of the prior samples; the AAE matches its codes to them directly."""
        return self.n_components

    def _generate(self, Z):
        """Raw output for prior samples ``Z``; the AAE decodes them directly."""
        return self._decode(Z)

    def _check_labels(self, y, n_samples, first_call):
        """Training labels as class indices (-1: unlabeled), or ``None`` to train without.

        The base estimator has no use for labels and ignores ``y``.
        """
        return None

    def _draw_prior(self, n_samples, labels):
        """Prior samples for a block of training rows whose labels are ``labels``."""
        return self.prior_.sample(n_samples, random_state=self._rng)

    def _sample_rows(self, n_samples, y, random_state):
        """Raw generated rows for :meth:`sample`; ``y`` only where the model has classes."""
        if y is not None:
            raise ValueError(f"{type(self).__name__} was fitted without labels, so sample() cannot take y.")
        return self._batched(self._generate, self.prior_.sample(n_samples, random_state=random_state),
                             to_input_space=True)

    def _reconstruct(self, X):
        """Raw reconstruction of standardised rows ``X``, for the reconstruction error."""
        return self._decode(self._encode(X))

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
        X = self._validate_input(X, reset=False)
        if self.transform_mode == "neighbors":
            placement = getattr(self, "_placement", None)
            if placement is None:
                raise ValueError(f"transform_mode='neighbors' needs the training rows, which {type(self).__name__} "
                                 "keeps only when fitted with that mode; refit it with transform_mode='neighbors' "
                                 "or set transform_mode='encoder'.")
            return placement.transform(X, self.device_, _INFERENCE_CHUNK)
        return self._batched(self._encode, X, standardise=True)

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
        return self._reshape_output(self._batched(self._decode, self._check_codes(X), to_input_space=True))

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
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        return self._reshape_output(self._sample_rows(n_samples, y, random_state))

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
        X = self._validate_input(X, reset=False)
        return -self._reconstruction_error(X)

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

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ input handling
    def _validate_input(self, X, reset):
        """Validate X; images are flattened to rows, their shape remembered."""
        image_shape = None
        ndim = getattr(X, "ndim", None)
        if ndim is None and isinstance(X, (list, tuple)):
            ndim = np.ndim(X)
        if not sp.issparse(X) and ndim is not None and ndim > 2:
            X = np.asarray(X)
            if X.ndim > 4:
                raise ValueError(
                    f"X has {X.ndim} dimensions; expected (n_samples, n_features) or images "
                    "(n_samples, height, width) / (n_samples, height, width, channels)."
                )
            image_shape = X.shape[1:]
            X = X.reshape(X.shape[0], -1)
        if not reset and image_shape is not None and image_shape != self.image_shape_:
            seen = f"images of shape {self.image_shape_}" if self.image_shape_ else "tabular rows"
            raise ValueError(f"X holds images of shape {image_shape}, but {type(self).__name__} was fitted on {seen}.")
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_min_samples=2 if reset else 1)
        if reset:
            self.image_shape_ = image_shape
        if self.reconstruction_loss == "bce" and (X.min(initial=0.0) < 0 or X.max(initial=1.0) > 1):
            raise ValueError("reconstruction_loss='bce' needs X in [0, 1]; scale X or use reconstruction_loss='mse'.")
        return X

    def _fit_standardiser(self, X):
        if self.reconstruction_loss == "bce":
            # Cross-entropy compares probabilities: keep [0, 1] data as it is.
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
            return
        mean, std = _column_moments(X)
        if self.scaling == "global" or (self.scaling == "auto" and self.image_shape_ is not None):
            # Features that share one unit (pixels) keep their relative sizes: a rarely
            # lit pixel is not blown up to the weight of a busy one.
            overall = mean.mean()
            overall_std = np.sqrt(np.mean(std ** 2 + (mean - overall) ** 2))
            self.mean_ = np.full(X.shape[1], overall)
            self.scale_ = np.full(X.shape[1], overall_std or 1.0)
        else:
            self.mean_ = mean
            self.scale_ = np.where(std > 10 * np.finfo(std.dtype).eps, std, 1.0)

    def _standardise(self, X):
        return (X - self.mean_) / self.scale_

    def _check_codes(self, Z):
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if Z.shape[1] != self.n_components:
            raise ValueError(f"Codes have {Z.shape[1]} columns; this model has n_components={self.n_components}.")
        return Z

    # ------------------------------------------------------------------ torch plumbing
    def _tensor(self, array):
        if isinstance(array, torch.Tensor):
            return array.to(self.device_, torch.float32)
        return torch.as_tensor(np.asarray(array, dtype=np.float32), device=self.device_)

    def _modules(self):
        return [v for v in vars(self).values() if isinstance(v, torch.nn.Module)]

    def _set_training(self, mode):
        for module in self._modules():
            module.train(mode)

    @torch.no_grad()
    def _batched(self, fn, X, *, standardise=False, to_input_space=False):
        """Apply ``fn`` to ``X`` chunk by chunk, in eval mode; float64 numpy out.

        Standardising the input and mapping the output back to the data's units happen
        per chunk too, so memory beyond the input and the result stays constant.
        """
        self._set_training(False)
        out = None
        for start in range(0, X.shape[0], _INFERENCE_CHUNK):
            chunk = X[start:start + _INFERENCE_CHUNK]
            result = fn(self._tensor(self._standardise(chunk) if standardise else chunk)).float().cpu().numpy()
            if to_input_space:
                result = self._unstandardise(result)
            if out is None:
                out = np.empty((X.shape[0], result.shape[1]))
            out[start:start + chunk.shape[0]] = result
        return out

    def _unstandardise(self, X_raw):
        if self.reconstruction_loss == "bce":
            X_raw = 1.0 / (1.0 + np.exp(-X_raw))  # logits to probabilities
        return X_raw * self.scale_ + self.mean_

    def _reshape_output(self, X):
        return X if self.image_shape_ is None else X.reshape((X.shape[0],) + tuple(self.image_shape_))

    def _corrupt(self, X):
        """Training input of the encoder: X plus Gaussian noise when ``input_noise`` > 0.

        The networks still reconstruct the clean X (a denoising autoencoder), which makes
        the encoder smoother and generalise better to rows it has not seen.
        """
        if not self.input_noise_:
            return X
        return X + self.input_noise_ * torch.randn(X.shape, device=X.device, dtype=X.dtype, generator=self._generator)

    def _resolve_input_noise(self, X):
        """'auto': 1.5 × the median nearest-neighbour distance per feature, √d-normalised.

        Noise of about the gap between neighbouring rows blurs each row within its own
        neighbourhood but not across to other parts of the data: large for 64 sparse
        pixels (≈ 0.5–0.7 on load_digits), small for a 3-D swiss roll (≈ 0.09), where
        more would mix the roll's layers. A subsample of at most 2,000 rows keeps it cheap.
        """
        if self.input_noise != "auto":
            return float(self.input_noise)
        rows = self._standardise(X[self._rng.permutation(X.shape[0])[:2000]])
        distances, _ = NearestNeighbors(n_neighbors=2).fit(rows).kneighbors(rows)
        return float(1.5 * np.median(distances[:, 1]) / np.sqrt(X.shape[1]))

    def _reconstruction_loss(self, raw, X):
        if self.reconstruction_loss == "bce":
            return F.binary_cross_entropy_with_logits(raw, X)
        return F.mse_loss(raw, X)

    @torch.no_grad()
    def _reconstruction_error(self, X, rows=None):
        """Mean reconstruction loss of raw rows ``X`` (or of ``X[rows]``), chunk by chunk."""
        self._set_training(False)
        n_rows = X.shape[0] if rows is None else len(rows)
        total = 0.0
        for start in range(0, n_rows, _INFERENCE_CHUNK):
            chunk = X[start:start + _INFERENCE_CHUNK] if rows is None else X[rows[start:start + _INFERENCE_CHUNK]]
            chunk = self._tensor(self._standardise(chunk))
            loss = self._reconstruction_loss(self._reconstruct(chunk).float(), chunk)
            total += loss.item() * chunk.shape[0]
        return total / n_rows

    # ------------------------------------------------------------------ training
    def _initialize(self, X):
        """First-fit set-up: standardisation, device, seeds, prior, networks."""
        hidden = np.atleast_1d(self.hidden_layer_sizes)
        if hidden.ndim != 1 or not np.issubdtype(hidden.dtype, np.integer) or np.any(hidden < 1):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}.")
        self._fit_standardiser(X)
        self.device_ = resolve_device(self.device)
        self._autocast_dtype = resolve_precision(self.precision, self.device_)
        self._rng = check_random_state(self.random_state)
        self.prior_ = resolve_prior(self.prior, self._prior_dimension())
        self.input_noise_ = self._resolve_input_noise(X)
        init_seed, train_seed = self._rng.randint(np.iinfo(np.int32).max, size=2)
        # nn.Linear draws a throw-away initialisation from the global RNG when it is
        # built; fork_rng puts the user's global state back afterwards.
        with torch.random.fork_rng(devices=[]):
            self._build(X.shape[1], torch.Generator().manual_seed(int(init_seed)))
        for module in self._modules():
            module.to(self.device_)
        self._generator = torch.Generator(device=self.device_).manual_seed(int(train_seed))
        self.n_iter_, self.t_ = 0, 0
        self.loss_curve_ = []
        self.loss_history_ = {name: [] for name in self._active_loss_names()}
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._no_improvement_count = 0
        self._best_state = None

    def _fit(self, X, incremental, y=None):
        first_call = not hasattr(self, "prior_") or not (incremental or self.warm_start)
        if self.transform_mode == "neighbors":
            if self.n_neighbors is None:
                raise ValueError("transform_mode='neighbors' places rows by the neighbour graph's loss; "
                                 "set n_neighbors (15, say) or use transform_mode='encoder'.")
            if incremental:
                raise ValueError("transform_mode='neighbors' places new rows among the training rows of one "
                                 "fit, which partial_fit never sees whole; use fit, or "
                                 "transform_mode='encoder' with partial_fit.")
        X = self._validate_input(X, reset=first_call)
        labels = self._check_labels(y, X.shape[0], first_call)
        if first_call:
            self._initialize(X)
        if not incremental:
            self._no_improvement_count = 0
        train_rows, valid_rows = np.arange(X.shape[0]), None
        if self.early_stopping and not incremental:
            n_valid = max(1, int(round(self.validation_fraction * X.shape[0])))
            if X.shape[0] - n_valid < 1:
                raise ValueError("validation_fraction leaves no training rows; lower it or pass more rows.")
            order = self._rng.permutation(X.shape[0])
            valid_rows, train_rows = order[:n_valid], order[n_valid:]
        data = _TrainingRows(X, train_rows, self.mean_, self.scale_, self.device_, labels)
        self._neighbor_graph = self._build_neighbor_graph(X, train_rows, data)
        try:
            self._run_epochs(data, X, valid_rows, 1 if incremental else self.max_iter, incremental)
            self._placement = None
            if self.transform_mode == "neighbors":
                graph = self._neighbor_graph
                self._placement = graph.placement(self._batched(self._encode, graph.fit_rows, standardise=True))
        finally:
            # The graph (and its view of the caller's rows) is only needed while training.
            self._neighbor_graph = None
        return self

    def _build_neighbor_graph(self, X, train_rows, data):
        """UMAP's fuzzy k-NN graph of the training rows (those given to this call), or None.

        Distances are taken between the rows as given, as umap-learn takes them: on
        load_digits the per-feature standardisation the networks see blows up rarely lit
        border pixels, and 15-NN accuracy on held-out rows drops from 0.974 to 0.954.
        """
        if self.n_neighbors is None:
            return None
        if len(train_rows) < 2:
            raise ValueError("n_neighbors needs at least 2 training rows to build a neighbour graph.")
        rows = X if len(train_rows) == X.shape[0] else X[train_rows]
        graph = NeighborGraph(rows, self.n_neighbors, min_dist=self.min_dist,
                              code_scale=self._neighbor_code_scale(), negative_sample_rate=_NEGATIVE_SAMPLE_RATE,
                              random_state=self._rng, device=self.device_)
        graph.rows = data
        return graph

    def _neighbor_code_scale(self):
        """Code distance that counts as one unit of a umap-learn embedding.

        umap-learn's curve for ``min_dist`` assumes embeddings about ten units across,
        while the AAE's codes must fill the prior, a few units across: unscaled, the
        graph's repulsion pushes clusters out of the prior and the two losses fight.
        Scaling by the prior's spread lets both hold (an RMS of 1 gives 0.3).
        """
        Z = self.prior_.sample(1000, random_state=0)
        return _CODE_SCALE_PER_PRIOR_STD * float(np.sqrt(np.mean(np.var(Z, axis=0))))

    def _neighbor_loss(self, encode, batch_size):
        """UMAP's graph loss on a fresh minibatch of edges, and their end points' class logits.

        ``encode`` maps standardised rows to training-mode (codes, class logits or None).
        The end points (heads, then tails) get the same input noise as the minibatch, so
        the encoder learns to keep neighbours together for rows near, not only at, the
        training rows; one pass gives both the codes and, with a class head, the logits
        for its graph consistency.
        """
        graph = self._neighbor_graph
        positions = torch.cat(graph.sample_edges(batch_size * _EDGES_PER_ROW, self._generator))
        Z, logits = encode(self._corrupt(graph.rows.batch(positions)))  # Z: (2 * n_edges, n_components)
        return graph.loss(Z, positions), logits

    def _run_epochs(self, data, X, valid_rows, n_epochs, incremental):
        # One tick per row, not per epoch: on large data the bar shows rows/s and the time
        # left within the first epoch.
        progress = tqdm(total=n_epochs * len(data), desc=type(self).__name__, unit="rows", unit_scale=True,
                        disable=not self.verbose)
        converged = False
        try:
            for _ in range(n_epochs):
                losses = self._run_epoch(data, progress)
                self._record_epoch(losses, X, valid_rows, progress)
                watching = self.tol is not None or self.early_stopping
                if not incremental and watching and self._no_improvement_count > self.n_iter_no_change:
                    converged = True
                    logger.info("%s stopped after %d epochs: no improvement > tol=%s for %d epochs.",
                                type(self).__name__, self.n_iter_, self.tol, self.n_iter_no_change)
                    break
        except KeyboardInterrupt:
            warnings.warn(f"Training interrupted by the user after {self.n_iter_} epochs; "
                          "the model keeps the weights it had.", UserWarning)
            converged = True
        finally:
            progress.close()
        if self.early_stopping and self._best_state is not None:
            self._restore(self._best_state)
        if not incremental and not converged and self.tol is not None:
            warnings.warn(f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                          "reconstruction loss is still improving; raise max_iter for a closer fit.",
                          ConvergenceWarning)

    def _run_epoch(self, data, progress):
        """One shuffled pass; losses are summed on the device and read once at the end."""
        n_samples = len(data)
        batch_size = min(self.batch_size, n_samples)
        # Prior samples are drawn a block of batches at a time: one numpy call per block,
        # memory independent of n_samples.
        block = batch_size * max(1, _INFERENCE_CHUNK // batch_size)
        order = torch.randperm(n_samples, generator=self._generator, device=self.device_)
        self._set_training(True)
        total = torch.zeros(len(self._active_loss_names()), device=self.device_)
        for block_start in range(0, n_samples, block):
            n_block = min(block, n_samples - block_start)
            Z_prior = self._tensor(self._draw_prior(n_block, data.labels_at(order[block_start:block_start + n_block])))
            for start in range(0, n_block, batch_size):
                idx = order[block_start + start:block_start + start + batch_size]
                with torch.autocast(self.device_.type, dtype=self._autocast_dtype or torch.bfloat16,
                                    enabled=self._autocast_dtype is not None):
                    losses = self._train_step(data.batch(idx), Z_prior[start:start + batch_size], data.labels_at(idx))
                total += losses.float() * idx.shape[0]
                progress.update(idx.shape[0])
        self.t_ += n_samples
        return (total / n_samples).tolist()

    def _record_epoch(self, losses, X, valid_rows, progress):
        self.n_iter_ += 1
        for name, value in zip(self._active_loss_names(), losses):
            if not np.isfinite(value):
                raise FloatingPointError(
                    f"{type(self).__name__} diverged in epoch {self.n_iter_}: the {name} loss is {value}. "
                    f"Lower learning_rate_init (now {self.learning_rate_init}), use a smaller batch_size "
                    "or check X for extreme values."
                )
            self.loss_history_[name].append(value)
        self.loss_curve_.append(losses[0])
        if valid_rows is not None:
            score = -self._reconstruction_error(X, valid_rows)
            self.validation_scores_.append(score)
            self._update_no_improvement(-score, -self.best_validation_score_)
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = self._snapshot()
        else:
            self._update_no_improvement(losses[0], self.best_loss_)
        self.best_loss_ = min(self.best_loss_, losses[0])
        progress.set_postfix(
            {"epoch": self.n_iter_, **{name: f"{v:.4f}" for name, v in zip(self._active_loss_names(), losses)}},
            refresh=False)

    def _update_no_improvement(self, loss, best):
        # The rule of MLPRegressor: an epoch counts as no improvement unless it beats the
        # best loss so far by more than tol.
        tol = self.tol or 0.0
        self._no_improvement_count = self._no_improvement_count + 1 if loss > best - tol else 0

    def _snapshot(self):
        return {name: copy.deepcopy(module.state_dict())
                for name, module in vars(self).items() if isinstance(module, torch.nn.Module)}

    def _restore(self, state):
        for name, module_state in state.items():
            getattr(self, name).load_state_dict(module_state)

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        state = self.__dict__.copy()
        torch_names = [k for k, v in state.items()
                       if isinstance(v, (torch.nn.Module, torch.optim.Optimizer))]
        if torch_names:
            # One torch.save keeps the optimizers pointing at the same parameters as the
            # modules; map_location on load lets a GPU-trained model open on a CPU.
            buffer = io.BytesIO()
            torch.save({k: state.pop(k) for k in torch_names}, buffer)
            state["_torch_bytes"] = buffer.getvalue()
        state.pop("_best_state", None)
        generator = state.pop("_generator", None)
        if generator is not None:
            state["_generator_state"] = (generator.device.type, generator.get_state(), generator.initial_seed())
        return state

    def __setstate__(self, state):
        torch_bytes = state.pop("_torch_bytes", None)
        generator_state = state.pop("_generator_state", None)
        self.__dict__.update(state)
        if torch_bytes is None:
            return
        if self.device_.type != "cpu" and not _device_available(self.device_):
            self.device_ = torch.device("cpu")
        self.__dict__.update(torch.load(io.BytesIO(torch_bytes), map_location=self.device_, weights_only=False))
        device_type, rng_state, seed = generator_state
        self._generator = torch.Generator(device=self.device_)
        if device_type == self.device_.type:
            self._generator.set_state(rng_state)
        else:
            self._generator.manual_seed(seed)
        self._best_state = None


class _TrainingRows:
    """The training rows as the loop sees them: standardised float32 minibatches by index.

    On the CPU the rows stay in the caller's array (a zero-copy tensor view) and each
    minibatch is standardised as it is gathered, so training adds no copy of the data.
    On a GPU one float32 copy lives on the device, moved there in chunks. ``labels``, when
    given, are the class indices of all rows of ``X`` (-1: unlabeled).
    """

    def __init__(self, X, rows, mean, scale, device, labels=None):
        X = np.ascontiguousarray(X)
        self.rows = torch.as_tensor(rows, device=device)
        if device.type == "cpu":
            with warnings.catch_warnings():
                # A read-only array (a memory map, say) is only ever read here.
                warnings.simplefilter("ignore", UserWarning)
                self.data = torch.from_numpy(X)
        else:
            self.data = torch.empty(X.shape, dtype=torch.float32, device=device)
            for start in range(0, X.shape[0], _INFERENCE_CHUNK):
                self.data[start:start + _INFERENCE_CHUNK] = torch.from_numpy(
                    np.asarray(X[start:start + _INFERENCE_CHUNK], dtype=np.float32)).to(device)
        self.mean = torch.as_tensor(mean, dtype=self.data.dtype, device=device)
        self.scale = torch.as_tensor(scale, dtype=self.data.dtype, device=device)
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.int64, device=device)

    def __len__(self):
        return self.rows.shape[0]

    def batch(self, positions):
        """Standardised float32 rows at ``positions`` (indices into the training rows)."""
        return ((self.data[self.rows[positions]] - self.mean) / self.scale).to(torch.float32)

    def labels_at(self, positions):
        """Class indices of the rows at ``positions``, or ``None`` without labels."""
        return None if self.labels is None else self.labels[self.rows[positions]]


def _column_moments(X, chunk=65536):
    """Per-column mean and standard deviation in float64, without a full-size temporary."""
    n_samples = X.shape[0]
    mean = np.zeros(X.shape[1])
    for start in range(0, n_samples, chunk):
        mean += X[start:start + chunk].sum(axis=0, dtype=np.float64)
    mean /= n_samples
    sum_sq = np.zeros(X.shape[1])
    for start in range(0, n_samples, chunk):
        centred = X[start:start + chunk] - mean
        sum_sq += np.einsum("ij,ij->j", centred, centred)
    return mean, np.sqrt(sum_sq / n_samples)


def _device_available(device):
    if device.type == "cuda":
        return torch.cuda.is_available()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return True
