"""
Pipelines, grid search and pandas output
========================================

The estimators follow the scikit-learn contract, so they slot into a ``Pipeline`` and
``GridSearchCV`` like ``PCA`` does. Here a pipeline (autoencoder, then a k-nearest-
neighbour classifier) is tuned by grid search on the classifier's accuracy, and the
pipeline's codes come out as a pandas DataFrame with ``set_output(transform="pandas")``,
columns named ``aae0, aae1, ...``. Without a ``scoring`` argument a grid search over the
autoencoder alone uses its ``score``, the negative reconstruction error.
"""

import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_aae import AdversarialAutoencoder

warnings.filterwarnings("ignore", category=ConvergenceWarning)

digits = load_digits(as_frame=True)
X, y = digits.data, digits.target  # a DataFrame with columns pixel_0_0 ... pixel_7_7
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

pipe = Pipeline([
    ("aae", AdversarialAutoencoder(max_iter=40, hidden_layer_sizes=(256, 256), random_state=0)),
    ("knn", KNeighborsClassifier()),
])
search = GridSearchCV(pipe, {"aae__n_components": [2, 8], "aae__adversarial_weight": [0.3, 1.0]}, cv=3)
search.fit(X_train, y_train)
print(f"best {search.best_params_}: cross-validated accuracy {search.best_score_:.3f}, "
      f"held-out accuracy {search.score(X_test, y_test):.3f}")

# pandas in, pandas out: the fitted pipeline's first step turns a DataFrame into codes.
scaler_then_aae = Pipeline([("scale", StandardScaler()),
                            ("aae", AdversarialAutoencoder(max_iter=40, hidden_layer_sizes=(256, 256),
                                                           random_state=0))])
scaler_then_aae.set_output(transform="pandas").fit(X_train)
codes = scaler_then_aae.transform(X_test)
print(type(codes).__name__, list(codes.columns), codes.shape)

results = pd.DataFrame(search.cv_results_)[["param_aae__n_components", "param_aae__adversarial_weight",
                                            "mean_test_score"]]
print(results.to_string(index=False))

fig, (ax_table, ax_codes) = plt.subplots(1, 2, figsize=(12, 5))
table = results.pivot(index="param_aae__n_components", columns="param_aae__adversarial_weight",
                      values="mean_test_score")
image = ax_table.imshow(table.to_numpy(), cmap="viridis")
ax_table.set_xticks(range(table.shape[1]), [f"adversarial_weight={w}" for w in table.columns])
ax_table.set_yticks(range(table.shape[0]), [f"n_components={n}" for n in table.index])
for (i, j), value in pd.DataFrame(table.to_numpy()).stack().items():
    ax_table.text(j, i, f"{value:.3f}", ha="center", va="center", color="white")
ax_table.set_title("GridSearchCV: 3-fold k-NN accuracy of the pipeline")
fig.colorbar(image, ax=ax_table)
codes.plot.scatter(x="aae0", y="aae1", c=y_test, cmap="tab10", s=8, ax=ax_codes, colorbar=False)
ax_codes.set_title("set_output(transform='pandas'): the codes DataFrame, plotted by column name")
fig.tight_layout()
plt.show()
