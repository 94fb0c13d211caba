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
space); the titles give each model's held-out reconstruction error, ``-score``. Which of
the two errors is lower depends on the data and its scaling: here the 8×8 images share
one scale for all pixels, while on the 64 digit columns standardised one by one ALAE's
error is the higher one (the ALAE table of ``benchmarks/RESULTS.md``). Measure it on your
data.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae.plotting import plot_embedding, plot_samples

warnings.filterwarnings("ignore", category=ConvergenceWarning)

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
    ax = plot_embedding(Z, y=digits.target, s=5, ax=fig.add_subplot(grid[0, 2 * column: 2 * column + 2]))
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
panels += [(f"{name}.sample(20)", model.sample(20, random_state=0)) for name, model in models.items()]
cells = [grid[1, column] for column in range(len(models) + 1)] + [grid[2, column] for column in range(len(models))]
for cell, (title, pictures) in zip(cells, panels):
    ax = plot_samples(pictures, n_cols=5, ax=fig.add_subplot(cell))
    ax.images[0].set_clim(0, 16)  # pixel values 0..16 on every panel, so their contrast compares
    ax.set_title(title)

fig.tight_layout()
plt.show()
