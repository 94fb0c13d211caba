"""The data side of the estimators: validation, standardisation, training rows, chunking.

Everything here works chunk by chunk where the data can be large, so memory beyond the
caller's array stays bounded for any number of rows.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, validate_data

# Rows per chunk in transform / inverse_transform: bounds memory for any n_samples.
INFERENCE_CHUNK = 8192
# BLAS multiplies a matrix of a few rows with other kernels, and splits it over threads
# otherwise, than one of many: the same row's code differed in its last bits when it came
# alone and when it came with 19 others. From this many rows on, on one and on two
# threads, every row's product was the same whatever the rows beside it.
_MIN_INFERENCE_ROWS = 16
# The networks compute in float32. Inputs (standardised rows, codes) beyond this size make
# squared errors overflow: the square root of float32's largest value, with room for the
# networks' own gain. Real rows are a few standard deviations from the mean, not 1e15.
_MAX_NETWORK_INPUT = float(np.sqrt(np.finfo(np.float32).max)) / 1e4
# How numpy and Python word a failed conversion to float, which validate_data passes on as
# it is: these become errors that say what the input holds and what to do about it.
_NOT_NUMBERS = ("could not convert", "float() argument", "invalid literal", "The DType", "Cannot cast",
                "cannot convert")
_RAGGED = "setting an array element with a sequence"


def validate_input(estimator, X, reset):
    """``X`` as a float array of rows; images are flattened, their shape remembered.

    With ``reset`` (a first fit) the estimator's ``image_shape_`` and the feature count and
    names are set; otherwise ``X`` is checked against them, and against the scale of the
    data the model was fitted on.
    """
    X, image_shape = _rows(X, "X")
    if not reset and image_shape is not None and image_shape != estimator.image_shape_:
        seen = f"images of shape {estimator.image_shape_}" if estimator.image_shape_ else "tabular rows"
        raise ValueError(
            f"X holds images of shape {image_shape}, but {type(estimator).__name__} was fitted on {seen}.")
    X = _as_numbers(lambda: validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32],
                                          ensure_min_samples=2 if reset else 1), X, "X")
    if reset:
        estimator.image_shape_ = image_shape
    if estimator.reconstruction_loss == "bce":
        if X.min(initial=0.0) < 0 or X.max(initial=1.0) > 1:
            raise ValueError("reconstruction_loss='bce' needs X in [0, 1]; scale X or use reconstruction_loss='mse'.")
    elif not reset:
        _check_scale(estimator, X)
    return X


def check_codes(Z, n_components):
    """Latent codes given to ``inverse_transform``, as a float array of ``n_components`` columns."""
    Z, _ = _rows(Z, "Z", images=False)
    Z = _as_numbers(lambda: check_array(Z, dtype=[np.float64, np.float32], input_name="Z"), Z, "Z")
    if Z.shape[1] != n_components:
        raise ValueError(f"Codes have {Z.shape[1]} columns; this model has n_components={n_components}.")
    largest = float(max(Z.max(), -Z.min()))
    if largest > _MAX_NETWORK_INPUT:
        raise ValueError(f"Codes reach {largest:.3g}, beyond what the float32 networks can decode (codes of "
                         f"a fitted model are a few units across); check what was passed as codes.")
    return Z


def _rows(X, name, images=True):
    """A list becomes an array, and images (arrays of 3 or 4 dimensions) rows, with their shape."""
    if isinstance(X, (list, tuple)):
        X = _as_numbers(lambda: np.asarray(X), X, name)
    ndim = getattr(X, "ndim", None)
    if not images or sp.issparse(X) or ndim is None or ndim <= 2:
        return X, None
    X = np.asarray(X)
    if X.ndim > 4:
        raise ValueError(
            f"X has {X.ndim} dimensions; expected (n_samples, n_features) or images "
            "(n_samples, height, width) / (n_samples, height, width, channels)."
        )
    return X.reshape(X.shape[0], -1), X.shape[1:]


def _as_numbers(validate, X, name):
    """``validate()``, with numpy's failed conversions to float turned into errors that say why."""
    try:
        return validate()
    except (TypeError, ValueError) as error:
        message = str(error)
        if message.startswith(_RAGGED):
            raise ValueError(f"{name} must be a rectangular array, but its rows have different lengths "
                             f"(numpy: {message})") from None
        if not message.startswith(_NOT_NUMBERS):
            raise
        if "NAType" in message:
            raise ValueError(f"Input {name} contains NaN: a pandas.NA in a column of dtype object. "
                             "Impute missing values first, e.g. with SimpleImputer.") from None
        # The kind stays numpy's (a dict or a date is a TypeError, a word a ValueError), as
        # scikit-learn's estimator checks expect.
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(
            f"{name} must hold numbers{_non_numeric_columns(X)}, but {message[0].lower()}{message[1:]}. "
            "Encode text, categorical and date features as numbers first, e.g. with OrdinalEncoder "
            "or OneHotEncoder."
        ) from None


def _non_numeric_columns(X):
    """' (non-numeric columns: ...)' for a DataFrame with such columns, else ''."""
    dtypes = getattr(X, "dtypes", None)
    if not hasattr(dtypes, "items"):
        return ""
    columns = [f"{column!r} ({dtype})" for column, dtype in dtypes.items() if getattr(dtype, "kind", "O") not in "biuf"]
    if not columns:
        return ""
    more = f" and {len(columns) - 5} more" if len(columns) > 5 else ""
    return f" (non-numeric columns: {', '.join(columns[:5])}{more})"


def _check_scale(estimator, X):
    """Refuse rows so far outside the fitted data's scale that float32 networks overflow on them."""
    if X.size == 0:
        return
    # Two reductions over X, no temporary of its size.
    low, high = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    reach = np.maximum(high - estimator.mean_, estimator.mean_ - low) / estimator.scale_
    worst = int(np.argmax(reach))
    if reach[worst] > _MAX_NETWORK_INPUT:
        names = getattr(estimator, "feature_names_in_", None)
        feature = repr(names[worst]) if names is not None else worst
        raise ValueError(
            f"X has values {reach[worst]:.3g} standard deviations from the mean of the data "
            f"{type(estimator).__name__} was fitted on (feature {feature}); the float32 networks cannot "
            "encode rows this far out of scale. Check that X is in the units the model was fitted on."
        )


def fit_scaling(X, *, scaling, reconstruction_loss, images):
    """The internal standardisation of ``X``: per-feature ``mean`` and ``scale`` arrays.

    ``images`` says that ``X`` came as images, which ``scaling='auto'`` scales globally.
    """
    if reconstruction_loss == "bce":
        # Cross-entropy compares probabilities: keep [0, 1] data as it is.
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    mean, std = column_moments(X)
    if scaling == "global" or (scaling == "auto" and images):
        # Features that share one unit (pixels) keep their relative sizes: a rarely
        # lit pixel is not blown up to the weight of a busy one.
        overall = mean.mean()
        overall_std = np.sqrt(np.mean(std ** 2 + (mean - overall) ** 2))
        mean, scale = np.full(X.shape[1], overall), np.full(X.shape[1], overall_std or 1.0)
    else:
        # Constant features keep scale 1. Constant means varying within the rounding of
        # the mean's sum (StandardScaler's rule), not below a fixed size: features in
        # units of 1e-30 vary as much as any others.
        constant = std <= X.shape[0] * np.finfo(np.float64).eps * np.abs(mean)
        scale = np.where(constant, 1.0, std)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(f"X has values too large to standardise in float64 (up to {np.abs(X).max():.3g}); "
                         "divide X by a constant first.")
    return mean, scale


def column_moments(X, chunk=65536):
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


def map_chunks(fn, *arrays, chunk_size=INFERENCE_CHUNK):
    """``fn`` applied to aligned chunks of ``arrays`` (rows), stacked into one float64 array.

    ``fn`` takes one chunk of each array and returns a 2-D array of as many rows; only one
    chunk's intermediate results exist at a time.
    """
    n_rows = arrays[0].shape[0]
    out = None
    for start in range(0, n_rows, chunk_size):
        result = fn(*(array[start:start + chunk_size] for array in arrays))
        if out is None:
            out = np.empty((n_rows, result.shape[1]))
        out[start:start + result.shape[0]] = result
    return out


class TrainingData:
    """The training rows as the loop sees them: standardised float32 minibatches by index.

    On the CPU the rows stay in the caller's array (a zero-copy tensor view) and each
    minibatch is standardised as it is gathered, so training adds no copy of the data.
    On a GPU one float32 copy lives on the device, moved there in chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        All rows given to the fit.
    indices : ndarray of int
        The rows of ``X`` that train (the rest are held out for early stopping).
    mean, scale : ndarray of shape (n_features,)
        The estimator's standardisation.
    device : torch.device
        Where minibatches are made.
    labels : ndarray of shape (n_samples,) or None, default=None
        Class indices of all rows of ``X`` (-1: unlabeled), when the model trains on labels.
    """

    def __init__(self, X, indices, mean, scale, device, labels=None):
        X = np.ascontiguousarray(X)
        self.indices = torch.as_tensor(indices, device=device)
        if device.type == "cpu":
            with warnings.catch_warnings():
                # A read-only array (a memory map, say) is only ever read here.
                warnings.simplefilter("ignore", UserWarning)
                self.data = torch.from_numpy(X)
        else:
            self.data = torch.empty(X.shape, dtype=torch.float32, device=device)
            for start in range(0, X.shape[0], INFERENCE_CHUNK):
                self.data[start:start + INFERENCE_CHUNK] = torch.from_numpy(
                    np.asarray(X[start:start + INFERENCE_CHUNK], dtype=np.float32)).to(device)
        self.mean = torch.as_tensor(mean, dtype=self.data.dtype, device=device)
        self.scale = torch.as_tensor(scale, dtype=self.data.dtype, device=device)
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.int64, device=device)

    def __len__(self):
        return self.indices.shape[0]

    def batch(self, positions):
        """Standardised float32 rows at ``positions`` (indices into the training rows)."""
        return ((self.data[self.indices[positions]] - self.mean) / self.scale).to(torch.float32)

    def labels_at(self, positions):
        """Class indices of the rows at ``positions``, or ``None`` without labels."""
        return None if self.labels is None else self.labels[self.indices[positions]]


def resolve_input_noise(input_noise, X, standardise, rng, neighbor_graph=False):
    """The ``input_noise`` parameter as a number; 'auto' measures it on ``X``.

    'auto' is 1.5 × the median nearest-neighbour distance between standardised rows,
    divided by √n_features: noise of about the gap between neighbouring rows blurs each
    row within its own neighbourhood but not across to other parts of the data. That is
    large for sparse pixels and small for a low-dimensional manifold such as a swiss roll,
    where more would mix its layers. With the neighbour graph it is
    ``_GRAPH_NOISE_SHARE`` of that: the graph's loss already makes neighbouring rows'
    codes agree, and more noise blurs the neighbourhoods it keeps. A subsample of at most
    2,000 rows keeps it cheap.
    """
    if input_noise != "auto":
        return float(input_noise)
    rows = standardise(X[rng.permutation(X.shape[0])[:2000]])
    distances, _ = NearestNeighbors(n_neighbors=2).fit(rows).kneighbors(rows)
    noise = 1.5 * np.median(distances[:, 1]) / np.sqrt(X.shape[1])
    return float(noise * (_GRAPH_NOISE_SHARE if neighbor_graph else 1.0))


# Share of the 'auto' input noise kept with the neighbour graph (benchmarks/RESULTS.md,
# "How the defaults were chosen").
_GRAPH_NOISE_SHARE = 0.25


def split_validation(n_samples, validation_fraction, rng):
    """Training and held-out row indices for early stopping."""
    n_valid = max(1, int(round(validation_fraction * n_samples)))
    if n_samples - n_valid < 1:
        raise ValueError("validation_fraction leaves no training rows; lower it or pass more rows.")
    order = rng.permutation(n_samples)
    return order[n_valid:], order[:n_valid]


class ChunkedInference:
    """The estimators' inference on numpy rows: (un)standardisation and chunked torch calls.

    Mixed into the estimator base; reads its ``mean_``, ``scale_``, ``reconstruction_loss``,
    ``image_shape_`` and ``device_``. Every call works chunk by chunk in eval mode, so
    memory beyond the input and the result stays bounded for any number of rows.
    """

    def _standardise(self, X):
        return (X - self.mean_) / self.scale_

    def _unstandardise(self, X_raw):
        if self.reconstruction_loss == "bce":
            X_raw = 1.0 / (1.0 + np.exp(-X_raw))  # logits to probabilities
        return X_raw * self.scale_ + self.mean_

    def _tensor(self, array):
        """A float32 tensor on the model's device (int64 for arrays of class indices)."""
        if isinstance(array, torch.Tensor):
            return array.to(self.device_, torch.float32)
        if np.issubdtype(np.asarray(array).dtype, np.integer):
            return torch.as_tensor(array, dtype=torch.int64, device=self.device_)
        return torch.as_tensor(np.asarray(array, dtype=np.float32), device=self.device_)

    @torch.no_grad()
    def _run(self, fn, *arrays):
        """``fn`` of the arrays as tensors, in eval mode, as a float numpy array.

        Fewer than ``_MIN_INFERENCE_ROWS`` rows are padded with copies of the last one, so
        that a row's result does not depend on how many rows come with it.
        """
        self._set_training(False)
        n_rows = len(arrays[0])
        tensors = [self._tensor(array) for array in arrays]
        if 0 < n_rows < _MIN_INFERENCE_ROWS:
            tensors = [torch.cat([t, t[-1:].expand(_MIN_INFERENCE_ROWS - n_rows, *t.shape[1:])]) for t in tensors]
        return fn(*tensors)[:n_rows].float().cpu().numpy()

    def _map_rows(self, fn, X):
        """``fn`` of the standardised rows of ``X``, chunk by chunk."""
        return map_chunks(lambda chunk: self._run(fn, self._standardise(chunk)), X)

    def _rows_from(self, fn, *arrays):
        """Rows in the data's units from the raw output of ``fn`` (codes in), chunk by chunk."""
        return map_chunks(lambda *chunks: self._unstandardise(self._run(fn, *chunks)), *arrays)

    def _generate_rows(self, Z):
        """Generated rows, in the data's units, for prior samples ``Z``."""
        return self._rows_from(self._generate, Z)

    def _reshape_output(self, X):
        return X if self.image_shape_ is None else X.reshape((X.shape[0],) + tuple(self.image_shape_))

    def _modules(self):
        return [v for v in vars(self).values() if isinstance(v, torch.nn.Module)]

    def _set_training(self, mode):
        for module in self._modules():
            module.train(mode)
