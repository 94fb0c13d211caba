import numpy as np
import pytest

from sklearn_aae.metrics import heldout_knn_accuracy, mmd_rbf, trustworthiness


def test_heldout_knn_accuracy_by_hand():
    Z_train = [[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]
    y_train = [0, 0, 0, 1, 1, 1]
    # The third held-out point sits among class 0 but is labelled 1: 2 of 3 right.
    accuracy = heldout_knn_accuracy(Z_train, y_train, [[0.05], [5.05], [0.15]], [0, 1, 1], n_neighbors=3)
    assert accuracy == pytest.approx(2 / 3)


def test_mmd_rbf_by_hand():
    X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])
    gamma = 0.5
    k = lambda a, b: np.exp(-gamma * (a - b) ** 2)  # noqa: E731
    expected = (2 * k(0, 1)) / 2 + (2 * k(0, 2)) / 2 - 2 * (k(0, 0) + k(0, 2) + k(1, 0) + k(1, 2)) / 4
    assert mmd_rbf(X, Y, gamma=gamma) == pytest.approx(expected)


def test_mmd_rbf_detects_shift_and_is_symmetric():
    rng = np.random.RandomState(0)
    A, B = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    assert abs(mmd_rbf(A, B)) < 0.01
    assert mmd_rbf(A, B + 1) > 0.1
    assert mmd_rbf(A, B + 1) == pytest.approx(mmd_rbf(B + 1, A))


def test_mmd_rbf_errors():
    with pytest.raises(ValueError, match="same number of columns"):
        mmd_rbf(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mmd_rbf(np.zeros((1, 2)), np.zeros((3, 2)))


def test_trustworthiness_is_sklearns():
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    assert trustworthiness is sk_trustworthiness


def test_trustworthiness_by_hand():
    # Five points on a line; the embedding swaps the two end points. With k=1 the
    # intruding neighbours are: point 0 gets point 3 (its 3rd-nearest originally, penalty
    # 3 - 1), point 1 gets point 4 (4th-nearest, penalty 3), point 4 gets point 1 (3rd,
    # penalty 2). T = 1 - 2 / (n k (2n - 3k - 1)) * 7 = 1 - 14 / 30.
    X = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])
    Z = np.array([[10.0], [1.0], [3.0], [6.0], [0.0]])
    assert trustworthiness(X, Z, n_neighbors=1) == pytest.approx(1 - 14 / 30)
    assert trustworthiness(X, X, n_neighbors=1) == 1.0
