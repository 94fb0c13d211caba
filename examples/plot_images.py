"""
Images in, images out
=====================

Image arrays of shape ``(n, height, width)`` (or ``(n, height, width, channels)``) go
straight into ``fit``. The model flattens them internally, scales all pixels with one
mean and one standard deviation (``scaling="auto"`` picks this for images, so a rarely lit
pixel is not blown up to the weight of a busy one), and gives images back: from
``inverse_transform``, ``sample`` and as the decoded latent grid of the AAE paper's
manifold figures. Shown: held-out originals, their reconstructions through 8 latent
dimensions and through 2, new samples, and the decoded 2-D latent grid.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_latent_grid, plot_samples

warnings.filterwarnings("ignore", category=ConvergenceWarning)

images = load_digits().images  # (1797, 8, 8), pixel values 0..16
train, test = train_test_split(images, test_size=0.3, random_state=0)

aae8 = AdversarialAutoencoder(n_components=8, max_iter=100, random_state=0).fit(train)
aae2 = AdversarialAutoencoder(n_components=2, max_iter=100, random_state=0).fit(train)
print(f"image_shape_ {aae8.image_shape_}, scaling: one mean {aae8.mean_[0]:.2f} and scale {aae8.scale_[0]:.2f}")

originals = test[:24]
rebuilt8 = aae8.inverse_transform(aae8.transform(originals))  # (24, 8, 8), pixel units
rebuilt2 = aae2.inverse_transform(aae2.transform(originals))
samples = aae8.sample(24, random_state=0)
print(f"reconstruction shape {rebuilt8.shape}; held-out score 8-D {aae8.score(test):.3f}, "
      f"2-D {aae2.score(test):.3f} (minus the mean squared error of standardised pixels)")

fig = plt.figure(figsize=(16, 8))
grid = fig.add_gridspec(2, 4)
panels = [(originals, "held-out originals"), (rebuilt8, "inverse_transform(transform(X)), 8-D"),
          (rebuilt2, "inverse_transform(transform(X)), 2-D"), (samples, "sample(24), 8-D model")]
for k, (block, title) in enumerate(panels):
    ax = fig.add_subplot(grid[k // 2, k % 2])
    plot_samples(block, n_cols=8, ax=ax)
    ax.set_title(title)
ax = fig.add_subplot(grid[:, 2:])
plot_latent_grid(aae2, n_per_side=15, ax=ax)
ax.set_title("2-D model: decoded latent grid\n" + ax.get_title())
fig.tight_layout()
plt.show()
