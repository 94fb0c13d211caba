"""
Semi-supervised classification: a learning curve on digits
==========================================================

With ``label_mode="categorical"`` the encoder has a softmax class head beside its style
code. A second discriminator pushes the head's outputs towards one-hot vectors of a
uniform categorical prior, the decoder reconstructs every row from style and class, and
only the labeled rows (the others have ``y = -1``) add a cross-entropy loss. The unlabeled
rows thus shape the classifier too (the AAE paper's Sec. 5). The curve shows held-out
accuracy of ``predict`` against the share of labeled training rows, next to
``LabelSpreading``, which also uses the unlabeled rows, and an ``MLPClassifier`` trained
on the labeled rows alone.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.semi_supervised import LabelSpreading

from sklearn_aae import AdversarialAutoencoder

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

fractions = [0.02, 0.05, 0.1, 0.3]
scores = {"AAE, label_mode='categorical'": [], "LabelSpreading (kNN kernel)": [], "MLPClassifier, labeled rows": []}
for fraction in fractions:
    labeled = train_test_split(np.arange(len(y_train)), train_size=fraction, stratify=y_train, random_state=0)[0]
    y_partial = np.full_like(y_train, -1)  # -1: unlabeled
    y_partial[labeled] = y_train[labeled]
    aae = AdversarialAutoencoder(n_components=8, label_mode="categorical", adversarial_weight=1.0, max_iter=60,
                                 random_state=0).fit(X_train, y_partial)
    scores["AAE, label_mode='categorical'"].append(np.mean(aae.predict(X_test) == y_test))
    spreading = LabelSpreading(kernel="knn", n_neighbors=7).fit(X_train, y_partial)
    scores["LabelSpreading (kNN kernel)"].append(spreading.score(X_test, y_test))
    mlp = MLPClassifier(max_iter=2000, random_state=0).fit(X_train[labeled], y_train[labeled])
    scores["MLPClassifier, labeled rows"].append(mlp.score(X_test, y_test))
    print(f"{len(labeled):4d} labels: " + ", ".join(f"{name} {values[-1]:.3f}" for name, values in scores.items()))

fig, ax = plt.subplots(figsize=(8, 5))
for name, values in scores.items():
    ax.plot(np.array(fractions) * 100, values, marker="o", label=name)
ax.set_xscale("log")
ax.minorticks_off()
ax.set_xticks(np.array(fractions) * 100, [f"{f:.0%}" for f in fractions])
ax.set_xlabel(f"labeled share of the {len(y_train):,} training digits")
ax.set_ylabel("held-out accuracy")
ax.set_title("Semi-supervised digits")
ax.legend()
ax.grid(alpha=0.3)
plt.show()
