"""The quality measures of sklearn_aae.metrics, by hand. (``trustworthiness`` is
scikit-learn's own function, re-exported: scikit-learn tests it.)"""

import numpy as np
import pytest

from sklearn_aae.metrics import heldout_knn_accuracy, mmd_rbf


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
