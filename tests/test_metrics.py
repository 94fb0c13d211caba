"""The quality measures of sklearn_aae.metrics, by hand. (``trustworthiness`` is
scikit-learn's own function, re-exported: scikit-learn tests it.)"""

import numpy as np
import pytest

from sklearn_aae.metrics import embedding_scores, heldout_knn_accuracy, mmd_rbf


def test_heldout_knn_accuracy_by_hand():
    Z_train = [[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]
    y_train = [0, 0, 0, 1, 1, 1]
    # The third held-out point sits among class 0 but is labelled 1: 2 of 3 right.
    accuracy = heldout_knn_accuracy(Z_train, y_train, [[0.05], [5.05], [0.15]], [0, 1, 1], n_neighbors=3)
    assert accuracy == pytest.approx(2 / 3)


def test_mmd_rbf_by_hand():
    X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])
    gamma = 0.5
    k = lambda a, b: np.exp(-gamma * (a - b) ** 2)
    expected = (2 * k(0, 1)) / 2 + (2 * k(0, 2)) / 2 - 2 * (k(0, 0) + k(0, 2) + k(1, 0) + k(1, 2)) / 4
    assert mmd_rbf(X, Y, gamma=gamma) == pytest.approx(expected)


def test_mmd_rbf_detects_shift_and_is_symmetric():
    rng = np.random.RandomState(0)
    A, B = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    assert abs(mmd_rbf(A, B)) < 0.01
    assert mmd_rbf(A, B + 1) > 0.1
    assert mmd_rbf(A, B + 1) == pytest.approx(mmd_rbf(B + 1, A))


@pytest.mark.parametrize("X, Y, match", [
    (np.zeros((3, 2)), np.zeros((3, 3)), "same number of columns"),
    (np.zeros((1, 2)), np.zeros((3, 2)), "at least 2 rows"),
], ids=["columns", "one-row"])
def test_mmd_rbf_errors(X, Y, match):
    with pytest.raises(ValueError, match=match):
        mmd_rbf(X, Y)


def test_embedding_scores_by_hand():
    from sklearn.datasets import load_digits
    from sklearn.manifold import trustworthiness
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    from sklearn_aae import ALAE, AdversarialAutoencoder

    digits = load_digits()
    images, y = digits.images[:300], digits.target[:300]
    X = images.reshape(300, -1)
    fast = dict(hidden_layer_sizes=(32,), discriminator_layer_sizes=(16,), max_iter=3, random_state=0)
    aae = AdversarialAutoencoder(**fast).fit(X[:200])
    Z_train, Z_test = aae.transform(X[:200]), aae.transform(X[200:])
    scale = np.where(X[:200].std(axis=0) > 0, X[:200].std(axis=0), 1.0)
    expected = dict(
        knn_accuracy=KNeighborsClassifier(5).fit(Z_train, y[:200]).score(Z_test, y[200:]),
        trustworthiness=trustworthiness(X[200:], Z_test, n_neighbors=10),
        reconstruction_mse=np.mean(((aae.inverse_transform(Z_test) - X[200:]) / scale) ** 2),
        mmd_to_prior=mmd_rbf(Z_train, aae.prior_.sample(200, random_state=0)),
    )
    assert embedding_scores(aae, X[:200], X[200:], y[:200], y[200:]) == expected
    assert 0 < expected["reconstruction_mse"] and expected["knn_accuracy"] > 0.2

    # Images are scored as flat rows; precomputed codes are used as given.
    on_images = AdversarialAutoencoder(**fast).fit(images[:200])
    Z_images = on_images.transform(images[:200]), on_images.transform(images[200:])
    by_rows = embedding_scores(on_images, X[:200], X[200:], y[:200], y[200:], Z_train=Z_images[0],
                               Z_test=Z_images[1])
    assert embedding_scores(on_images, images[:200], images[200:], y[:200], y[200:]) == by_rows

    # No prior, no reconstruction error or MMD; ALAE's codes are not matched to its prior.
    pca = embedding_scores(PCA(2).fit(X[:200]), X[:200], X[200:], y[:200], y[200:])
    assert np.isnan(pca["reconstruction_mse"]) and np.isnan(pca["mmd_to_prior"])
    alae = embedding_scores(ALAE(**fast).fit(X[:200]), X[:200], X[200:], y[:200], y[200:])
    assert alae["reconstruction_mse"] > 0 and np.isnan(alae["mmd_to_prior"])
