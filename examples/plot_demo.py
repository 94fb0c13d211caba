"""
Digits in two dimensions: PCA, Isomap, t-SNE, UMAP and adversarial autoencoders
===============================================================================

Every method is fitted on 70 % of ``load_digits`` and shown on the other 30 %, the
held-out rows, coloured by digit. Each panel's title gives the accuracy of a 5-nearest-
neighbour classifier that is fitted on the training codes and scores the held-out codes:
how well new digits land next to their own kind. t-SNE cannot ``transform`` new rows, so
it embeds all rows at once (which flatters it).

The three adversarial autoencoders differ only in ``prior``: the shape their codes are
pushed to fill.
"""

import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import umap  # noqa: E402
from scipy.sparse import SparseEfficiencyWarning  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.manifold import TSNE, Isomap  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_aae import AdversarialAutoencoder  # noqa: E402
from sklearn_aae.metrics import heldout_knn_accuracy  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=UserWarning)  # umap's notes on random_state
warnings.filterwarnings("ignore", category=SparseEfficiencyWarning)  # raised inside Isomap

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "PCA": PCA(n_components=2),
    "Isomap": Isomap(n_components=2),
    "t-SNE (all rows)": TSNE(n_components=2, random_state=0),
    "UMAP": umap.UMAP(random_state=0),
    'AAE prior="gaussian"': AdversarialAutoencoder(prior="gaussian", random_state=0),
    'AAE prior="gaussian_mixture"': AdversarialAutoencoder(prior="gaussian_mixture", random_state=0),
    'AAE prior="swiss_roll"': AdversarialAutoencoder(prior="swiss_roll", random_state=0),
}

fig, axes = plt.subplots(2, 4, figsize=(20, 10))
for ax, (name, model) in zip(axes.flat, models.items()):
    start = time.perf_counter()
    if isinstance(model, TSNE):
        Z = model.fit_transform(np.vstack([X_train, X_test]))
        Z_train, Z_test = Z[: len(X_train)], Z[len(X_train):]
    else:
        Z_train = model.fit(X_train).transform(X_train)
        Z_test = model.transform(X_test)
    seconds = time.perf_counter() - start
    accuracy = heldout_knn_accuracy(Z_train, y_train, Z_test, y_test)
    ax.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
    ax.set_title(f"{name}\n5-NN accuracy {accuracy:.3f}, fit {seconds:.1f} s")
    # A few held-out rows can land far out; frame the bulk (1st-99th percentile) so the
    # panels stay comparable.
    low, high = np.percentile(Z_test, [1, 99], axis=0)
    pad = 0.15 * (high - low)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
    print(f"{name:32s} 5-NN {accuracy:.3f}  fit {seconds:5.1f} s", flush=True)

axes.flat[-1].set_axis_off()
handles = [plt.Line2D([], [], marker="o", ls="", color=plt.cm.tab10(k)) for k in range(10)]
axes.flat[-1].legend(handles, [f"digit {k}" for k in range(10)], loc="center", fontsize=14)
fig.suptitle("load_digits, held-out rows (30 %), coloured by class", fontsize=16)
fig.tight_layout()

output = Path(sys.argv[1] if len(sys.argv) > 1 else "demo_digits.png").resolve()
fig.savefig(output, dpi=80)
print(f"Wrote {output}")
