"""Dask: out-of-core training through dask-ml's Incremental and transform via map_blocks."""

import numpy as np
import pytest

from sklearn_aae import AdversarialAutoencoder

da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")


@pytest.fixture(scope="module")
def dask_X():
    # 4 blocks of 150 rows: each block is one partial_fit call, i.e. one pass over it.
    return da.random.RandomState(0).normal(size=(600, 6), chunks=(150, 6))


def test_incremental_trains_block_by_block(Estimator, make_estimator, dask_X):
    incremental = wrappers.Incremental(make_estimator(Estimator), shuffle_blocks=False)
    incremental.fit(dask_X)
    model = incremental.estimator_
    assert model.n_iter_ == 4 and model.t_ == 600
    # The same chunks fed to partial_fit by hand give the same model, bit for bit.
    by_hand = make_estimator(Estimator)
    for block in dask_X.blocks:
        by_hand.partial_fit(block.compute())
    X = dask_X.compute()
    np.testing.assert_array_equal(model.transform(X), by_hand.transform(X))


def test_transform_with_map_blocks(make_estimator, dask_X):
    model = make_estimator(AdversarialAutoencoder, max_iter=3).fit(dask_X[:300].compute())
    Z = dask_X.map_blocks(model.transform, chunks=(dask_X.chunks[0], (model.n_components,)), dtype=np.float64)
    assert Z.shape == (600, 2)
    np.testing.assert_allclose(Z.compute(), model.transform(dask_X.compute()), rtol=1e-6, atol=1e-6)
