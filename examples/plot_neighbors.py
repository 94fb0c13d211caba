"""
Neighbourhood-preserving embeddings: UMAP's graph loss inside an adversarial autoencoder
========================================================================================

The paper's plain adversarial autoencoder (``n_neighbors=None``) reconstructs its input
and matches its codes to a prior, but nothing asks it to keep neighbours together, so on
digits its 2-D embedding blurs classes that UMAP separates. By default the estimator adds
UMAP's own objective (``n_neighbors=15``: the cross-entropy between UMAP's fuzzy k-NN
graph of the data and the graph of the codes, as in parametric UMAP) to the encoder's
loss. The prior still decides the overall shape:

- with ``prior="swiss_roll"`` the codes lie on a swiss roll, each digit a stretch of it;
- with ``prior="gaussian_mixture"`` the digits settle into the mixture's ten arms.

On data of this size new rows are placed among the training rows' codes the way
umap-learn's ``transform`` places them (``transform_mode="auto"`` resolves to
``"neighbors"``: their nearest training rows, then a few steps of the graph loss), which
keeps held-out neighbourhoods better than the encoder does; the script prints both
placements of the same model.

And unlike UMAP, every model can map new rows (``transform``), go back to the data
(``inverse_transform``) and generate new digits (``sample``): the bottom row shows
samples of each. All models are fitted on 70 % of the digits; the plots show the other
30 %, rows none of them saw, with their held-out 5-NN accuracy and trustworthiness, over
samples of each model's prior in grey.
"""

import warnings

import matplotlib.pyplot as plt
import umap
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness
from sklearn_aae.plotting import plot_embedding, plot_samples

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", message="n_jobs value")  # umap-learn: a seed means one thread

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "UMAP": umap.UMAP(random_state=0),
    'AAE(n_neighbors=None)\nplain': AdversarialAutoencoder(n_neighbors=None, random_state=0),
    'AAE(prior="swiss_roll")': AdversarialAutoencoder(prior="swiss_roll", random_state=0),
    'AAE(prior="gaussian_mixture")': AdversarialAutoencoder(prior="gaussian_mixture", random_state=0),
}

fig, axes = plt.subplots(2, len(models), figsize=(4.2 * len(models), 8.5), height_ratios=[3, 2])
for column, (name, model) in enumerate(models.items()):
    Z_train, Z_test = model.fit(X_train).transform(X_train), model.transform(X_test)
    knn = heldout_knn_accuracy(Z_train, y_train, Z_test, y_test)
    trust = trustworthiness(X_test, Z_test, n_neighbors=10)
    print(f"{name.replace(chr(10), ' '):48s} held-out 5-NN {knn:.3f}  trustworthiness {trust:.3f}")
    if getattr(model, "transform_mode_", None) == "neighbors":
        # The same model's encoder, for comparison.
        model.set_params(transform_mode="encoder")
        Z_encoded = model.transform(X_test)
        print(f"{'  through its encoder':48s} held-out 5-NN "
              f"{heldout_knn_accuracy(model.transform(X_train), y_train, Z_encoded, y_test):.3f}  "
              f"trustworthiness {trustworthiness(X_test, Z_encoded, n_neighbors=10):.3f}")
        model.set_params(transform_mode="auto")
    # The prior in grey underneath: the codes should fill it (UMAP has none).
    prior = model.prior_.sample(3000, random_state=0) if hasattr(model, "prior_") else None
    ax = plot_embedding(Z_test, y=y_test, prior=prior, ax=axes[0, column])
    if prior is not None:
        # The view is the prior's extent, so a few stray codes do not shrink everything else.
        low, high = prior.min(axis=0), prior.max(axis=0)
        ax.set_xlim(low[0] - 0.5, high[0] + 0.5)
        ax.set_ylim(low[1] - 0.5, high[1] + 0.5)
    ax.set_title(f"{name}\nheld-out 5-NN {knn:.3f}, trust {trust:.3f}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax = axes[1, column]
    if hasattr(model, "sample"):
        plot_samples(model.sample(40, random_state=0), n_cols=8, ax=ax)  # flat 64-pixel rows: 8x8 images
        ax.images[0].set_clim(0, 16)  # pixel values 0..16 on every panel, so their contrast compares
        ax.set_title("sample(40)", fontsize=10)
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "UMAP cannot sample", ha="center", va="center", fontsize=11, color="0.4")

fig.tight_layout()
plt.show()
