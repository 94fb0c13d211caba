"""The neighbourhood-preserving option (n_neighbors): UMAP's graph loss on the codes."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import sklearn_aae._graph as graph_module
from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae._graph import NeighborGraph
from sklearn_aae.metrics import heldout_knn_accuracy

from conftest import ESTIMATORS, make_estimator

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_graph_is_umaps_fuzzy_graph_as_weighted_edges(blobs):
    X = blobs[0]
    graph = NeighborGraph(X, 10, min_dist=0.1, code_scale=1.0, negative_sample_rate=5,
                          random_state=np.random.RandomState(0), device=torch.device("cpu"))
    # The fuzzy union is symmetric, holds no self-loops, and keeps O(n·k) edges.
    edges = set(zip(graph.head.tolist(), graph.tail.tolist()))
    assert edges == {(j, i) for i, j in edges}
    assert all(i != j for i, j in edges)
    assert len(X) * 9 <= graph.n_edges <= 2 * len(X) * 9
    head, tail = graph.sample_edges(1000, torch.Generator().manual_seed(0))
    assert set(zip(head.tolist(), tail.tolist())) <= edges
    assert graph.a > 0 and graph.b > 0


def test_graph_build_keeps_torchs_thread_count():
    # umap-learn's numba kernels reset the OpenMP thread count torch uses (seen on digits).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        NeighborGraph(load_digits().data, 15, min_dist=0.1, code_scale=1.0, negative_sample_rate=5,
                      random_state=np.random.RandomState(0), device=torch.device("cpu"))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _two_pairs_graph():
    # Rows 0-1 and rows 2-3 are each other's nearest neighbours, the pairs far apart.
    X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]])
    return NeighborGraph(X, 2, min_dist=0.1, code_scale=1.0, negative_sample_rate=5,
                         random_state=np.random.RandomState(0), device=torch.device("cpu"))


def test_batch_edges_are_the_graph_edges_from_rows_to_columns():
    graph = _two_pairs_graph()
    # Row 1's edge meets row 0 (column 0), row 0's meets row 1 (column 2), row 3's meets
    # row 2 (column 1); row 2 is not among the rows, so the edge 2-3 counts once, not twice.
    i, j, weight = graph.batch_edges(torch.tensor([1, 0, 3]), torch.tensor([0, 2, 1]))
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 0), (1, 2), (2, 1)]
    assert torch.allclose(weight, torch.ones(3))  # each row's only neighbour: membership 1
    # A row repeated among the columns meets the edge once per copy, repeated rows too.
    i, j, _ = graph.batch_edges(torch.tensor([0, 2, 0]), torch.tensor([1, 3, 1, 2]))
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)]


def test_loss_pulls_edges_together_and_pushes_non_edges_apart():
    graph = _two_pairs_graph()
    positions = torch.tensor([0, 2, 1, 3])  # heads 0 and 2, tails 1 and 3
    grouped = torch.tensor([[0.0, 0.0], [9.0, 0.0], [0.1, 0.0], [9.1, 0.0]])
    swapped = torch.tensor([[0.0, 0.0], [9.0, 0.0], [9.1, 0.0], [0.1, 0.0]])  # neighbours far, strangers close
    assert torch.isfinite(graph.loss(grouped, positions))
    assert graph.loss(grouped, positions) < graph.loss(swapped, positions)
    # Attraction and repulsion by hand for the grouped layout.
    t = lambda d2: np.log(graph.a) + graph.b * np.log(d2)  # noqa: E731
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    attraction = softplus(t(0.01))  # edges 0-1 and 2-3, both of membership 1
    # Of the 4 head-tail pairs, the 2 edges do not repel; 0-3 and 2-1 do.
    repulsion = (softplus(-t(82.81)) + softplus(-t(79.21))) / 4
    assert graph.loss(grouped, positions).item() == pytest.approx(attraction + 5 * repulsion, rel=1e-4)


def test_a_row_drawn_twice_is_not_its_own_non_edge():
    graph = _two_pairs_graph()
    # Row 0 is both a head and a tail, at the same code.
    Z = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.0], [9.0, 0.0]])
    twice = graph.loss(Z, torch.tensor([0, 1, 0, 2]))
    assert torch.isfinite(twice) and twice < 10


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_graph_loss_decreases_and_is_recorded(Estimator, blobs):
    est = make_estimator(Estimator, n_neighbors=10).fit(blobs[0])
    history = est.loss_history_["neighbors"]
    assert len(history) == est.n_iter_ == len(est.loss_curve_)
    assert np.mean(history[-3:]) < 0.5 * history[0]
    assert est._neighbor_graph is None  # training-time state only
    assert "neighbors" not in make_estimator(Estimator, max_iter=2).fit(blobs[0]).loss_history_


def test_off_by_default_and_unchanged(blobs):
    X = blobs[0]
    assert AdversarialAutoencoder().n_neighbors is None and ALAE().n_neighbors is None
    Z_plain = make_estimator(AdversarialAutoencoder, max_iter=3).fit_transform(X)
    # min_dist and neighbor_weight only matter once n_neighbors is set.
    Z_other = make_estimator(AdversarialAutoencoder, max_iter=3, min_dist=0.5, neighbor_weight=7.0).fit_transform(X)
    np.testing.assert_array_equal(Z_plain, Z_other)


def test_neighbours_raise_heldout_knn_accuracy():
    # Digits are where a plain 2-D AAE blurs classes. 30 epochs of small networks on
    # 1,000 rows: 0.663 plain against 0.810 through the encoder and 0.910 placed among the
    # training codes (80 epochs: 0.763 against 0.857).
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X[:1000], y[:1000], test_size=0.3, stratify=y[:1000],
                                                        random_state=0)
    scores = {}
    for n_neighbors, mode in ((None, "encoder"), (10, "neighbors")):
        # float32 pins the arithmetic: the margin is about the graph loss, not precision.
        est = make_estimator(AdversarialAutoencoder, hidden_layer_sizes=(64, 64), max_iter=30, tol=None,
                             n_neighbors=n_neighbors, transform_mode=mode, precision="float32").fit(X_train)
        scores[mode] = heldout_knn_accuracy(est.transform(X_train), y_train, est.transform(X_test), y_test)
    # The same fit, its held-out rows through the encoder, against its training codes.
    est.set_params(transform_mode="encoder")
    scores["graph encoder"] = heldout_knn_accuracy(est.transform(X_train), y_train, est.transform(X_test), y_test)
    assert scores["graph encoder"] > scores["encoder"] + 0.05, scores
    assert scores["neighbors"] > scores["graph encoder"] + 0.05, scores


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_prior_and_early_stopping(Estimator, blobs):
    for prior in ("swiss_roll", "gaussian_mixture", "uniform"):
        est = make_estimator(Estimator, prior=prior, n_neighbors=8, max_iter=3, early_stopping=True).fit(blobs[0])
        assert np.isfinite(est.transform(blobs[0])).all()


def test_partial_fit_builds_the_graph_of_each_chunk(Estimator, blobs):
    est = make_estimator(Estimator, n_neighbors=10)
    for chunk in np.array_split(blobs[0], 3):
        est.partial_fit(chunk)
    assert len(est.loss_history_["neighbors"]) == 3
    with pytest.raises(ValueError, match="at least 2 training rows"):
        est.partial_fit(blobs[0][:1])


@pytest.mark.parametrize("params, match", [
    (dict(n_neighbors=1), "n_neighbors"),
    (dict(n_neighbors=2.5), "n_neighbors"),
    (dict(n_neighbors=10, neighbor_weight=0.0), "neighbor_weight"),
    (dict(n_neighbors=10, min_dist=-0.1), "min_dist"),
])
def test_bad_parameters(Estimator, blobs, params, match):
    with pytest.raises(ValueError, match=match):
        make_estimator(Estimator, **params).fit(blobs[0])


def test_more_neighbours_than_rows(Estimator):
    X = np.random.RandomState(0).normal(size=(6, 3))
    est = make_estimator(Estimator, n_neighbors=50, max_iter=2).fit(X)
    assert est.transform(X).shape == (6, 2)


def test_pickle_round_trip(Estimator, blobs):
    est = make_estimator(Estimator, n_neighbors=10, max_iter=3).fit(blobs[0])
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(blobs[0]), est.transform(blobs[0]))
    restored.partial_fit(blobs[0])  # keeps training after reloading


def _placement_model(Estimator, X, **params):
    return make_estimator(Estimator, n_neighbors=10, max_iter=5, transform_mode="neighbors", **params).fit(X)


def test_neighbor_transform_is_per_row_and_deterministic(Estimator, blobs):
    X = blobs[0]
    est = _placement_model(Estimator, X)
    Z = est.transform(X)
    assert Z.shape == (len(X), 2) and np.isfinite(Z).all()
    np.testing.assert_array_equal(Z, est.transform(X))
    # A row's code does not depend on the rows it comes with.
    alone = np.vstack([est.transform(X[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(alone, Z[:20], atol=1e-5)
    np.testing.assert_allclose(est.fit_transform(X), Z, atol=1e-5)


def test_neighbor_transform_places_rows_among_their_neighbours_codes(blobs):
    X, y = blobs
    est = _placement_model(AdversarialAutoencoder, X)
    train_codes = est.set_params(transform_mode="encoder").transform(X)
    # Fresh rows of each blob, placed among the training codes: the nearest training code
    # of each is one of its own blob's.
    rng = np.random.RandomState(1)
    new = X + 0.1 * rng.normal(size=X.shape)
    placed = est.set_params(transform_mode="neighbors").transform(new)
    nearest = np.argmin(((placed[:, None] - train_codes[None]) ** 2).sum(-1), axis=1)
    assert np.mean(y[nearest] == y) > 0.99


def test_neighbor_distances_in_blocks_change_nothing(blobs, monkeypatch):
    X = blobs[0]
    est = _placement_model(AdversarialAutoencoder, X)
    Z = est.transform(X)
    monkeypatch.setattr(graph_module, "_DISTANCE_BLOCK", 7 * len(X))  # 7 rows per block
    np.testing.assert_allclose(est.transform(X), Z, atol=1e-5)


def test_neighbor_transform_keeps_only_the_training_rows(blobs):
    X = blobs[0]
    est = _placement_model(AdversarialAutoencoder, X, early_stopping=True, validation_fraction=0.2)
    assert est._placement.rows.shape == (len(X) - 60, X.shape[1])
    assert est._placement.codes.shape == (len(X) - 60, 2)
    # The default mode keeps no data.
    assert make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2).fit(X)._placement is None


def test_neighbor_transform_images_and_pickle(Estimator):
    images = load_digits().images[:200]
    est = _placement_model(Estimator, images)
    Z = est.transform(images[:20])
    assert Z.shape == (20, 2)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(images[:20]), Z)


@pytest.mark.parametrize("params, call, match", [
    (dict(transform_mode="neighbors"), "fit", "set n_neighbors"),
    (dict(transform_mode="neighbors", n_neighbors=10), "partial_fit", "partial_fit"),
    (dict(transform_mode="umap", n_neighbors=10), "fit", "transform_mode"),
])
def test_neighbor_transform_errors(Estimator, blobs, params, call, match):
    with pytest.raises(ValueError, match=match):
        getattr(make_estimator(Estimator, max_iter=2, **params), call)(blobs[0])


def test_neighbor_transform_of_a_model_fitted_without_it(blobs):
    est = make_estimator(AdversarialAutoencoder, n_neighbors=10, max_iter=2).fit(blobs[0])
    with pytest.raises(ValueError, match="refit it with transform_mode='neighbors'"):
        est.set_params(transform_mode="neighbors").transform(blobs[0])


@cuda
def test_neighbor_transform_on_cuda_matches_the_cpu(blobs):
    X = blobs[0]
    est = _placement_model(AdversarialAutoencoder, X, device="cuda")
    Z = est.transform(X)
    est.device_ = torch.device("cpu")  # the same placement, computed on the CPU
    np.testing.assert_allclose(est.transform(X), Z, atol=1e-3)


def test_placement_starts_where_umap_learns_transform_starts(blobs, monkeypatch):
    # With no steps the code is umap-learn's initial placement of new rows: its
    # memberships (smooth_knn_dist, compute_membership_strengths) weighting the
    # neighbours' codes (init_graph_transform).
    import scipy.sparse
    from sklearn.neighbors import NearestNeighbors
    from umap.umap_ import compute_membership_strengths, init_graph_transform, smooth_knn_dist

    X = blobs[0]
    codes = np.random.RandomState(0).normal(size=(200, 2))
    placement = graph_module.NeighborPlacement(X[:200], codes, n_neighbors=10, a=1.6, b=0.9, code_scale=0.5,
                                               negative_sample_rate=5)
    monkeypatch.setattr(graph_module, "_PLACEMENT_STEPS", 0)
    Z = placement.transform(X[200:], torch.device("cpu"), chunk_size=64)
    distances, nearest = NearestNeighbors(n_neighbors=10).fit(X[:200]).kneighbors(X[200:])
    distances = distances.astype(np.float32)
    sigmas, rhos = smooth_knn_dist(distances, 10.0, local_connectivity=0.0)
    rows, cols, vals, _ = compute_membership_strengths(nearest, distances, sigmas, rhos, bipartite=True)
    graph = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(100, 200)).tocsr()
    expected = init_graph_transform(graph, (codes / 0.5).astype(np.float32)) * 0.5
    np.testing.assert_allclose(Z, expected, atol=1e-4)
