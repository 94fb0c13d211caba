"""Fixtures shared by the test files. Fixtures only: test files import nothing from here."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from sklearn_aae import ALAE, AdversarialAutoencoder


@pytest.fixture(scope="session")
def fast_params():
    """Small networks and a fixed seed: the one set of fast parameters of the suite.

    Tests that need something else (more epochs, wider networks, smaller batches) pass it
    to ``make_estimator`` beside these, so every deviation is written where it is used.
    """
    return dict(hidden_layer_sizes=(32, 32), discriminator_layer_sizes=(32,), batch_size=64, max_iter=20,
                random_state=0)


# The suite tests the AdversarialAutoencoder's machinery on the paper's plain model, trained
# as before the neighbour graph became the default: shuffled rows, a constant step size, the
# stopping rule. Tests of the defaults (tests/test_defaults.py) and of the graph set what
# they use.
PLAIN_AAE = dict(n_neighbors=None, learning_rate_init=1e-3, learning_rate="constant", tol=1e-4)
# ALAE's machinery likewise on the paper's plain ALAE (its defaults have the graph too).
PLAIN_ALAE = dict(n_neighbors=None)


@pytest.fixture(scope="session")
def make_estimator(fast_params):
    """``make_estimator(Estimator, **params)``: an unfitted estimator with the fast parameters
    and the paper's plain model (``PLAIN_AAE``, ``PLAIN_ALAE``)."""

    def make(Estimator, **params):
        plain = PLAIN_AAE if issubclass(Estimator, AdversarialAutoencoder) else PLAIN_ALAE
        return Estimator(**{**plain, **fast_params, **params})

    return make


@pytest.fixture(params=[AdversarialAutoencoder, ALAE], ids=lambda cls: cls.__name__)
def Estimator(request):
    """Every estimator class that shares the base contract."""
    return request.param


@pytest.fixture(scope="session")
def blobs():
    """300 rows of 8 features in 4 well-separated classes: the suite's tabular data."""
    return make_blobs(n_samples=300, n_features=8, centers=4, random_state=0)


@pytest.fixture(scope="session")
def digits_split():
    """``X_train, X_test, y_train, y_test``: 1,000 digits (8 × 8 pixels as 64 columns),
    split 70/30, stratified, seed 0."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X[:1000], y[:1000], test_size=0.3, stratify=y[:1000], random_state=0)


@pytest.fixture(scope="module", params=[AdversarialAutoencoder, ALAE], ids=lambda cls: cls.__name__)
def fitted(request, blobs, make_estimator):
    """Each estimator fitted for 30 epochs on ``blobs``, once per test module.

    Shared between tests: a test that trains it further or changes its parameters must
    work on a copy (``copy.deepcopy`` or a pickle round trip).
    """
    return make_estimator(request.param, max_iter=30).fit(blobs[0])


@pytest.fixture
def cuda():
    """Skips the test unless a CUDA GPU is present."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")


class _ExactIndex:
    """Stands in for pynndescent's NN-descent index (whose first build and query in a
    fresh environment compile numba code for minutes): the same calls, exact answers."""

    builds = []

    def __init__(self, rows, seed):
        self.rows, self.seed = np.asarray(rows, dtype=np.float32), seed
        _ExactIndex.builds.append(self)

    def query(self, X, k, epsilon):
        distances, indices = NearestNeighbors(n_neighbors=k).fit(self.rows).kneighbors(X)
        return indices.astype(np.int32), distances.astype(np.float32)


@pytest.fixture
def exact_search_index(monkeypatch):
    """Graphs of more than 100 rows search (and keep) an index of their rows, as they do
    above a few thousand, with an exact stand-in for NN-descent; the stand-in's class,
    whose ``builds`` lists the indexes built since."""
    import umap.umap_

    import sklearn_aae._neighbors as neighbors

    def nearest_neighbors(X, n_neighbors, metric, metric_kwds, angular, random_state, **kwargs):
        index = _ExactIndex(X, random_state)
        indices, distances = index.query(X, n_neighbors, 0.0)
        return indices, distances, index

    monkeypatch.setattr(neighbors, "_EXACT_KNN_MAX_ROWS", 100)
    monkeypatch.setattr(umap.umap_, "nearest_neighbors", nearest_neighbors)
    monkeypatch.setattr(_ExactIndex, "builds", [])
    return _ExactIndex
