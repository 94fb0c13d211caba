"""Adversarial autoencoders as scikit-learn estimators."""

__version__ = "0.1.0"

from ._aae import AdversarialAutoencoder
from ._alae import ALAE
from ._persistence import load
from .priors import (
    CategoricalPrior,
    GaussianMixturePrior,
    GaussianPrior,
    Prior,
    SwissRollPrior,
    UniformPrior,
)

__all__ = [
    "AdversarialAutoencoder",
    "ALAE",
    "load",
    "Prior",
    "GaussianPrior",
    "GaussianMixturePrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
    "__version__",
]
