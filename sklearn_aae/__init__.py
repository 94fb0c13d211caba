"""Adversarial autoencoders as scikit-learn estimators."""

from ._aae import AdversarialAutoencoder
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
    "Prior",
    "GaussianPrior",
    "GaussianMixturePrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
    "__version__",
]
