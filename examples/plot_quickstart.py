"""
Quick start: choose the shape of your embedding
===============================================

``AdversarialAutoencoder`` is used like ``PCA``: ``fit_transform`` gives 2-D codes. Its
``prior`` decides the shape those codes fill. Here the same digits are embedded with
a Gaussian, a 10-component Gaussian mixture and a swiss-roll prior; samples of each prior
are drawn faintly behind the codes. The fitted model also maps codes back to data
(``inverse_transform``) and generates new digits (``sample``), shown in the last row.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_aae import AdversarialAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)

digits = load_digits()
images, y = digits.images, digits.target  # (1797, 8, 8) images in, images out

fig, axes = plt.subplots(2, 3, figsize=(15, 10), gridspec_kw={"height_ratios": [3, 1]})
for column, prior in enumerate(["gaussian", "gaussian_mixture", "swiss_roll"]):
    aae = AdversarialAutoencoder(prior=prior, random_state=0)
    Z = aae.fit_transform(images)  # (1797, 2)
    ax = axes[0, column]
    P = aae.prior_.sample(3000, random_state=0)
    ax.scatter(P[:, 0], P[:, 1], s=2, c="lightgrey", label="prior samples")
    points = ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    ax.set_title(f'prior="{prior}"')
    ax.legend(loc="upper right", markerscale=4)

    # Eight generated digits side by side: sample() returns (8, 8, 8) images.
    samples = aae.sample(8, random_state=1)
    axes[1, column].imshow(samples.transpose(1, 0, 2).reshape(8, -1), cmap="gray_r")
    axes[1, column].set_title("sample(8)")
    axes[1, column].set_axis_off()
    print(f"{prior:17s} codes {Z.shape}, samples {samples.shape}, reconstruction score {aae.score(images):.3f}")

fig.colorbar(points, ax=axes[0].tolist(), ticks=range(10), label="digit", shrink=0.8)
output = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart.png").resolve()
fig.savefig(output, dpi=80)
print(f"Wrote {output}")
