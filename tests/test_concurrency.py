"""A fitted model serves transform, inverse_transform and sample from several threads."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from sklearn_aae import ALAE, AdversarialAutoencoder

SMALL = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), batch_size=32, max_iter=2, tol=None,
             random_state=0)


@pytest.mark.parametrize("Estimator, params", [
    (AdversarialAutoencoder, {}),
    (AdversarialAutoencoder, dict(n_neighbors=5, transform_mode="neighbors")),
    (AdversarialAutoencoder, dict(label_mode="conditional")),
    (ALAE, {}),
], ids=["aae", "aae-placement", "aae-conditional", "alae"])
def test_calls_from_threads_match_serial_calls(Estimator, params):
    X, y = make_blobs(n_samples=150, n_features=5, centers=3, random_state=0)
    model = Estimator(**{**SMALL, **params}).fit(X, y)
    codes = model.transform(X)
    calls = []
    for i in range(8):
        rows = X[i * 15:(i + 1) * 15 + 30]
        calls += [lambda rows=rows: model.transform(rows),
                  lambda rows=rows: model.inverse_transform(model.transform(rows)),
                  lambda i=i: model.sample(20, random_state=i),
                  lambda i=i: model.inverse_transform(codes[i::8])]
    serial = [call() for call in calls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda call: call(), calls * 3))
    for i, result in enumerate(threaded):
        assert result.tobytes() == serial[i % len(calls)].tobytes()
    assert np.isfinite(codes).all()
