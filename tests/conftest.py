import pytest
from sklearn.datasets import make_blobs

from sklearn_aae import ALAE, AdversarialAutoencoder

# Small networks: the contract tests check behaviour, not embedding quality.
FAST = dict(hidden_layer_sizes=(32, 32), discriminator_layer_sizes=(32,), batch_size=64)

# Every estimator class that shares the base contract; ALAE joins this list.
ESTIMATORS = [AdversarialAutoencoder, ALAE]


def make_estimator(cls, **params):
    return cls(**{**FAST, "max_iter": 20, "random_state": 0, **params})


@pytest.fixture(params=ESTIMATORS, ids=lambda c: c.__name__)
def Estimator(request):
    return request.param


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, n_features=8, centers=4, random_state=0)
    return X, y
