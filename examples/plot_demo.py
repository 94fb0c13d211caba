"""
Digits in two dimensions: PCA, Isomap, t-SNE, UMAP and adversarial autoencoders
===============================================================================

Every method is fitted on 70 % of ``load_digits`` and shown on the other 30 %, the
held-out rows, coloured by digit, with :func:`sklearn_aae.plotting.plot_comparison`. Each
panel's title gives the accuracy of a 5-nearest-neighbour classifier that is fitted on
the training codes and scores the held-out codes (how well new digits land next to their
own kind), the trustworthiness of the held-out codes and the fit time. t-SNE cannot
``transform`` new rows, so it embeds all rows at once (which flatters it).

The three adversarial autoencoders differ only in ``prior``: the shape their codes are
pushed to fill.
"""

import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import umap
from scipy.sparse import SparseEfficiencyWarning
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, Isomap
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_comparison

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=UserWarning)  # umap's notes on random_state
warnings.filterwarnings("ignore", category=SparseEfficiencyWarning)  # raised inside Isomap

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "PCA": PCA(n_components=2),
    "Isomap": Isomap(n_components=2),
    "t-SNE": TSNE(n_components=2, random_state=0),
    "UMAP": umap.UMAP(random_state=0),
    'AAE prior="gaussian"': AdversarialAutoencoder(prior="gaussian", random_state=0),
    'AAE prior="gaussian_mixture"': AdversarialAutoencoder(prior="gaussian_mixture", random_state=0),
    'AAE prior="swiss_roll"': AdversarialAutoencoder(prior="swiss_roll", random_state=0),
}

fig, axes = plt.subplots(2, 4, figsize=(20, 10))
# Fits a clone of each model on the training rows and shows the held-out rows, titled with
# held-out 5-NN accuracy, trustworthiness and fit time.
_, _, scores = plot_comparison(models, X_train, y_train, X_test=X_test, y_test=y_test, axes=axes.flat[:7], s=8)
for name, score in scores.items():
    print(f"{name:32s} 5-NN {score['knn_accuracy']:.3f}  trustworthiness {score['trustworthiness']:.3f}  "
          f"fit {score['fit_seconds']:5.1f} s")

axes.flat[-1].set_axis_off()
handles = [plt.Line2D([], [], marker="o", ls="", color=plt.cm.tab10(k)) for k in range(10)]
axes.flat[-1].legend(handles, [f"digit {k}" for k in range(10)], loc="center", fontsize=14)
fig.suptitle("load_digits, held-out rows (30 %), coloured by class", fontsize=16)
fig.tight_layout()

# ``make demo`` passes the PNG to write; the gallery passes nothing and shows the figure.
if len(sys.argv) > 1:
    output = Path(sys.argv[1]).resolve()
    fig.savefig(output, dpi=80)
    print(f"Wrote {output}")
plt.show()
