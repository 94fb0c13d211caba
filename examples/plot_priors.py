"""
Every prior, and one of your own
================================

The ``prior`` is the distribution the codes are pushed to fill. This example embeds the
same digits (passed as 8x8 images) with each built-in 2-D prior - ``"gaussian"``,
``"gaussian_mixture"``, ``"swiss_roll"`` and ``"uniform"`` - and with a user-defined
prior: a subclass of :class:`~sklearn_aae.Prior` that only has to implement
``_sample(n_samples, y, rng)``. Here it is a ring, a shape no VAE could use because its
density is never needed, only samples.

The ``"categorical"`` prior is one-hot (a point per class, no 2-D picture); see the
labels examples for it. Prior samples are drawn in grey behind the codes.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_aae import AdversarialAutoencoder, Prior
from sklearn_aae.metrics import mmd_rbf
from sklearn_aae.plotting import plot_embedding

warnings.filterwarnings("ignore", category=ConvergenceWarning)


class RingPrior(Prior):
    """Points on a ring of radius 2 with a little radial noise, in 2-D only."""

    _supported_n_components = (2,)

    def __init__(self, n_components=None, *, width=0.1):
        super().__init__(n_components)
        self.width = width

    def _sample(self, n_samples, y, rng):
        angle = rng.uniform(0, 2 * np.pi, n_samples)
        radius = 2 + self.width * rng.normal(size=n_samples)
        return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])  # (n_samples, 2)


digits = load_digits()
images, y = digits.images, digits.target
priors = ["gaussian", "gaussian_mixture", "swiss_roll", "uniform", RingPrior()]

fig, axes = plt.subplots(2, 3, figsize=(15, 10))
axes[-1, -1].set_axis_off()  # five priors, six panels
for ax, prior in zip(axes.flat, priors):
    aae = AdversarialAutoencoder(prior=prior, max_iter=80, random_state=0)
    Z = aae.fit_transform(images)
    plot_embedding(Z, y=y, prior=aae.prior_, ax=ax, n_prior_samples=3000, s=4)
    match = mmd_rbf(Z, aae.prior_.sample(len(Z), random_state=1))
    name = prior if isinstance(prior, str) else type(prior).__name__ + "()"
    ax.set_title(f"prior={name!r}\nMMD(codes, prior) = {match:.3f}")
    print(f"{name:18s} MMD to the prior {match:.4f}")

fig.tight_layout()
plt.show()
