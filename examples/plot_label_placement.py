"""
Labels place the classes: digits on a 10-component mixture and on a swiss roll
==============================================================================

With ``fit(X, y)`` and the default ``label_mode="prior"``, the discriminator also sees each
row's label, and the prior sample it compares a code with is drawn from that label's
region: component ``k`` of the Gaussian mixture, segment ``k`` of the swiss roll. Each
digit class therefore lands in its own region (the AAE paper's Fig. 4). The codes shown
are of held-out digits the model never saw; the faint points are labelled prior samples,
coloured by the class whose region they come from.
"""

import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

fig, axes = plt.subplots(1, 2, figsize=(14, 6.5))
for ax, prior in zip(axes, ["gaussian_mixture", "swiss_roll"]):
    aae = AdversarialAutoencoder(prior=prior, max_iter=100, random_state=0).fit(X_train, y_train)
    Z = aae.transform(X_test)  # (540, 2)
    classes = np.repeat(np.arange(10), 300)
    P = aae.prior_.sample(len(classes), y=classes, random_state=0)  # class k from region k
    ax.scatter(P[:, 0], P[:, 1], c=classes, cmap="tab10", s=2, alpha=0.12, vmin=-0.5, vmax=9.5)
    points = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=9, vmin=-0.5, vmax=9.5, edgecolors="none")
    for k in range(10):
        centre = np.median(P[classes == k], axis=0)
        ax.annotate(str(k), centre, fontsize=15, weight="bold", ha="center", va="center",
                    bbox=dict(boxstyle="circle", fc="white", alpha=0.7))
    ax.set_title(f'prior="{prior}", fit(X, y): held-out codes')
    ax.set_aspect("equal")
    print(f"{prior:17s} prior_ = {aae.prior_}")

fig.colorbar(points, ax=axes.tolist(), ticks=range(10), label="digit", shrink=0.8)
output = Path(sys.argv[1] if len(sys.argv) > 1 else "label_placement.png").resolve()
fig.savefig(output, dpi=80, bbox_inches="tight")
print(f"Wrote {output}")
