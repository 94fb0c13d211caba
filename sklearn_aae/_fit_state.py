"""How a fit starts: afresh, or continuing the fitted model, which it may rebuild or refuse.

A model's networks and histories depend on some parameters (its ``_state_parameters``)
and on whether it trains on labels. A warm-started fit honours a change of either by
rebuilding the model, with a warning; ``partial_fit``, which continues the fitted
networks, refuses a changed parameter with an error that names it, its fitted and its
new value. The data are checked where they enter: features and image shape by
``validate_input``, classes by ``encode_labels``.
"""

import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state

from . import _torch_utils
from ._data import fit_scaling, resolve_input_noise
from ._training import snapshot
from .priors import Prior


def initialize(estimator, X, prior):
    """Start a model afresh: standardisation, device, seeds, prior, networks, histories."""
    for name in ("hidden_layer_sizes", "discriminator_layer_sizes"):
        estimator._layer_sizes(name)  # bad widths are refused before any work is done
    estimator.mean_, estimator.scale_ = fit_scaling(X, scaling=estimator.scaling,
                                                    reconstruction_loss=estimator.reconstruction_loss,
                                                    images=estimator.image_shape_ is not None)
    estimator.device_ = _torch_utils.resolve_device(estimator.device)
    estimator._autocast_dtype = _torch_utils.resolve_precision(estimator.precision, estimator.device_)
    estimator._rng = check_random_state(estimator.random_state)
    estimator.prior_ = prior
    estimator.input_noise_ = resolve_input_noise(estimator.input_noise, X, estimator._standardise, estimator._rng,
                                                 neighbor_graph=estimator._n_neighbors() is not None)
    init_seed, train_seed = estimator._rng.randint(np.iinfo(np.int32).max, size=2)
    # nn.Linear draws a throw-away initialisation from the global RNG when it is
    # built; fork_rng puts the user's global state back afterwards.
    with torch.random.fork_rng(devices=[]):
        estimator._build(X.shape[1], torch.Generator().manual_seed(int(init_seed)))
    for module in estimator._modules():
        module.to(estimator.device_)
    estimator._generator = torch.Generator(device=estimator.device_).manual_seed(int(train_seed))
    estimator.n_iter_, estimator.t_ = 0, 0
    estimator.loss_curve_ = []
    estimator.loss_history_ = {}
    estimator.best_loss_ = np.inf
    estimator.validation_scores_ = [] if estimator.early_stopping else None
    estimator.best_validation_score_ = -np.inf if estimator.early_stopping else None
    estimator._no_improvement_count = 0
    estimator._best_state = None
    estimator._fitted_signature = state_signature(estimator)


def state_signature(estimator):
    """The parameters the fitted networks and histories depend on, in comparable form."""
    signature = {}
    for name in estimator._state_parameters:
        value = getattr(estimator, name)
        if name.endswith("layer_sizes"):
            value = estimator._layer_sizes(name)
        elif name == "device":
            value = str(_torch_utils.resolve_device(value))
        elif isinstance(value, Prior):
            value = repr(value)
        signature[name] = value
    return signature


def state_changed(estimator, incremental):
    """Whether a parameter the fitted state depends on changed since the first fit.

    A warm-started ``fit`` honours the change: it rebuilds the model, with a warning.
    ``partial_fit`` continues the fitted networks, so it refuses it.
    """
    fitted, now = estimator._fitted_signature, state_signature(estimator)
    changed = [f"{name} from {fitted[name]!r} to {now[name]!r}" for name in now if now[name] != fitted.get(name)]
    if not changed:
        return False
    if incremental:
        raise ValueError(f"partial_fit continues the fitted networks, which depend on {', '.join(changed)}: "
                         "it changed since the first fit. Set it back, or call fit to start afresh.")
    warnings.warn(f"warm_start: {', '.join(changed)} changed since the last fit; the networks are rebuilt "
                  "and the old ones dropped.", UserWarning)
    return True


def labels_now_given(estimator, y, n_samples):
    """Whether a warm-started fit of a model fitted without labels now gets labels it uses."""
    if y is None or estimator._label_mode.name is not None:
        return False
    if estimator._resolve_labels(y, n_samples)[0].name is None:
        return False
    warnings.warn("warm_start: the model was fitted without labels and y now brings labels; the networks "
                  "are rebuilt with the label mode and the old ones dropped.", UserWarning)
    return True


def continue_settings(estimator):
    """Settings a continuing fit takes over from the parameters without a rebuild."""
    estimator._autocast_dtype = _torch_utils.resolve_precision(estimator.precision, estimator.device_)
    # The step size is set at every epoch (_training.set_learning_rate), from
    # learning_rate_init as it is now.
    if estimator.early_stopping and estimator.validation_scores_ is None:
        estimator.validation_scores_, estimator.best_validation_score_ = [], -np.inf
    if estimator.early_stopping and np.isfinite(estimator.best_validation_score_):
        # A fit with early stopping ends on its best weights: they stay the best until beaten.
        estimator._best_state = snapshot(estimator)
