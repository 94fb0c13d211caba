"""The data path: input validation, images, standardisation, the training rows."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_aae import AdversarialAutoencoder


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_moments_match_numpy(dtype):
    from sklearn_aae._data import column_moments

    X = np.random.default_rng(0).normal(loc=1e3, scale=[1.0, 1e-3, 50.0], size=(1000, 3)).astype(dtype)
    mean, std = column_moments(X, chunk=64)  # many chunks, a ragged last one
    assert mean.dtype == std.dtype == np.float64
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, X.astype(np.float64).std(axis=0), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_rows_are_a_view_on_the_cpu(dtype):
    from sklearn_aae._data import TrainingData

    X = np.random.default_rng(0).normal(size=(50, 4)).astype(dtype)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    labels = np.arange(50) % 3
    data = TrainingData(X, np.arange(10, 50), mean, scale, torch.device("cpu"), labels=labels)
    assert data.data.data_ptr() == X.ctypes.data  # the caller's memory, not a copy
    assert len(data) == 40
    positions = torch.tensor([0, 5])  # positions among the training rows 10..49
    batch = data.batch(positions)
    assert batch.dtype == torch.float32
    np.testing.assert_allclose(batch.numpy(), ((X[[10, 15]] - mean) / scale), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(data.labels_at(positions).numpy(), labels[[10, 15]])


def test_read_only_input_trains_without_a_warning(make_estimator):
    X = np.random.default_rng(0).normal(size=(64, 3))
    X.setflags(write=False)  # e.g. a read-only memory map
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # torch warns about non-writable arrays
        make_estimator(AdversarialAutoencoder, max_iter=1, tol=None).fit(X)


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        ({}, np.array([[1.0, np.nan], [2.0, 3.0]]), ValueError, "NaN"),
        ({}, np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "infinity"),
        ({}, np.empty((0, 3)), ValueError, "0 sample"),
        ({}, np.ones((1, 3)), ValueError, "1 sample"),
        ({}, np.ones(5), ValueError, "Expected 2D array"),
        ({}, np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert string"),
        ({}, sp.csr_matrix(np.eye(3)), TypeError, "Sparse data"),
        ({}, np.ones((2, 2, 2, 2, 2)), ValueError, "5 dimensions"),
        ({"reconstruction_loss": "bce"}, np.full((4, 3), 2.0), ValueError, r"bce.*in \[0, 1\]"),
    ],
    ids=["nan", "inf", "no-rows", "one-row", "1d", "strings", "sparse", "5d", "bce-outside-unit-interval"],
)
def test_bad_input_at_fit(Estimator, make_estimator, params, X, error, match):
    with pytest.raises(error, match=match):
        make_estimator(Estimator, **params).fit(X)


@pytest.mark.parametrize("image_shape", [(6, 5), (4, 4, 3)])
def test_images_in_and_out(Estimator, make_estimator, image_shape):
    rng = np.random.RandomState(0)
    images = rng.uniform(0, 255, size=(64, *image_shape))
    est = make_estimator(Estimator, max_iter=2).fit(images)
    assert est.image_shape_ == image_shape and est.n_features_in_ == np.prod(image_shape)
    Z = est.transform(images)
    assert Z.shape == (64, 2)
    assert est.inverse_transform(Z).shape == (64, *image_shape)
    assert est.sample(3).shape == (3, *image_shape)
    # Flattened images are the same rows.
    np.testing.assert_array_equal(est.transform(images.reshape(64, -1)), Z)
    # One mean and one scale for all pixels.
    assert np.ptp(est.mean_) == 0 and np.ptp(est.scale_) == 0
    with pytest.raises(ValueError, match="images of shape"):
        est.transform(rng.uniform(size=(2, *[side + 1 for side in image_shape])))


def test_features_of_any_scale(Estimator, make_estimator, blobs):
    X, _ = blobs
    scales = np.logspace(-6, 6, X.shape[1])
    X_scaled = X * scales + 1e3
    est = make_estimator(Estimator, max_iter=30).fit(X_scaled)
    X_back = est.inverse_transform(est.transform(X_scaled))
    # Each column comes back in its own units, across twelve orders of magnitude: a unit
    # slip would be off by up to 1e6. (ALAE's reconstructions are narrower than the data,
    # so the band is wide.) The AAE, trained on reconstruction, also gets each column
    # right to the same relative error.
    spread_ratio = X_back.std(axis=0) / X_scaled.std(axis=0)
    assert np.all((spread_ratio > 0.01) & (spread_ratio < 100)), spread_ratio
    if Estimator is AdversarialAutoencoder:
        rel_err = np.sqrt(np.mean((X_back - X_scaled) ** 2, axis=0)) / X_scaled.std(axis=0)
        assert np.all(rel_err < 0.8), rel_err
    # Standardisation makes the model blind to units: the codes equal those of the raw data.
    Z_raw = make_estimator(Estimator, max_iter=30).fit(X).transform(X)
    # Up to float32 rounding of the standardised inputs, which adversarial training amplifies.
    np.testing.assert_allclose(est.transform(X_scaled), Z_raw, atol=0.05 * Z_raw.std())


def test_a_rows_results_do_not_depend_on_the_rows_beside_it(Estimator, make_estimator):
    from sklearn.datasets import load_digits

    X = load_digits().data[:200]
    model = make_estimator(Estimator, hidden_layer_sizes=(256,)).fit(X)
    Z = model.transform(X[:20])
    # Exactly, row by row: BLAS takes other kernels for a product of a few rows.
    np.testing.assert_array_equal(np.vstack([model.transform(X[i:i + 1]) for i in range(20)]), Z)
    np.testing.assert_array_equal(np.vstack([model.transform(X[i:i + 3]) for i in range(0, 18, 3)]), Z[:18])
    np.testing.assert_array_equal(np.vstack([model.inverse_transform(Z[i:i + 1]) for i in range(20)]),
                                  model.inverse_transform(Z))
