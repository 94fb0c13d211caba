"""The base class's data path: no copy of the training rows, chunked statistics."""

import warnings

import numpy as np
import pytest
import torch

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._base import _column_moments, _TrainingRows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_moments_match_numpy(dtype):
    X = np.random.default_rng(0).normal(loc=1e3, scale=[1.0, 1e-3, 50.0], size=(1000, 3)).astype(dtype)
    mean, std = _column_moments(X, chunk=64)  # many chunks, a ragged last one
    assert mean.dtype == std.dtype == np.float64
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, X.astype(np.float64).std(axis=0), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_rows_are_a_view_on_the_cpu(dtype):
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(dtype)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    rows = _TrainingRows(X, np.arange(10, 50), mean, scale, torch.device("cpu"))
    assert rows.data.data_ptr() == X.ctypes.data  # the caller's memory, not a copy
    assert len(rows) == 40
    batch = rows.batch(torch.tensor([0, 5]))  # positions into the training rows 10..49
    assert batch.dtype == torch.float32
    np.testing.assert_allclose(batch.numpy(), ((X[[10, 15]] - mean) / scale), rtol=1e-5, atol=1e-6)


def test_read_only_input_trains_without_a_warning():
    X = np.random.default_rng(0).normal(size=(64, 3))
    X.setflags(write=False)  # e.g. a read-only memory map
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # torch warns about non-writable arrays
        AdversarialAutoencoder(hidden_layer_sizes=(8,), max_iter=1, tol=None, random_state=0).fit(X)
