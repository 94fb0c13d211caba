"""AdversarialAutoencoder(n_clusters=K) as a clusterer: accuracy, predictions, balance, conventions."""

import copy
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._clustering import (CLUSTER_VOTE_NEIGHBORS, ClusterVote, best_partition, connectivity_graph,
                                     modularity, neighbor_graph, normalized_association, refine_clusters)


def matched_accuracy(y, clusters):
    """Accuracy after the best one-to-one matching of clusters to classes."""
    counts = np.zeros((clusters.max() + 1, y.max() + 1))
    np.add.at(counts, (clusters, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(y)


@pytest.fixture(scope="module")
def stretched_blobs():
    """Three blobs stretched along one slanted direction (scikit-learn's anisotropic blobs),
    300 rows in 2 features and 100 held out: KMeans's round clusters cut across them, a
    clusterer that follows the neighbourhoods need not."""
    X, y = make_blobs(400, centers=3, random_state=170)
    X = X @ np.array([[0.6, -0.6], [-0.4, 0.8]])
    return X[:300], X[300:], y[:300], y[300:]


@pytest.fixture(scope="module")
def fitted_stretched_blobs(make_estimator, stretched_blobs):
    return make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=30).fit(stretched_blobs[0])


@pytest.mark.slow
def test_beats_kmeans_on_stretched_blobs(stretched_blobs):
    X_train, X_test, y_train, y_test = stretched_blobs
    kmeans = KMeans(3, n_init=10, random_state=0).fit(X_train)
    theirs = matched_accuracy(y_test, kmeans.predict(X_test))
    # The clusterer's defaults, on small networks: its training schedule (max_iter='auto')
    # is part of what is tested, since its weaker pull to the prior needs the epochs.
    # Three seeds: the margin is the clusterer's, not one seed's.
    models = [AdversarialAutoencoder(n_clusters=3, hidden_layer_sizes=(32, 32), discriminator_layer_sizes=(32,),
                                     random_state=seed).fit(X_train) for seed in (0, 1, 2)]
    ours = [matched_accuracy(y_test, model.predict(X_test)) for model in models]
    assert np.mean(ours) > theirs + 0.05, (ours, theirs)
    for model in models:
        assert np.bincount(model.labels_, minlength=3).min() > 0


def test_labels_are_predict_of_the_training_rows(fitted_stretched_blobs, stretched_blobs):
    # The training clustering and a held-out one come from the same vote, scored alike.
    model, X_train = fitted_stretched_blobs, stretched_blobs[0]
    np.testing.assert_array_equal(model.labels_, model.predict(X_train))
    np.testing.assert_array_equal(model.predict_proba(X_train).argmax(axis=1), model.labels_)


def test_held_out_rows_take_the_clusters_of_the_training_rows_they_resemble(fitted_stretched_blobs, stretched_blobs):
    # A held-out row's cluster is the vote of its nearest training rows' labels_, each
    # weighted by the inverse of its distance: scored on held-out rows, the clustering
    # is the training rows' one.
    model, (X_train, X_test, y_train, y_test) = fitted_stretched_blobs, stretched_blobs
    as_float32 = (X_train.astype(np.float32), X_test.astype(np.float32))  # the precision the vote keeps
    distances, nearest = NearestNeighbors(n_neighbors=CLUSTER_VOTE_NEIGHBORS).fit(as_float32[0]).kneighbors(
        as_float32[1])
    weights = 1 / distances
    expected = np.stack([np.bincount(model.labels_[row], weights=w, minlength=3) for row, w in zip(nearest, weights)])
    np.testing.assert_allclose(model.predict_proba(X_test), expected / expected.sum(axis=1, keepdims=True), rtol=1e-4)
    assert abs(matched_accuracy(y_test, model.predict(X_test)) - matched_accuracy(y_train, model.labels_)) < 0.05


def test_a_small_cluster_is_not_voted_away():
    # Five rows apart from 300 others: their own cluster, which an unweighted vote of 15
    # rows would give to the large one.
    X = np.r_[np.random.default_rng(0).normal(size=(300, 2)), np.random.default_rng(1).normal(size=(5, 2)) * 0.1 + 4]
    labels = np.r_[np.zeros(300, dtype=int), np.ones(5, dtype=int)]
    vote = ClusterVote(X, labels, 2)
    np.testing.assert_array_equal(vote.predict_proba(X).argmax(axis=1), labels)
    assert vote.predict_proba(np.array([[4.0, 4.0], [0.0, 0.0]])).argmax(axis=1).tolist() == [1, 0]


def test_partial_fit_clusters_with_the_head(fitted_stretched_blobs, stretched_blobs):
    # partial_fit moves the model on from the vote's partition: the head clusters again,
    # and labels_ (the chunk's) is still predict of those rows.
    model = copy.deepcopy(fitted_stretched_blobs)
    chunk = stretched_blobs[0][:100]
    model.partial_fit(chunk)
    assert model._cluster_vote is None
    np.testing.assert_array_equal(model.labels_, model.predict(chunk))
    assert model.labels_.shape == (100,)


def test_a_new_fit_without_n_clusters_forgets_the_clusters(make_estimator, stretched_blobs):
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2).fit(stretched_blobs[0])
    model.set_params(n_clusters=None).fit(stretched_blobs[0])
    for name in ("labels_", "cluster_centers_", "classes_"):
        assert not hasattr(model, name), name
    assert model._cluster_vote is None
    assert not hasattr(model, "predict")


def test_fit_predict_is_labels(make_estimator, stretched_blobs):
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=3)
    labels = model.fit_predict(stretched_blobs[0])
    np.testing.assert_array_equal(labels, model.labels_)
    assert labels.shape == (300,)


def test_fit_predict_only_for_a_clusterer():
    assert not hasattr(AdversarialAutoencoder(), "fit_predict")
    assert hasattr(AdversarialAutoencoder(n_clusters=3), "fit_predict")


def test_cluster_centers_are_decoded_rows(fitted_stretched_blobs, stretched_blobs):
    centers = fitted_stretched_blobs.cluster_centers_
    assert centers.shape == (3, 2)
    assert np.all(np.isfinite(centers))
    # In the data's units: inside the data's range.
    low, high = stretched_blobs[0].min(axis=0) - 1, stretched_blobs[0].max(axis=0) + 1
    assert np.all((centers >= low) & (centers <= high))


def test_cluster_centers_of_images_have_the_image_shape(make_estimator):
    images = np.random.default_rng(0).random((60, 4, 4))
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(images)
    assert model.cluster_centers_.shape == (3, 4, 4)


def test_more_clusters_than_rows_is_an_error(make_estimator):
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"n_clusters=6 exceeds the number of training rows, n_samples=5"):
        make_estimator(AdversarialAutoencoder, n_clusters=6, max_iter=2).fit(X)


def test_degenerate_clusters_are_reported(make_estimator):
    # 40 identical rows cannot fill 4 clusters: the head puts them all in one.
    X = np.ones((40, 3))
    with pytest.warns(ConvergenceWarning, match=r"n_clusters=4\): clusters \[.*\] hold"):
        make_estimator(AdversarialAutoencoder, n_clusters=4, max_iter=2).fit(X)


def test_graph_is_on_by_default_for_a_clusterer(fitted_stretched_blobs):
    # n_neighbors=None: the clusterer trained on the neighbour graph (its losses are recorded).
    assert fitted_stretched_blobs.n_neighbors is None
    assert {"neighbors", "neighbor_classes"} <= set(fitted_stretched_blobs.loss_history_)


def test_refinement_mends_a_merged_cluster():
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    # Two blobs in one cluster and the third cluster empty, as a head can leave them.
    merged = np.where(y == 2, 1, y)
    refined = refine_clusters(neighbor_graph(X, 10), merged, 3)
    assert matched_accuracy(y, refined) > 0.95
    # Separate groups, each its own cluster, are left alone.
    np.testing.assert_array_equal(refine_clusters(neighbor_graph(X, 10), y, 3), y)


def test_refinement_of_large_clusters_is_reproducible():
    # A merged cluster above _DENSE_EIGEN_MAX_ROWS takes the iterative path; whatever
    # ran before in the process, the same input gives the same cluster numbers.
    from scipy import sparse
    from scipy.sparse.linalg import eigsh

    X, y = make_blobs(2100, centers=3, random_state=0)
    graph = neighbor_graph(X, 10)
    merged = np.where(y == 2, 1, y)
    first = refine_clusters(graph, merged, 3)
    eigsh(sparse.diags(np.arange(1.0, 101.0)), k=2, which="LA")  # moves ARPACK's own random start on
    np.testing.assert_array_equal(refine_clusters(graph, merged, 3), first)
    # The merged cluster's graph is in pieces (ARPACK does not converge on it, LOBPCG
    # takes over): the refinement still fills the empty cluster and keeps more of the graph.
    assert np.bincount(first, minlength=3).min() > 0
    assert normalized_association(graph, first, 3) > normalized_association(graph, merged, 3)


def test_the_partition_of_larger_modularity_is_chosen():
    X, y = make_blobs(400, centers=4, random_state=0)
    graph = neighbor_graph(X, 10)
    rng = np.random.RandomState(0)
    # A head that learned nothing, and codes that separate the groups (the rows
    # themselves): the refinement alone cannot mend the head's partition, KMeans on the
    # codes finds the groups. (How far the refinement gets depends on
    # LAPACK's threads: a random partition's clusters have near-degenerate Fiedler vectors.)
    head = rng.randint(0, 4, size=400)
    assert matched_accuracy(y, refine_clusters(graph, head, 4)) < 0.85
    chosen = best_partition(graph, head, X, X, 4, 10, rng)
    assert matched_accuracy(y, chosen) > 0.9
    assert modularity(graph, chosen, 4) > modularity(graph, refine_clusters(graph, head, 4), 4)
    # Codes that carry nothing of the groups (noise) against a head that found them: the
    # head's partition is kept.
    noise = rng.normal(size=(400, 2))
    np.testing.assert_array_equal(best_partition(graph, y, X, noise, 4, 10, rng), refine_clusters(graph, y, 4))


def test_modularity():
    # Two triangles joined by one edge: 7 edges, degrees 2, 2, 3 and 3, 2, 2.
    edges = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]
    rows, cols = np.array(edges).T
    graph = sparse.coo_matrix((np.ones(14), (np.r_[rows, cols], np.r_[cols, rows])), shape=(6, 6)).tocsr()
    # Newman's Q = sum_k [inside_k / m - (degree_k / 2m)^2] = 2 * (3/7 - 1/4).
    assert modularity(graph, np.array([0, 0, 0, 1, 1, 1]), 2) == pytest.approx(2 * (3 / 7 - 0.25))
    assert modularity(graph, np.zeros(6, dtype=int), 2) == pytest.approx(0.0)


def test_ward_on_large_data_clusters_a_sample_and_votes_the_rest(monkeypatch):
    import sklearn_aae._clustering as clustering

    X, y = make_blobs(900, centers=3, cluster_std=0.7, random_state=0)
    graph = neighbor_graph(X, 10)
    full = clustering.ward_partition(graph, X, X, 3, 10, np.random.RandomState(0))
    monkeypatch.setattr(clustering, "_WARD_MAX_ROWS", 300)
    sampled = clustering.ward_partition(graph, X, X, 3, 10, np.random.RandomState(0))
    assert sampled.shape == (900,)
    assert matched_accuracy(y, full) > 0.95
    assert matched_accuracy(y, sampled) > 0.95


def test_connectivity_graph_is_the_exact_searchs_graph():
    X, _ = make_blobs(200, centers=3, random_state=0)
    expected = NearestNeighbors(n_neighbors=10).fit(X).kneighbors_graph(X, mode="connectivity")
    expected = expected.maximum(expected.T).tolil()
    expected.setdiag(0)
    assert (neighbor_graph(X, 10) != expected.tocsr()).nnz == 0
    # A row listed twice, a missing neighbour (-1) and the row itself are no extra edges.
    graph = connectivity_graph(np.array([[0, 1, 1], [1, -1, 0], [2, 0, -1]]))
    assert graph.toarray().tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0]]


def test_the_vote_from_neighbour_lists_is_the_searched_vote():
    # The fit votes its training rows from the graph's neighbour lists, predict from a
    # search: the same arithmetic, duplicated rows (distance 0 to each other) included.
    X, _ = make_blobs(200, centers=3, random_state=0)
    X = np.r_[X, X[:5]].astype(np.float32)
    labels = np.random.default_rng(0).integers(3, size=len(X))
    vote = ClusterVote(X, labels, 4)
    distances, indices = NearestNeighbors(n_neighbors=CLUSTER_VOTE_NEIGHBORS).fit(X).kneighbors(X)
    proba = vote.neighbor_proba(indices, distances)
    np.testing.assert_allclose(proba, vote.predict_proba(X), rtol=1e-6, atol=1e-12)
    assert proba[:, 3].max() == 0  # no training row is in cluster 3
    # A duplicated row takes the vote of its copies alone, half each.
    copies = (np.eye(4)[labels[:5]] + np.eye(4)[labels[200:]]) / 2
    np.testing.assert_allclose(proba[:5], copies)
    np.testing.assert_allclose(proba[200:], copies)


def test_a_clusterer_reads_the_fits_neighbour_graph(monkeypatch, make_estimator, stretched_blobs):
    # The partition and the training rows' vote use the neighbours the fit's graph found:
    # no second search of the training rows (on large data an exact one costs as the
    # square of the rows).
    import sklearn_aae._labels as labels_module

    def no_search(*args, **kwargs):
        raise AssertionError("the training rows were searched again")

    monkeypatch.setattr(labels_module, "nearest_neighbors", no_search)
    X_train = stretched_blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2).fit(X_train)
    np.testing.assert_array_equal(model.labels_, model.predict(X_train))
    # Without the graph's rows (an early-stopping split keeps some rows out of it) the
    # clusterer searches them itself.
    with pytest.raises(AssertionError, match="searched again"):
        make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2, early_stopping=True).fit(X_train)


def test_a_graph_of_few_neighbours_still_votes_fifteen(make_estimator, stretched_blobs):
    # With n_neighbors=5 the graph's lists are too short for the vote of 15: the rows are
    # searched once for 15, the graph reads the first 5, and labels_ is still predict.
    X_train = stretched_blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, n_neighbors=5, max_iter=2).fit(X_train)
    np.testing.assert_array_equal(model.labels_, model.predict(X_train))
    np.testing.assert_allclose(model.predict_proba(X_train).sum(axis=1), 1.0)


def test_labels_are_predict_with_an_approximate_graph(monkeypatch, make_estimator, stretched_blobs):
    # Above a few thousand rows the graph's neighbours come from NN-descent, which can
    # miss some, and predict's from an exact search; a training row still keeps its own
    # cluster in both. Here every row's farthest listed neighbour is a random row instead.
    import sklearn_aae._neighbors as neighbors

    exact = neighbors.nearest_neighbors

    def approximate(X, n_neighbors, random_state):
        indices, distances = exact(X, n_neighbors, random_state)
        indices, distances = indices.copy(), distances.copy()
        indices[:, -1] = np.random.default_rng(0).integers(len(X), size=len(X))
        distances[:, -1] = np.linalg.norm(X - X[indices[:, -1]], axis=1)
        return indices, distances

    monkeypatch.setattr(neighbors, "nearest_neighbors", approximate)
    X_train = stretched_blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2).fit(X_train)
    np.testing.assert_array_equal(model.labels_, model.predict(X_train))


def test_the_head_is_fitted_on_a_sample_of_large_data(monkeypatch, make_estimator, stretched_blobs):
    import sklearn_aae._clustering as clustering

    monkeypatch.setattr(clustering, "_HEAD_FIT_MAX_ROWS", 60)
    X_train = stretched_blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=30).fit(X_train)
    import torch

    with torch.no_grad():
        head = model._map_rows(model._head_proba, X_train).argmax(axis=1)
    # Fitted on 60 of the 300 rows, the read-out still gives most rows their cluster.
    assert np.mean(head == model.labels_) > 0.9


def test_a_clusterers_adversarial_weight_is_its_own_by_default():
    from sklearn_aae._aae import _ADVERSARIAL_WEIGHT, _CLUSTERER_ADVERSARIAL_WEIGHT

    assert AdversarialAutoencoder()._adversarial_weight() == _ADVERSARIAL_WEIGHT == 0.3
    assert AdversarialAutoencoder(n_clusters=3)._adversarial_weight() == _CLUSTERER_ADVERSARIAL_WEIGHT == 0.1
    assert AdversarialAutoencoder(n_clusters=3, adversarial_weight=0.5)._adversarial_weight() == 0.5
    with pytest.raises(ValueError, match="adversarial_weight"):
        AdversarialAutoencoder(adversarial_weight="strong").fit(np.zeros((10, 2)))


def test_the_codes_are_partitioned_as_laid_out_along_the_graph(monkeypatch, make_estimator, stretched_blobs):
    # KMeans's and Ward's partitions read the trained codes after the graph's layout
    # epochs (those that refine a placement's codes), which draw the groups apart.
    import sklearn_aae._labels as labels_module
    from sklearn_aae._neighbors import NeighborGraph

    seen = {}
    refine_layout, partition = NeighborGraph.refine_layout, labels_module.best_partition

    def recording_layout(graph, codes, random_state):
        seen["codes"] = codes
        seen["layout"] = refine_layout(graph, codes, random_state)
        return seen["layout"]

    def recording_partition(graph, head_labels, X, codes, *args):
        seen["partitioned"] = codes
        return partition(graph, head_labels, X, codes, *args)

    monkeypatch.setattr(NeighborGraph, "refine_layout", recording_layout)
    monkeypatch.setattr(labels_module, "best_partition", recording_partition)
    X_train = stretched_blobs[0]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2).fit(X_train)
    assert seen["partitioned"] is seen["layout"]
    assert seen["layout"].shape == (len(X_train), model.n_components)
    assert not np.allclose(seen["layout"], seen["codes"])
    # Without a graph of all the training rows the codes are partitioned as trained.
    seen.clear()
    make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2, early_stopping=True).fit(X_train)
    assert "layout" not in seen and "partitioned" in seen


def test_a_large_clusterer_votes_new_rows_by_the_graphs_index(exact_search_index, make_estimator, stretched_blobs,
                                                                tmp_path):
    # Above a few thousand rows a new row's voters are found by the graph's NN-descent
    # index, as the graph found the training rows' (an exact search grows with the rows).
    from sklearn_aae import load

    X_train, X_test = stretched_blobs[:2]
    model = make_estimator(AdversarialAutoencoder, n_clusters=3, max_iter=2, transform_mode="encoder").fit(X_train)
    vote = model._cluster_vote
    assert len(exact_search_index.builds) == 1 and vote.search_index._index is exact_search_index.builds[0]
    exact = ClusterVote(X_train, vote.labels, 3)
    np.testing.assert_allclose(vote.predict_proba(X_test), exact.predict_proba(X_test), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.labels_, model.predict(X_train))
    # Saved without it, a loaded model rebuilds it from the rows the vote keeps.
    model.save(tmp_path / "model.zip")
    loaded = load(tmp_path / "model.zip")
    assert loaded._cluster_vote.search_index._index is None
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    assert len(exact_search_index.builds) == 2
    np.testing.assert_array_equal(exact_search_index.builds[-1].rows, X_train.astype(np.float32))
