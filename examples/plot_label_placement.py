"""
Labels place the classes: digits on a 10-component mixture and on a swiss roll
==============================================================================

With ``fit(X, y)`` and the default ``label_mode="prior"``, the discriminator also sees each
row's label, and the prior sample it compares a code with is drawn from that label's
region: component ``k`` of the Gaussian mixture, segment ``k`` of the swiss roll. Each
digit class therefore lands in its own region (the AAE paper's Fig. 4). The codes shown
are of held-out digits the model never saw, over prior samples drawn for every class in
grey; each circled number marks the middle of that class's region, so a class placed well
has its colour gathered around its number.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_embedding

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

fig, axes = plt.subplots(1, 2, figsize=(14, 6.5))
for ax, prior in zip(axes, ["gaussian_mixture", "swiss_roll"]):
    aae = AdversarialAutoencoder(prior=prior, max_iter=100, random_state=0).fit(X_train, y_train)
    Z = aae.transform(X_test)  # (540, 2)
    classes = np.repeat(np.arange(10), 300)
    P = aae.prior_.sample(len(classes), y=classes, random_state=0)  # class k from region k
    plot_embedding(Z, y=y_test, prior=P, s=9, ax=ax)
    for k in range(10):
        centre = np.median(P[classes == k], axis=0)
        ax.annotate(str(k), centre, fontsize=15, weight="bold", ha="center", va="center",
                    bbox=dict(boxstyle="circle", fc="white", alpha=0.7))
    ax.set_title(f'prior="{prior}", fit(X, y): held-out codes')
    ax.set_aspect("equal")
    print(f"{prior:17s} prior_ = {aae.prior_}")

points = axes[-1].collections[-1]  # the codes, drawn over the prior samples
points.set_clim(-0.5, 9.5)  # one colour band per digit, centred on its tick
fig.colorbar(points, ax=axes.tolist(), ticks=range(10), label="digit", shrink=0.8)
plt.show()
