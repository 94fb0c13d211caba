"""Priors: the distributions an adversarial autoencoder pushes its codes towards.

A prior only has to *sample*; no density is needed (this is what lets an adversarial
autoencoder use a swiss roll where a VAE could not). Every prior is a small strategy
object, accepted by the estimators either as an instance or by name, and resolved in one
place, :func:`resolve_prior`.
"""

import copy
import inspect
import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "Prior",
    "GaussianPrior",
    "GaussianMixturePrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
    "CallablePrior",
    "resolve_prior",
]


class Prior:
    """Base class for latent priors.

    Subclass it and implement :meth:`_sample` to give an estimator your own latent
    shape. ``n_components`` is the dimension of the samples; leave it ``None`` to take the
    estimator's ``n_components`` when fitting. :meth:`sample` checks every draw of
    ``_sample``: an array of real numbers, all finite, of shape ``(n_samples,
    n_components)``; anything else is an error that names the prior.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the samples. ``None`` means "set by the estimator".

    Attributes
    ----------
    n_classes : int or None
        Number of class regions (mixture components, roll segments, categories) that
        :meth:`sample` can draw from when given ``y``; ``None`` if the prior has none.
    code_activation : {None, 'softmax'}
        Output activation the encoder needs for its codes to be able to match the
        prior (``'softmax'`` for one-hot priors).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae.priors import Prior
    >>> class RingPrior(Prior):
    ...     def _sample(self, n_samples, y, rng):
    ...         angle = rng.uniform(0, 2 * np.pi, n_samples)
    ...         return np.column_stack([np.cos(angle), np.sin(angle)])
    >>> RingPrior(n_components=2).sample(5, random_state=0).shape
    (5, 2)
    """

    n_classes = None
    code_activation = None
    #: Dimensions the prior supports; ``None`` means any.
    _supported_n_components = None

    def __init__(self, n_components=None):
        self.n_components = n_components

    def sample(self, n_samples, y=None, random_state=None):
        """Draw samples from the prior.

        Parameters
        ----------
        n_samples : int
            Number of samples.
        y : array-like of shape (n_samples,), default=None
            Class index of each row (0 .. ``n_classes - 1``): row ``i`` is drawn from
            class ``y[i]``'s region. Only for priors with class regions.
        random_state : int, RandomState instance or None, default=None
            Seed or generator for reproducible draws.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        if self.n_components is None:
            raise ValueError(
                f"{type(self).__name__} has n_components=None: set it, or pass the prior "
                "to an estimator, which sets it to the estimator's n_components."
            )
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 0:
            raise ValueError(f"n_samples must be a non-negative integer, got {n_samples!r}.")
        n_samples = int(n_samples)
        if y is not None:
            y = self._check_y(y, n_samples)
        rng = check_random_state(random_state)
        return self._check_samples(self._sample(n_samples, y, rng), n_samples)

    def _sample(self, n_samples, y, rng):
        raise NotImplementedError(f"{type(self).__name__} must implement _sample.")

    def _name(self):
        """How errors name this prior."""
        return type(self).__name__

    def _check_samples(self, Z, n_samples):
        """The samples of one draw as float64, or an error that names the prior and the fault.

        Every draw is checked: the cost, a pass over the block of samples, is small next
        to the networks' work on it, and a NaN from the prior would otherwise surface
        epochs later as a diverged training.
        """
        if Z is None:
            raise TypeError(f"The prior {self._name()} returned None instead of an array of samples.")
        try:
            Z = np.asarray(Z)
        except (TypeError, ValueError) as error:
            raise TypeError(f"The prior {self._name()} returned a {type(Z).__name__} that is not an array of "
                            f"numbers: {error}") from None
        if Z.dtype.kind == "O":
            try:
                Z = Z.astype(np.float64)
            except (TypeError, ValueError) as error:
                raise TypeError(f"The prior {self._name()} returned values that are not numbers (an array "
                                f"of dtype object): {error}") from None
        if Z.dtype.kind not in "biuf":
            what = {"c": "complex numbers", "U": "strings", "S": "bytes"}.get(Z.dtype.kind,
                                                                           f"values of dtype {Z.dtype}")
            raise TypeError(f"The prior {self._name()} returned {what}; samples must be real numbers.")
        if Z.shape != (n_samples, self.n_components):
            raise ValueError(
                f"The prior {self._name()} returned samples of shape {Z.shape}; expected "
                f"({n_samples}, {self.n_components})."
            )
        Z = Z.astype(np.float64, copy=False)
        finite = np.isfinite(Z)
        if not finite.all():
            n_bad = int(np.count_nonzero(~finite.all(axis=1)))
            raise ValueError(f"The prior {self._name()} returned samples with NaN or infinity in {n_bad} of "
                             f"{n_samples} rows; samples must be finite.")
        return Z

    def _check_definition(self):
        """Refuse, before any draw, a prior that cannot sample."""
        if type(self)._sample is Prior._sample and type(self).sample is Prior.sample:
            raise TypeError(f"{self._name()} must implement _sample(self, n_samples, y, rng), which returns "
                            "an array of shape (n_samples, n_components).")

    def _check_y(self, y, n_samples):
        if self.n_classes is None:
            raise ValueError(
                f"{type(self).__name__} has no class regions, so it cannot sample by "
                "label; use GaussianMixturePrior, SwissRollPrior or CategoricalPrior."
            )
        y = np.asarray(y)
        if y.shape != (n_samples,):
            raise ValueError(f"y must have shape ({n_samples},), got {y.shape}.")
        if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(
                f"y must hold class indices in [0, {self.n_classes - 1}] for "
                f"{type(self).__name__} with {self.n_classes} classes."
            )
        return y

    def _check_n_components(self):
        supported = self._supported_n_components
        if supported is not None and self.n_components not in supported:
            raise ValueError(
                f"{type(self).__name__} is defined for n_components in {supported}, "
                f"got n_components={self.n_components}."
            )

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class GaussianPrior(Prior):
    """Isotropic Gaussian prior N(0, std² I) in any dimension.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension; ``None`` takes the estimator's.
    std : float, default=1.0
        Standard deviation of every coordinate.

    Examples
    --------
    >>> from sklearn_aae import GaussianPrior
    >>> GaussianPrior(n_components=3).sample(4, random_state=0).shape
    (4, 3)
    """

    def __init__(self, n_components=None, *, std=1.0):
        super().__init__(n_components)
        self.std = std

    def _sample(self, n_samples, y, rng):
        return rng.normal(0.0, self.std, size=(n_samples, self.n_components))


class GaussianMixturePrior(Prior):
    """Mixture of elongated Gaussians placed evenly on a circle (AAE paper, Fig. 4).

    Component ``k`` is centred at angle ``2πk / n_modes`` and distance ``radius`` from the
    origin, stretched along the radius (``radial_std``) and thin across it
    (``tangential_std``). Beyond the first two dimensions every coordinate is
    N(0, ``radial_std ** 2``), so the mixture is defined in any dimension ≥ 2.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension (≥ 2); ``None`` takes the estimator's.
    n_modes : int, default=10
        Number of mixture components; with labels, class ``k`` is component ``k``.
    radius : float, default=2.0
        Distance of each component's centre from the origin.
    radial_std, tangential_std : float, default=0.5, 0.1
        Spread along and across the radius.

    Examples
    --------
    >>> from sklearn_aae import GaussianMixturePrior
    >>> prior = GaussianMixturePrior(n_components=2, n_modes=4)
    >>> prior.sample(3, y=[0, 1, 3], random_state=0).shape
    (3, 2)
    """

    def __init__(self, n_components=None, *, n_modes=10, radius=2.0, radial_std=0.5, tangential_std=0.1):
        super().__init__(n_components)
        self.n_modes = n_modes
        self.radius = radius
        self.radial_std = radial_std
        self.tangential_std = tangential_std

    @property
    def n_classes(self):
        return self.n_modes

    def _check_n_components(self):
        if self.n_components < 2:
            raise ValueError(f"GaussianMixturePrior needs n_components >= 2, got {self.n_components}.")

    def _sample(self, n_samples, y, rng):
        k = rng.randint(self.n_modes, size=n_samples) if y is None else y
        angle = 2 * np.pi * k / self.n_modes
        radial = self.radius + rng.normal(0.0, self.radial_std, n_samples)
        tangential = rng.normal(0.0, self.tangential_std, n_samples)
        Z = rng.normal(0.0, self.radial_std, size=(n_samples, self.n_components))
        Z[:, 0] = radial * np.cos(angle) - tangential * np.sin(angle)
        Z[:, 1] = radial * np.sin(angle) + tangential * np.cos(angle)
        return Z


class SwissRollPrior(Prior):
    """Two-dimensional swiss roll (AAE paper, Fig. 4).

    A position ``u ~ U(0, 1)`` along the roll maps to radius ``3√u`` and angle ``4π√u``, so
    points are spread evenly by area. With labels the roll is cut into ``n_segments``
    equal pieces of ``u`` and class ``k`` is drawn from piece ``k``.

    Parameters
    ----------
    n_components : {2, None}, default=None
        The roll is two-dimensional.
    n_segments : int, default=10
        Number of class segments used when sampling with labels.
    noise : float, default=0.05
        Standard deviation of Gaussian noise added to each point.

    Examples
    --------
    >>> from sklearn_aae import SwissRollPrior
    >>> SwissRollPrior(n_components=2).sample(5, random_state=0).shape
    (5, 2)
    """

    _supported_n_components = (2,)

    def __init__(self, n_components=None, *, n_segments=10, noise=0.05):
        super().__init__(n_components)
        self.n_segments = n_segments
        self.noise = noise

    @property
    def n_classes(self):
        return self.n_segments

    def _sample(self, n_samples, y, rng):
        u = rng.uniform(0.0, 1.0, n_samples)
        if y is not None:
            u = (y + u) / self.n_segments
        root = np.sqrt(u)
        Z = np.column_stack([3 * root * np.cos(4 * np.pi * root), 3 * root * np.sin(4 * np.pi * root)])
        return Z + rng.normal(0.0, self.noise, size=Z.shape)


class UniformPrior(Prior):
    """Uniform prior on the hypercube [low, high]^n_components.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension; ``None`` takes the estimator's.
    low, high : float, default=-1.0, 1.0
        Bounds of every coordinate.

    Examples
    --------
    >>> from sklearn_aae import UniformPrior
    >>> Z = UniformPrior(n_components=2).sample(100, random_state=0)
    >>> bool(Z.min() >= -1 and Z.max() <= 1)
    True
    """

    def __init__(self, n_components=None, *, low=-1.0, high=1.0):
        super().__init__(n_components)
        self.low = low
        self.high = high

    def _sample(self, n_samples, y, rng):
        if not self.low < self.high:
            raise ValueError(f"UniformPrior needs low < high, got low={self.low}, high={self.high}.")
        return rng.uniform(self.low, self.high, size=(n_samples, self.n_components))


class CategoricalPrior(Prior):
    """One-hot categorical prior: each sample is a vertex of the simplex.

    ``n_components`` is the number of categories. Encoders matched to this prior end in a
    softmax, so their codes are class-membership probabilities (a clustering head).

    Parameters
    ----------
    n_components : int or None, default=None
        Number of categories; ``None`` takes the estimator's ``n_components``.
    probabilities : array-like of shape (n_components,) or None, default=None
        Category probabilities; uniform when ``None``.

    Examples
    --------
    >>> from sklearn_aae import CategoricalPrior
    >>> CategoricalPrior(n_components=3).sample(2, y=[0, 2])
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """

    code_activation = "softmax"

    def __init__(self, n_components=None, *, probabilities=None):
        super().__init__(n_components)
        self.probabilities = probabilities

    @property
    def n_classes(self):
        return self.n_components

    def _sample(self, n_samples, y, rng):
        if y is None:
            p = None if self.probabilities is None else np.asarray(self.probabilities, dtype=float)
            y = rng.choice(self.n_components, size=n_samples, p=p)
        return np.eye(self.n_components)[y]


class CallablePrior(Prior):
    """Prior from a plain function ``func(n_samples, random_state) -> ndarray``.

    Parameters
    ----------
    func : callable
        Called as ``func(n_samples, random_state)`` where ``random_state`` is a
        ``numpy.random.RandomState``; must return an array of shape
        ``(n_samples, n_components)``.
    n_components : int or None, default=None
        Dimension; ``None`` takes the estimator's.

    Examples
    --------
    >>> from sklearn_aae.priors import CallablePrior
    >>> prior = CallablePrior(lambda n, rng: rng.laplace(size=(n, 2)), n_components=2)
    >>> prior.sample(3, random_state=0).shape
    (3, 2)
    """

    def __init__(self, func, n_components=None):
        super().__init__(n_components)
        self.func = func

    def _name(self):
        return f"callable {getattr(self.func, '__qualname__', None) or repr(self.func)}"

    def _sample(self, n_samples, y, rng):
        try:
            return self.func(n_samples, rng)
        except MemoryError:
            raise
        except Exception as error:
            # The user's function failed: say which, keep its type where it is one of ours.
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"The prior {self._name()} raised {type(error).__name__} when called as "
                       f"func(n_samples={n_samples}, random_state): {error}") from error

    def _check_definition(self):
        if not callable(self.func):
            raise TypeError(f"CallablePrior needs a callable func(n_samples, random_state), got "
                            f"{type(self.func).__name__}.")
        try:
            signature = inspect.signature(self.func)
        except (TypeError, ValueError):
            return  # some builtins cannot be inspected: they are checked on their first call
        try:
            signature.bind(0, None)
        except TypeError:
            raise TypeError(f"The prior {self._name()} must take two arguments, func(n_samples, random_state), "
                            f"but its signature is {signature}.") from None


_PRIORS = {
    "gaussian": GaussianPrior,
    "gaussian_mixture": GaussianMixturePrior,
    "swiss_roll": SwissRollPrior,
    "uniform": UniformPrior,
    "categorical": CategoricalPrior,
}


# The parameter that sets the number of class regions of the named priors that have them.
_REGION_PARAMETERS = {"gaussian_mixture": "n_modes", "swiss_roll": "n_segments"}


def resolve_prior(prior, n_components, n_classes=None):
    """Turn an estimator's ``prior`` parameter into a prior object of the right dimension.

    Parameters
    ----------
    prior : str, Prior or callable
        A name in ``{'gaussian', 'gaussian_mixture', 'swiss_roll', 'uniform',
        'categorical'}``, a :class:`Prior` instance (copied, never modified) or a callable
        ``f(n_samples, random_state) -> ndarray``.
    n_components : int
        The estimator's latent dimension.
    n_classes : int or None, default=None
        Number of classes to place in the prior's regions: a *named* prior with regions
        ('gaussian_mixture', 'swiss_roll') gets one region per class. Instances and
        callables are taken as they are.

    Returns
    -------
    prior : Prior
        A new prior whose ``n_components`` equals ``n_components``.

    Examples
    --------
    >>> from sklearn_aae.priors import resolve_prior
    >>> resolve_prior("swiss_roll", 2)
    SwissRollPrior(n_components=2, n_segments=10, noise=0.05)
    """
    if isinstance(prior, str):
        if prior not in _PRIORS:
            raise ValueError(f"Unknown prior {prior!r}; choose one of {sorted(_PRIORS)}, a Prior or a callable.")
        regions = _REGION_PARAMETERS.get(prior) if n_classes is not None else None
        resolved = _PRIORS[prior](n_components, **({regions: n_classes} if regions else {}))
    elif isinstance(prior, Prior):
        resolved = copy.deepcopy(prior)
    elif isinstance(prior, type) and issubclass(prior, Prior):
        raise TypeError(f"prior={prior.__name__} is a class; pass an instance, {prior.__name__}(), or a name.")
    elif callable(prior):
        resolved = CallablePrior(prior, n_components)
    else:
        raise TypeError(f"prior must be a string, a Prior instance or a callable, got {type(prior).__name__}.")
    if resolved.n_components is None:
        resolved.n_components = n_components
    elif resolved.n_components != n_components:
        raise ValueError(
            f"The prior {type(resolved).__name__} has n_components={resolved.n_components} but "
            f"the estimator has n_components={n_components}; make them equal or leave the "
            "prior's n_components=None."
        )
    resolved._check_n_components()
    resolved._check_definition()
    return resolved
