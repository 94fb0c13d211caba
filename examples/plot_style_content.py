"""
Style and content: the same handwriting, every digit
====================================================

With ``label_mode="conditional"`` the decoder receives the digit's one-hot label beside
the code, and the discriminator checks that the codes of *every* class fill the whole
prior. The code cannot tell the digit, so it learns what the label leaves out: the style
(slant, stroke width, size). Decoding one code with each of the ten labels writes all
digits in one style (the AAE paper's Fig. 6/7): each row below is one style drawn from the
prior, each column a label passed to ``sample(n, y=k)``, which draws the same codes for the
same ``random_state``.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_samples

warnings.filterwarnings("ignore", category=ConvergenceWarning)

digits = load_digits()
# A 2-D code and a strong adversary keep the digit out of the code (8 dimensions let it leak in).
aae = AdversarialAutoencoder(n_components=2, label_mode="conditional", adversarial_weight=1.0, max_iter=150,
                             tol=None, random_state=0)
aae.fit(digits.images, digits.target)  # (1797, 8, 8) images in, images out

n_styles = 8
grid = np.stack([aae.sample(n_styles, y=k, random_state=1) for k in aae.classes_], axis=1)  # (8, 10, 8, 8)
fig, ax = plt.subplots(figsize=(10, 8.4))
plot_samples(grid.reshape(-1, 8, 8), n_cols=len(aae.classes_), ax=ax)  # row by row: one style per row
ax.set_axis_on()
pitch = 8 + 1  # an image and plot_samples' one blank pixel
ax.set_xticks(np.arange(len(aae.classes_)) * pitch + 3.5, [f"y={k}" for k in aae.classes_])
ax.set_yticks(np.arange(n_styles) * pitch + 3.5, [f"style {i}" for i in range(n_styles)])
ax.set_title('label_mode="conditional": one code per row, one label per column')
print(f"grid of {grid.shape[0]} styles x {grid.shape[1]} digits, each {grid.shape[2:]} pixels")
plt.show()
