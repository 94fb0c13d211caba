"""
Quick start: choose the shape of your embedding
===============================================

``AdversarialAutoencoder`` is used like ``PCA``: ``fit_transform`` gives 2-D codes. Its
``prior`` decides the shape those codes fill. Here the same digits are embedded with
a Gaussian, a 10-component Gaussian mixture and a swiss-roll prior; samples of each prior
are drawn faintly behind the codes. The fitted model also maps codes back to data
(``inverse_transform``) and generates new digits (``sample``), shown in the last row.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_embedding, plot_samples

warnings.filterwarnings("ignore", category=ConvergenceWarning)

digits = load_digits()
images, y = digits.images, digits.target  # (1797, 8, 8) images in, images out

fig, axes = plt.subplots(2, 3, figsize=(15, 10), gridspec_kw={"height_ratios": [3, 1]})
for column, prior in enumerate(["gaussian", "gaussian_mixture", "swiss_roll"]):
    aae = AdversarialAutoencoder(prior=prior, random_state=0)
    Z = aae.fit_transform(images)  # (1797, 2)
    ax = plot_embedding(Z, y=y, prior=aae.prior_, n_prior_samples=3000, ax=axes[0, column])
    ax.set_title(f'prior="{prior}"')
    ax.legend(loc="upper right", markerscale=4)

    samples = aae.sample(8, random_state=1)  # (8, 8, 8): eight new digits
    plot_samples(samples, n_cols=8, ax=axes[1, column]).set_title("sample(8)")
    print(f"{prior:17s} codes {Z.shape}, samples {samples.shape}, reconstruction score {aae.score(images):.3f}")

points = axes[0, -1].collections[-1]  # the codes, drawn over the prior samples
points.set_clim(-0.5, 9.5)  # one colour band per digit, centred on its tick
fig.colorbar(points, ax=axes[0].tolist(), ticks=range(10), label="digit", shrink=0.8)
plt.show()
