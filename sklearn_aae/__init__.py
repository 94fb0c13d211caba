"""Adversarial autoencoders as scikit-learn estimators."""

from ._aae import AdversarialAutoencoder
from ._alae import ALAE
from .priors import (
    CategoricalPrior,
    GaussianMixturePrior,
    GaussianPrior,
    Prior,
    SwissRollPrior,
    UniformPrior,
)

__version__ = "0.1.0"

__all__ = [
    "AdversarialAutoencoder",
    "ALAE",
    "Prior",
    "GaussianPrior",
    "GaussianMixturePrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
    "__version__",
]
