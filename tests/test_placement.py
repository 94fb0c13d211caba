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
    # The encoder keeps no data; 'auto' keeps the training rows of a whole fit only.
    assert make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2,
                          transform_mode="encoder").fit(X)._placement is None
    auto = make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2, transform_mode="auto")
    assert auto.fit(X).transform_mode_ == "neighbors" and auto._placement.X_train.shape == X.shape
    assert auto.partial_fit(X).transform_mode_ == "encoder" and auto._placement is None


@pytest.mark.parametrize("Estimator", [AdversarialAutoencoder, ALAE])
def test_auto_places_the_rows_of_a_whole_fit_with_the_graph(Estimator):
    from sklearn_aae._labels import NoLabels

    model = Estimator()
    model._label_mode = NoLabels()  # what a fit without labels resolves first
    for incremental, mode in [(False, "neighbors"), (True, "encoder")]:
        model._resolve_transform_mode(incremental)
        assert model.transform_mode_ == mode, incremental
    model.set_params(n_neighbors=None)._resolve_transform_mode(False)
    assert model.transform_mode_ == "encoder"


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



def _graph(X, n_neighbors=10):
    from sklearn_aae._neighbors import NeighborGraph

    return NeighborGraph(X, n_neighbors, min_dist=0.1, code_scale=0.3, negative_sample_rate=5,
                         random_state=np.random.RandomState(0), device=torch.device("cpu"))


def _neighbours_kept(X, Z, k=10):
    """Mean share of each row's k nearest rows in X that are among its k nearest in Z."""
    near_x = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)[1][:, 1:]
    near_z = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)[1][:, 1:]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(near_x, near_z)])


def test_refined_layout_keeps_more_neighbours_and_the_codes_moments():
    # A layout that has the global arrangement (the classes apart) but is locally shuffled,
    # as a network's codes are: umap-learn's epochs on the codes mend it locally, and the
    # affine map back keeps the mean and covariance the prior was matched to.
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    rng = np.random.RandomState(0)
    codes = 2.0 * rng.normal(size=(10, 2))[y] + rng.normal(size=(600, 2))
    refined = _graph(X).refine_layout(codes, np.random.RandomState(0))
    assert refined.shape == codes.shape and np.isfinite(refined).all()
    assert _neighbours_kept(X, refined) > _neighbours_kept(X, codes) + 0.1
    np.testing.assert_allclose(refined.mean(axis=0), codes.mean(axis=0), atol=1e-8)
    np.testing.assert_allclose(np.cov(refined, rowvar=False), np.cov(codes, rowvar=False), atol=1e-8)
    # Deterministic for a seed.
    np.testing.assert_array_equal(refined, _graph(X).refine_layout(codes, np.random.RandomState(0)))


def test_refined_layout_of_too_few_rows_is_the_codes(blobs):
    codes = np.random.RandomState(0).normal(size=(3, 2))
    np.testing.assert_array_equal(_graph(blobs[0][:3], n_neighbors=3).refine_layout(codes, np.random.RandomState(0)),
                                  codes)


def test_default_places_among_refined_codes_and_refits_the_decoder(blobs, monkeypatch):
    import sklearn_aae._aae as aae_module

    X = blobs[0]
    calls = []
    real_fit_decoder = aae_module.fit_decoder
    monkeypatch.setattr(aae_module, "fit_decoder", lambda est, rows, codes: calls.append(codes.copy()) or
                        real_fit_decoder(est, rows, codes))
    est = AdversarialAutoencoder(n_neighbors=10, max_iter=5, transform_mode="neighbors", random_state=0).fit(X)
    codes = est._placement.codes * est._placement.code_scale
    encoder_codes = copy.copy(est).set_params(transform_mode="encoder").transform(X)
    # The placement holds the refined codes, which the decoder was fitted to.
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], codes, rtol=1e-5, atol=1e-6)
    assert not np.allclose(codes, encoder_codes, atol=1e-3)
    np.testing.assert_allclose(codes.mean(axis=0), encoder_codes.mean(axis=0), atol=1e-4)


def test_the_refinement_of_few_rows_runs_more_epochs_at_a_larger_step():
    from sklearn_aae._neighbors import refinement_schedule

    # The documented rule: 10,000 / sqrt(rows) epochs between 100 and 300, the step a
    # thousandth of the epochs; from 10,000 rows on the clusterer's 100 at 0.1.
    assert refinement_schedule(100) == (300, pytest.approx(0.3))
    assert refinement_schedule(1257) == (282, pytest.approx(0.282))
    assert refinement_schedule(2500) == (200, pytest.approx(0.2))
    for n_rows in (10_000, 100_000, 10 ** 7):
        assert refinement_schedule(n_rows) == (100, pytest.approx(0.1))
    epochs = [refinement_schedule(n)[0] for n in range(1, 20_000, 97)]
    assert all(later <= earlier for earlier, later in zip(epochs, epochs[1:]))


def test_the_default_refines_by_the_schedule_of_its_training_rows(blobs, monkeypatch):
    from sklearn_aae._neighbors import NeighborGraph, refinement_schedule

    calls = []
    real_refine = NeighborGraph.refine_layout

    def recording(graph, codes, random_state, **schedule):
        calls.append(schedule)
        return real_refine(graph, codes, random_state, **schedule)

    monkeypatch.setattr(NeighborGraph, "refine_layout", recording)
    X = blobs[0][:250]
    AdversarialAutoencoder(n_neighbors=10, max_iter=2, random_state=0).fit(X)
    epochs, learning_rate = refinement_schedule(len(X))
    assert calls == [dict(epochs=epochs, learning_rate=learning_rate)] and epochs > 100


@pytest.mark.parametrize("params", [dict(label_mode="prior", prior="gaussian_mixture"),
                                    dict(label_mode="conditional")])
def test_labels_keep_the_encoders_codes_for_placement(blobs, params):
    # With labels the codes also answer to them: the graph alone does not refine them.
    X, y = blobs
    est = AdversarialAutoencoder(n_neighbors=10, max_iter=5, transform_mode="neighbors", random_state=0,
                                 **params).fit(X, y)
    encoder_codes = copy.copy(est).set_params(transform_mode="encoder").transform(X)
    np.testing.assert_allclose(est._placement.codes * est._placement.code_scale, encoder_codes, rtol=1e-5,
                               atol=1e-5)


def test_fit_decoder_lowers_the_loss_on_new_codes_and_undoes_a_failure(blobs, monkeypatch):
    from sklearn_aae._training import fit_decoder

    X = blobs[0]
    est = AdversarialAutoencoder(max_iter=5, random_state=0).fit(X)
    codes = est.transform(X) + 0.5  # codes the decoder was not trained on

    def error(model):
        return float(((model.inverse_transform(codes) - X) ** 2).mean())

    before = error(est)
    state = copy.deepcopy(est.decoder_.state_dict())
    fit_decoder(est, X, codes)
    assert error(est) < 0.8 * before
    # A step that fails leaves the decoder as it was before the first.
    est.decoder_.load_state_dict(state)
    n_calls = []

    def failing(raw, rows):
        n_calls.append(1)
        if len(n_calls) == 5:
            raise RuntimeError("boom")
        return AdversarialAutoencoder._reconstruction_loss(est, raw, rows)

    monkeypatch.setattr(est, "_reconstruction_loss", failing)
    with pytest.raises(RuntimeError, match="boom"):
        fit_decoder(est, X, codes)
    for name, value in est.decoder_.state_dict().items():
        torch.testing.assert_close(value, state[name])


@pytest.fixture
def indexed(exact_search_index, make_estimator, blobs):
    """A default model whose graph, and so its placement, searches an index of the
    training rows (as it does above a few thousand rows), with those rows and new ones."""
    X = blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=3).fit(X[:240])
    return model, X[:240], X[240:]


def test_placement_of_large_data_searches_the_graphs_index(indexed, exact_search_index):
    model, X_train, X_new = indexed
    placement = model._placement
    # The placement searches the very index the graph's neighbours came from.
    assert len(exact_search_index.builds) == 1 and placement.search_index._index is exact_search_index.builds[0]
    assert isinstance(placement.search_index.seed, int)
    # The same neighbours, mostly, as the exact search of the training rows finds.
    exact = NearestNeighbors(n_neighbors=placement.n_neighbors).fit(X_train).kneighbors(X_new, return_distance=False)
    found, distances = placement.search_index.query(X_new.astype(np.float32), placement.n_neighbors,
                                                    placement.X_train)
    assert np.mean([len(set(a) & set(b)) for a, b in zip(found, exact)]) / placement.n_neighbors > 0.9
    assert np.all(np.diff(distances, axis=1) >= 0)
    # Each row is placed on its own: its code does not depend on the rows it comes with.
    Z = model.transform(X_new)
    np.testing.assert_allclose(model.transform(X_new[::-1])[::-1], Z, rtol=1e-6, atol=1e-6)
    assert placement._on_device[1] is None  # the index searches the rows: no copy of them on the device
    # Placed among the training codes of their neighbours.
    codes = placement.codes * placement.code_scale
    near = ((Z[:, None] - codes[exact]) ** 2).sum(-1).min(1)
    far = ((Z[:, None] - codes[None]) ** 2).sum(-1).mean(1)
    assert np.all(near < far)


def test_a_loaded_model_rebuilds_the_same_index(indexed, exact_search_index, tmp_path):
    from sklearn_aae import load

    model, X_train, X_new = indexed
    Z = model.transform(X_new)
    restored = pickle.loads(pickle.dumps(model))
    model.save(tmp_path / "model.zip")
    loaded = load(tmp_path / "model.zip")
    for other in (restored, loaded):
        assert other._placement.search_index._index is None  # not written: it is rebuilt
        np.testing.assert_array_equal(other.transform(X_new), Z)
        # Rebuilt once, from the rows the model keeps, with the seed of the first build.
        rebuilt = other._placement.search_index._index
        assert rebuilt is exact_search_index.builds[-1] and rebuilt.seed == exact_search_index.builds[0].seed
        np.testing.assert_array_equal(rebuilt.rows, X_train.astype(np.float32))
        other.transform(X_new)
        assert other._placement.search_index._index is rebuilt
    assert len(exact_search_index.builds) == 3
