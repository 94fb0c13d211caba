"""transform_mode='neighbors': new rows placed among the training codes, as umap-learn's
transform places them."""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestNeighbors

from sklearn_aae import ALAE, AdversarialAutoencoder

PLACEMENT = dict(n_neighbors=10, max_iter=5, transform_mode="neighbors")


@pytest.fixture(scope="module", params=[AdversarialAutoencoder, ALAE], ids=lambda cls: cls.__name__)
def placed(request, make_estimator, blobs):
    """Each estimator fitted with transform_mode='neighbors' on ``blobs``; tests change copies."""
    return make_estimator(request.param, **PLACEMENT).fit(blobs[0])


def _placement(X_train, codes, **params):
    from sklearn_aae._placement import NeighborPlacement

    return NeighborPlacement(X_train, codes, **{**dict(n_neighbors=10, a=1.6, b=0.9, code_scale=0.5,
                                                       negative_sample_rate=5), **params})


def test_neighbor_transform_is_per_row_and_deterministic(placed, blobs):
    X = blobs[0]
    Z = placed.transform(X)
    assert Z.shape == (len(X), 2) and np.isfinite(Z).all()
    np.testing.assert_array_equal(Z, placed.transform(X))
    # A row's code does not depend on the rows it comes with, nor on its place among them
    # (scikit-learn's checks compare at a relative 1e-7, a float32's last place).
    alone = np.vstack([placed.transform(X[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(alone, Z[:20], rtol=1e-12)
    for seed in range(20):
        order = np.random.RandomState(seed).permutation(len(X))
        np.testing.assert_allclose(placed.transform(X[order]), Z[order], rtol=1e-12)
    np.testing.assert_allclose(clone(placed).fit_transform(X), Z, atol=1e-5)


@pytest.mark.slow
def test_neighbor_transform_places_rows_among_their_neighbours_codes(placed, blobs):
    X, y = blobs
    train_codes = copy.copy(placed).set_params(transform_mode="encoder").transform(X)
    # Fresh rows of each blob, placed among the training codes: the nearest training code
    # of each is one of its own blob's.
    new = X + 0.1 * np.random.RandomState(1).normal(size=X.shape)
    placed_codes = placed.transform(new)
    nearest = np.argmin(((placed_codes[:, None] - train_codes[None]) ** 2).sum(-1), axis=1)
    assert np.mean(y[nearest] == y) > 0.99


def test_neighbor_transform_keeps_only_the_training_rows(make_estimator, blobs):
    X = blobs[0]
    est = make_estimator(AdversarialAutoencoder, **PLACEMENT, early_stopping=True, validation_fraction=0.2).fit(X)
    assert est._placement.X_train.shape == (len(X) - 60, X.shape[1])
    assert est._placement.codes.shape == (len(X) - 60, 2)
    # The encoder keeps no data; 'auto' keeps the training rows of a fit on few rows only.
    assert make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2,
                          transform_mode="encoder").fit(X)._placement is None
    auto = make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2, transform_mode="auto")
    assert auto.fit(X).transform_mode_ == "neighbors" and auto._placement.X_train.shape == X.shape
    assert auto.partial_fit(X).transform_mode_ == "encoder" and auto._placement is None


def test_neighbor_transform_images_and_pickle(Estimator, make_estimator):
    images = load_digits().images[:200]
    est = make_estimator(Estimator, **PLACEMENT).fit(images)
    Z = est.transform(images[:20])
    assert Z.shape == (20, 2)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(images[:20]), Z)


@pytest.mark.parametrize("fitted_with, params, method, match", [
    (None, dict(transform_mode="neighbors"), "fit", "set n_neighbors"),
    (None, dict(transform_mode="neighbors", n_neighbors=10), "partial_fit", "partial_fit"),
    (None, dict(transform_mode="umap", n_neighbors=10), "fit", "transform_mode"),
    (dict(n_neighbors=10, transform_mode="encoder"), dict(transform_mode="neighbors"), "transform",
     "refit it with transform_mode='neighbors'"),
], ids=["without-n_neighbors", "partial_fit", "unknown-mode", "model-fitted-without-it"])
def test_neighbor_transform_errors(Estimator, make_estimator, blobs, fitted_with, params, method, match):
    est = make_estimator(Estimator, max_iter=2)
    if fitted_with is not None:
        est.set_params(**fitted_with).fit(blobs[0])
    est.set_params(**params)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(blobs[0])


def test_neighbor_transform_on_cuda_matches_the_cpu(make_estimator, blobs, cuda):
    X = blobs[0]
    est = make_estimator(AdversarialAutoencoder, **PLACEMENT, device="cuda").fit(X)
    Z = est.transform(X)
    est.device_ = torch.device("cpu")  # the same placement, computed on the CPU
    np.testing.assert_allclose(est.transform(X), Z, atol=1e-3)


def test_distances_in_blocks_change_nothing(placed, blobs, monkeypatch):
    import sklearn_aae._placement as placement_module

    X = blobs[0]
    Z = placed.transform(X)
    monkeypatch.setattr(placement_module, "_DISTANCE_BLOCK", 7 * len(X))  # 7 rows per block
    np.testing.assert_allclose(placed.transform(X), Z, atol=1e-5)


def test_placement_starts_where_umap_learns_transform_starts(blobs):
    # With no steps the code is umap-learn's initial placement of new rows: its
    # memberships (smooth_knn_dist, compute_membership_strengths) weighting the
    # neighbours' codes (init_graph_transform).
    from umap.umap_ import compute_membership_strengths, init_graph_transform, smooth_knn_dist

    X = blobs[0]
    codes = np.random.RandomState(0).normal(size=(200, 2))
    Z = _placement(X[:200], codes, steps=0).transform(X[200:], torch.device("cpu"), chunk_size=64)
    distances, nearest = NearestNeighbors(n_neighbors=10).fit(X[:200]).kneighbors(X[200:])
    distances = distances.astype(np.float32)
    sigmas, rhos = smooth_knn_dist(distances, 10.0, local_connectivity=0.0)
    rows, cols, vals, _ = compute_membership_strengths(nearest, distances, sigmas, rhos, bipartite=True)
    graph = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(100, 200)).tocsr()
    expected = init_graph_transform(graph, (codes / 0.5).astype(np.float32)) * 0.5
    np.testing.assert_allclose(Z, expected, atol=1e-4)

