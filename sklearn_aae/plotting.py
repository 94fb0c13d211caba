"""Matplotlib figures for embeddings, generated images, training curves and comparisons.

Importing this module does not import matplotlib; each function does, so the estimators
stay usable where matplotlib is missing. Every function draws on ``ax`` (or new axes),
works with a non-interactive backend (Agg) and returns what it drew on.
"""

import time

import numpy as np
from sklearn.base import clone

from .metrics import embedding_scores

__all__ = ["plot_embedding", "plot_samples", "plot_loss_curve", "plot_latent_grid", "plot_comparison"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("sklearn_aae.plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def _axes(ax):
    return _pyplot().subplots()[1] if ax is None else ax


def plot_embedding(embedding, X=None, *, y=None, ax=None, prior=None, n_prior_samples=2000, s=6,
                   cmap="tab10", random_state=0):
    """Scatter 2-D codes, coloured by label, optionally over faint prior samples.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2) or fitted estimator
        The codes, or a fitted model with ``transform`` (then ``X`` is required).
    X : array-like, default=None
        Rows to encode when ``embedding`` is an estimator.
    y : array-like of shape (n_samples,), default=None
        Labels or values to colour the points by.
    ax : matplotlib Axes, default=None
        Where to draw; new axes when None.
    prior : Prior, array-like of shape (n, 2), bool or None, default=None
        Samples drawn faintly behind the codes: a :class:`~sklearn_aae.Prior` (sampled),
        an array of samples, or ``True`` for the estimator's ``prior_``. ``None`` means
        ``True`` for an estimator with a ``prior_`` and nothing otherwise; ``False``
        draws none.
    n_prior_samples : int, default=2000
        Number of prior samples to draw.
    s : float, default=6
        Marker size of the codes.
    cmap : str, default='tab10'
        Colour map for ``y``.
    random_state : int, default=0
        Seed of the prior draw.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae import GaussianPrior
    >>> from sklearn_aae.plotting import plot_embedding
    >>> Z = np.random.RandomState(0).normal(size=(100, 2))
    >>> ax = plot_embedding(Z, y=np.arange(100) % 3, prior=GaussianPrior(n_components=2))
    >>> len(ax.collections)  # prior samples, then the codes
    2
    """
    if hasattr(embedding, "transform"):
        if X is None:
            raise ValueError("plot_embedding(estimator, X): X is needed to compute the codes.")
        if prior is None or prior is True:
            prior = getattr(embedding, "prior_", None)
        embedding = embedding.transform(X)
    elif prior is True:
        raise ValueError("prior=True needs a fitted estimator; pass a Prior or an array of samples.")
    Z = np.asarray(embedding)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(f"plot_embedding draws 2-D codes; got an array of shape {Z.shape}.")
    ax = _axes(ax)
    if prior is not None and prior is not False:
        P = prior.sample(n_prior_samples, random_state=random_state) if hasattr(prior, "sample") else prior
        P = np.asarray(P)
        ax.scatter(P[:, 0], P[:, 1], s=2, c="lightgrey", label="prior samples", zorder=0)
    ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap=cmap if y is not None else None, s=s, zorder=1)
    return ax


def _tile(images, n_cols, pad):
    """(n, h, w[, c]) images into one (rows·(h+pad)-pad, cols·(w+pad)-pad[, c]) array."""
    n, h, w = images.shape[:3]
    n_rows = int(np.ceil(n / n_cols))
    grid = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad) + images.shape[3:], np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return grid


def plot_samples(images, *, n_cols=None, image_shape=None, ax=None, cmap="gray_r", pad=1):
    """Show images (e.g. ``sample`` or ``inverse_transform`` output) as one grid.

    Parameters
    ----------
    images : array-like of shape (n, h, w), (n, h, w, c) or (n, h·w)
        The images; flat rows need ``image_shape`` unless they are square.
    n_cols : int, default=None
        Images per row; about √n when None.
    image_shape : tuple of int, default=None
        Shape of one image, for flat rows.
    ax : matplotlib Axes, default=None
        Where to draw; new axes when None.
    cmap : str, default='gray_r'
        Colour map for single-channel images.
    pad : int, default=1
        Blank pixels between images.

    Returns
    -------
    ax : matplotlib Axes
        Its single image (``ax.images[0]``) holds the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae.plotting import plot_samples
    >>> ax = plot_samples(np.zeros((6, 64)), n_cols=3)  # six flat 8x8 images
    >>> ax.images[0].get_array().shape
    (17, 26)
    """
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(f"Rows of {images.shape[1]} values are not square images; pass image_shape.")
            image_shape = (side, side)
        images = images.reshape((images.shape[0],) + tuple(image_shape))
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (n, h, w), (n, h, w, c) or flat rows; got shape {images.shape}.")
    n_cols = n_cols or int(np.ceil(np.sqrt(len(images))))
    ax = _axes(ax)
    ax.imshow(_tile(images, n_cols, pad), cmap=cmap if images.ndim == 3 else None, interpolation="nearest")
    ax.set_axis_off()
    return ax


def plot_loss_curve(estimator, *, ax=None, log_scale=False):
    """Plot a fitted model's per-epoch losses (``loss_history_``) and validation scores.

    Parameters
    ----------
    estimator : fitted AdversarialAutoencoder or ALAE
    ax : matplotlib Axes, default=None
        Where to draw; new axes when None.
    log_scale : bool, default=False
        Logarithmic loss axis.

    Returns
    -------
    ax : matplotlib Axes
        One line per loss, plus one for the validation error with ``early_stopping``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import AdversarialAutoencoder
    >>> from sklearn_aae.plotting import plot_loss_curve
    >>> aae = AdversarialAutoencoder(max_iter=3, random_state=0).fit(load_digits().data[:200])
    >>> [line.get_label() for line in plot_loss_curve(aae).get_lines()]
    ['reconstruction', 'discriminator', 'generator', 'neighbors']
    """
    history = getattr(estimator, "loss_history_", None)
    if history is None:
        raise ValueError("plot_loss_curve needs a fitted estimator with loss_history_.")
    ax = _axes(ax)
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if getattr(estimator, "validation_scores_", None):
        scores = np.asarray(estimator.validation_scores_)
        ax.plot(np.arange(1, len(scores) + 1), -scores, "--", label="validation reconstruction")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log_scale:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_latent_grid(estimator, *, n_per_side=15, extent=None, ax=None, cmap="gray_r", image_shape=None):
    """Decode a regular grid over a 2-D latent space and show the images in place.

    The manifold figures of the AAE paper: each cell is ``inverse_transform`` of the code
    at that grid point.

    Parameters
    ----------
    estimator : fitted estimator with ``n_components == 2``
        Fitted on images, or on flat square images (else pass ``image_shape``).
    n_per_side : int, default=15
        Grid points per axis.
    extent : (xmin, xmax, ymin, ymax), default=None
        Latent region; None takes the 2nd to 98th percentile of 5,000 prior samples.
    ax : matplotlib Axes, default=None
        Where to draw; new axes when None.
    cmap : str, default='gray_r'
        Colour map.
    image_shape : tuple of int, default=None
        Shape of one image when the model was fitted on flat rows.

    Returns
    -------
    ax : matplotlib Axes
        Its image holds ``n_per_side × n_per_side`` decoded images; rows go from high to
        low second coordinate, as on a plot's y-axis.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import AdversarialAutoencoder
    >>> from sklearn_aae.plotting import plot_latent_grid
    >>> aae = AdversarialAutoencoder(max_iter=2, tol=None, random_state=0).fit(load_digits().images[:200])
    >>> plot_latent_grid(aae, n_per_side=4).images[0].get_array().shape
    (35, 35)
    """
    if getattr(estimator, "n_components", None) != 2:
        raise ValueError("plot_latent_grid needs a fitted model with n_components=2.")
    if extent is None:
        P = estimator.prior_.sample(5000, random_state=0)
        (x0, y0), (x1, y1) = np.percentile(P[:, :2], [2, 98], axis=0)
    else:
        x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, n_per_side), np.linspace(y1, y0, n_per_side)
    codes = np.array([[x, y] for y in ys for x in xs])
    images = estimator.inverse_transform(codes)
    shape = image_shape or getattr(estimator, "image_shape_", None)
    ax = plot_samples(images, n_cols=n_per_side, image_shape=shape, ax=ax, cmap=cmap)
    ax.set_title(f"decoded grid over [{x0:.2g}, {x1:.2g}] × [{y0:.2g}, {y1:.2g}]")
    return ax


def plot_comparison(estimators, X, y, *, X_test=None, y_test=None, axes=None, n_neighbors=5, s=6):
    """Fit several embedders and show their 2-D codes side by side, each with its scores.

    Each estimator (a clone) is fitted on ``X`` and shown on ``X_test`` (held-out rows,
    when given) coloured by ``y_test``. Titles give the held-out ``n_neighbors``-NN
    accuracy, trustworthiness (k=10) and fit time, from
    :func:`~sklearn_aae.metrics.embedding_scores`. An estimator without ``transform``
    (t-SNE) embeds training and held-out rows together, which is marked in its title.

    Parameters
    ----------
    estimators : dict of str to estimator, or list of estimators
        The embedders, by panel title (list: the class names).
    X, y : array-like
        Training rows and labels.
    X_test, y_test : array-like, default=None
        Held-out rows and labels; None shows and scores the training rows (the k-NN
        accuracy is then cross-validated, 5-fold, on the codes).
    axes : array of matplotlib Axes, default=None
        One per estimator; a new row of panels when None.
    n_neighbors : int, default=5
        k of the k-NN accuracy.
    s : float, default=6
        Marker size.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of Axes
    scores : dict of str to dict
        Per panel: the scores of :func:`~sklearn_aae.metrics.embedding_scores`
        ('knn_accuracy', 'trustworthiness', 'reconstruction_mse', 'mmd_to_prior') and
        'fit_seconds'.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_aae.plotting import plot_comparison
    >>> X, y = load_digits(return_X_y=True)
    >>> fig, axes, scores = plot_comparison({"PCA": PCA(2)}, X[:300], y[:300], X_test=X[300:400], y_test=y[300:400])
    >>> sorted(scores["PCA"])
    ['fit_seconds', 'knn_accuracy', 'mmd_to_prior', 'reconstruction_mse', 'trustworthiness']
    """
    plt = _pyplot()
    if not isinstance(estimators, dict):
        estimators = {type(e).__name__: e for e in estimators}
    if axes is None:
        fig, axes = plt.subplots(1, len(estimators), figsize=(4.5 * len(estimators), 4.5), squeeze=False)
        axes = axes.ravel()
    else:
        axes = np.asarray(axes).ravel()
        fig = axes[0].figure
    if len(axes) < len(estimators):
        raise ValueError(f"{len(estimators)} estimators need as many axes; got {len(axes)}.")
    X, y = np.asarray(X), np.asarray(y)
    heldout = X_test is not None
    X_show, y_show = (np.asarray(X_test), np.asarray(y_test)) if heldout else (X, y)
    scores = {}
    for ax, (name, estimator) in zip(axes, estimators.items()):
        model = clone(estimator)
        start = time.perf_counter()
        transductive = not hasattr(model, "transform")
        if transductive:
            Z = model.fit_transform(np.vstack([X, X_show]) if heldout else X)
            Z_train, Z_show = (Z[:len(X)], Z[len(X):]) if heldout else (Z, Z)
        else:
            Z_train = model.fit(X).transform(X)
            Z_show = model.transform(X_show) if heldout else Z_train
        seconds = time.perf_counter() - start
        panel = embedding_scores(model, X, X_show, y, y_show, Z_train=Z_train, Z_test=Z_show, n_neighbors=n_neighbors)
        if not heldout:  # a k-NN scored on the rows it was fitted on would find each row itself
            from sklearn.model_selection import cross_val_score
            from sklearn.neighbors import KNeighborsClassifier

            panel["knn_accuracy"] = float(cross_val_score(KNeighborsClassifier(n_neighbors), Z_train, y, cv=5).mean())
        scores[name] = dict(panel, fit_seconds=seconds)
        accuracy, trust = panel["knn_accuracy"], panel["trustworthiness"]
        ax.scatter(Z_show[:, 0], Z_show[:, 1], c=y_show, cmap="tab10", s=s)
        suffix = " (all rows)" if transductive and heldout else ""
        ax.set_title(f"{name}{suffix}\n{n_neighbors}-NN {accuracy:.3f}, trust {trust:.3f}, fit {seconds:.1f} s",
                     fontsize=10)
        # A few rows can land far out; frame the bulk so panels stay comparable.
        low, high = np.percentile(Z_show, [1, 99], axis=0)
        pad = 0.15 * (high - low)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes, scores
