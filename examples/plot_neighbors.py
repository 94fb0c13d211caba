"""
Neighbourhood-preserving embeddings: UMAP's graph loss inside an adversarial autoencoder
========================================================================================

A plain adversarial autoencoder reconstructs its input and matches its codes to a prior,
but nothing asks it to keep neighbours together, so on digits its 2-D embedding blurs
classes that UMAP separates. ``n_neighbors=15`` adds UMAP's own objective (the
cross-entropy between UMAP's fuzzy k-NN graph of the data and the graph of the codes,
as in parametric UMAP) to the encoder's loss. The prior still decides the overall shape:

- with ``prior="swiss_roll"`` the codes lie on a swiss roll, each digit a stretch of it;
- with ``prior="gaussian_mixture"`` the digits settle into the mixture's ten arms.

Both also use ``transform_mode="neighbors"``: new rows are placed among the training rows'
codes the way umap-learn's ``transform`` places them (their nearest training rows, then
a few steps of the graph loss), which keeps held-out neighbourhoods better than the
encoder does; the script prints both placements of the same model.

And unlike UMAP, every model can map new rows (``transform``), go back to the data
(``inverse_transform``) and generate new digits (``sample``): the bottom row shows
samples of each. All models are fitted on 70 % of the digits; the plots show the other
30 %, rows none of them saw, with their held-out 5-NN accuracy and trustworthiness, over
samples of each model's prior in grey. To keep the example short the models train for
60 epochs; the 200 of ``benchmarks/RESULTS.md`` give clearer shapes and better scores.
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

from sklearn_aae import AdversarialAutoencoder  # noqa: E402
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", message="n_jobs value")  # umap-learn: a seed means one thread


def image_grid(images, n_columns=10):
    """Tile (n, h, w) images, each framed by a blank pixel, into one picture."""
    images = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    n, h, w = images.shape
    rows = -(-n // n_columns)
    padded = np.zeros((rows * n_columns, h, w))
    padded[:n] = images
    return padded.reshape(rows, n_columns, h, w).transpose(0, 2, 1, 3).reshape(rows * h, n_columns * w)


def make_umap():
    try:
        import umap
    except ImportError:
        sys.exit("This example compares against UMAP: pip install umap-learn")
    return umap.UMAP(random_state=0)


short = dict(max_iter=60, tol=None, random_state=0)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "UMAP": make_umap(),
    'AAE(prior="gaussian")\nplain': AdversarialAutoencoder(prior="gaussian", **short),
    'AAE(prior="swiss_roll",\nn_neighbors=15,\ntransform_mode="neighbors")': AdversarialAutoencoder(
        prior="swiss_roll", n_neighbors=15, transform_mode="neighbors", **short),
    'AAE(prior="gaussian_mixture",\nn_neighbors=15,\ntransform_mode="neighbors")': AdversarialAutoencoder(
        prior="gaussian_mixture", n_neighbors=15, transform_mode="neighbors", **short),
}

fig, axes = plt.subplots(2, len(models), figsize=(4.2 * len(models), 8.5), height_ratios=[3, 2])
for column, (name, model) in enumerate(models.items()):
    Z_train, Z_test = model.fit(X_train).transform(X_train), model.transform(X_test)
    knn = heldout_knn_accuracy(Z_train, y_train, Z_test, y_test)
    trust = trustworthiness(X_test, Z_test, n_neighbors=10)
    print(f"{name.replace(chr(10), ' '):48s} held-out 5-NN {knn:.3f}  trustworthiness {trust:.3f}")
    if getattr(model, "transform_mode", None) == "neighbors":
        # The same model's encoder, for comparison.
        model.set_params(transform_mode="encoder")
        Z_encoded = model.transform(X_test)
        print(f"{'  through its encoder':48s} held-out 5-NN "
              f"{heldout_knn_accuracy(model.transform(X_train), y_train, Z_encoded, y_test):.3f}  "
              f"trustworthiness {trustworthiness(X_test, Z_encoded, n_neighbors=10):.3f}")
        model.set_params(transform_mode="neighbors")
    ax = axes[0, column]
    if hasattr(model, "prior_"):
        # The prior in grey underneath: the codes should fill it. The view is the
        # prior's extent, so a few stray codes do not shrink everything else.
        prior = model.prior_.sample(3000, random_state=0)
        ax.scatter(prior[:, 0], prior[:, 1], c="0.85", s=2)
        low, high = prior.min(axis=0), prior.max(axis=0)
        ax.set_xlim(low[0] - 0.5, high[0] + 0.5)
        ax.set_ylim(low[1] - 0.5, high[1] + 0.5)
    ax.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    ax.set_title(f"{name}\nheld-out 5-NN {knn:.3f}, trust {trust:.3f}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax = axes[1, column]
    ax.set_axis_off()
    if hasattr(model, "sample"):
        ax.imshow(image_grid(model.sample(40, random_state=0).reshape(-1, 8, 8), n_columns=8),
                  cmap="gray_r", vmin=0, vmax=16)
        ax.set_title("sample(40)", fontsize=10)
    else:
        ax.text(0.5, 0.5, "UMAP cannot sample", ha="center", va="center", fontsize=11, color="0.4")

fig.tight_layout()
output = Path(sys.argv[1] if len(sys.argv) > 1 else "neighbors.png").resolve()
fig.savefig(output, dpi=80)
print(f"Wrote {output}")
