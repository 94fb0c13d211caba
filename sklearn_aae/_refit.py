"""What a warm-started ``fit`` or a ``partial_fit`` continues, rebuilds or refuses.

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

from . import _torch_utils
from ._training import snapshot
from .priors import Prior


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
    for value in vars(estimator).values():
        if isinstance(value, torch.optim.Optimizer):
            for group in value.param_groups:
                group["lr"] = estimator.learning_rate_init
    if estimator.early_stopping and estimator.validation_scores_ is None:
        estimator.validation_scores_, estimator.best_validation_score_ = [], -np.inf
    if estimator.early_stopping and np.isfinite(estimator.best_validation_score_):
        # A fit with early stopping ends on its best weights: they stay the best until beaten.
        estimator._best_state = snapshot(estimator)
