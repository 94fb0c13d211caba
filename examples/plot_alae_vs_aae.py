"""
ALAE and the adversarial autoencoder on digits
==============================================

Both estimators embed, reconstruct and generate, but they shape different things:

- ``AdversarialAutoencoder`` pushes its *embedding* to fill the prior, so with
  ``prior="swiss_roll"`` the codes form a swiss roll;
- ``ALAE`` draws ``z`` from the prior and learns the embedding ``w = E(x)`` itself: the
  prior only feeds the generator ``G(F(z))``. Its 2-D embedding is therefore not a roll.

The top row shows 2-D embeddings of all digits. The lower rows use 16-D models: original
digits against ``inverse_transform(transform(X))`` of each model, and ``sample(...)`` of
each. ALAE never reconstructs pixels directly (its reconstruction loss lives in the latent
space); the titles give each model's held-out reconstruction error, ``-score``. On these
8×8 images (one scale for all pixels) ALAE's error came out lower than the AAE's (0.16
against 0.40), while on the 64 digit columns standardised one by one it is higher
(``benchmarks/RESULTS.md``): measure it on your data.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_aae import ALAE, AdversarialAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def image_grid(images, n_columns=10):
    """Tile (n, h, w) images, each framed by a blank pixel, into one picture."""
    images = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    n, h, w = images.shape
    rows = -(-n // n_columns)
    padded = np.zeros((rows * n_columns, h, w))
    padded[:n] = images
    return padded.reshape(rows, n_columns, h, w).transpose(0, 2, 1, 3).reshape(rows * h, n_columns * w)


digits = load_digits()
images_train, images_test, y_train, y_test = train_test_split(
    digits.images, digits.target, test_size=0.3, stratify=digits.target, random_state=0)

fig = plt.figure(figsize=(16, 13))
grid = fig.add_gridspec(3, 4, height_ratios=[4, 2, 2])

embeddings = {
    'AdversarialAutoencoder(prior="swiss_roll")': AdversarialAutoencoder(prior="swiss_roll", random_state=0),
    'ALAE(prior="swiss_roll")': ALAE(prior="swiss_roll", random_state=0),
}
for column, (name, model) in enumerate(embeddings.items()):
    Z = model.fit(images_train).transform(digits.images)
    ax = fig.add_subplot(grid[0, 2 * column: 2 * column + 2])
    ax.scatter(Z[:, 0], Z[:, 1], c=digits.target, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
    what = "codes fill the prior" if column == 0 else "w = E(x) is learned; z ~ prior only feeds G(F(z))"
    ax.set_title(f"{name}\n{what}")

originals = images_test[:20]
models = {"AAE": AdversarialAutoencoder(n_components=16, random_state=0),
          "ALAE": ALAE(n_components=16, random_state=0)}
panels = [("held-out originals", originals)]
for name, model in models.items():
    model.fit(images_train)
    error = -model.score(images_test)
    panels.append((f"{name} reconstructions (MSE {error:.2f})", model.inverse_transform(model.transform(originals))))
    print(f"{name:5s} held-out reconstruction MSE (standardised pixels) {error:.3f}")
for column, (title, pictures) in enumerate(panels):
    ax = fig.add_subplot(grid[1, column])
    ax.imshow(image_grid(pictures, n_columns=5), cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(title)
    ax.set_axis_off()
for column, (name, model) in enumerate(models.items()):
    ax = fig.add_subplot(grid[2, column])
    ax.imshow(image_grid(model.sample(20, random_state=0), n_columns=5), cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(f"{name}.sample(20)")
    ax.set_axis_off()

fig.tight_layout()
output = Path(sys.argv[1] if len(sys.argv) > 1 else "alae_vs_aae.png").resolve()
fig.savefig(output, dpi=80)
print(f"Wrote {output}")
