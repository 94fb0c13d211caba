"""The default training on data of any size: the epoch budget, the step-size schedule,
minibatches of graph edges, out-of-core rows and the progress of a long fit."""

import numpy as np
import pytest

import sklearn_aae._neighbors as neighbors_module
from sklearn_aae import AdversarialAutoencoder
from sklearn_aae._training import planned_epochs

TINY = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), random_state=0)


def test_auto_epochs_fall_with_the_rows_within_bounds():
    epochs = [planned_epochs("auto", n) for n in (10, 1_257, 10_000, 100_000, 1_000_000)]
    assert epochs == [200, 85, 30, 20, 20]
    # Minibatches four times larger (the graph's on 10,000 rows): fewer steps an epoch, twice the epochs.
    assert planned_epochs("auto", 10_000, 1024) == 60
    assert planned_epochs(7, 1_000_000) == 7  # a number is honoured whatever the size
    # A refined fit (the default's, with the graph's minibatches of 1,024): a third of
    # the epochs, down to a minimum of its own on large data.
    refined = [planned_epochs("auto", n, 1024, refined=True) for n in (10_000, 100_000, 1_000_000)]
    assert refined == [20, 10, 10]
    assert planned_epochs("auto", 1_257, refined=True) == 28
    # A fit on class labels: 7000 / sqrt(n) epochs, within the same bounds.
    assert [planned_epochs("auto", n, labels=True) for n in (10, 1_257, 10_000, 1_000_000)] == [200, 197, 70, 20]


@pytest.mark.parametrize("n_neighbors, n_rows, expected", [
    (None, 300, 256), (None, 100_000, 256),  # without the graph: 256, capped at the rows
    (None, 100, 100),
    (15, 300, 256), (15, 1_257, 256), (15, 4_000, 500), (15, 10_000, 1024), (15, 1_000_000, 1024),
    (15, 101, 100),  # the graph's minibatches are pairs of end points: even
])
def test_auto_batch_size_grows_with_the_rows_with_the_graph(n_neighbors, n_rows, expected):
    from types import SimpleNamespace

    from sklearn_aae._training import planned_batch_size

    model = SimpleNamespace(batch_size="auto", _neighbor_term=None if n_neighbors is None else object())
    assert planned_batch_size(model, n_rows) == expected
    model.batch_size = 300  # a number is honoured, within the rows
    assert planned_batch_size(model, n_rows) == min(300, n_rows if n_neighbors is None else n_rows - n_rows % 2)


def test_max_iter_auto_runs_the_planned_epochs(blobs):
    X = blobs[0]
    model = AdversarialAutoencoder(**TINY, n_neighbors=None).fit(X)
    assert model.n_iter_ == planned_epochs("auto", len(X), 256) == len(model.loss_curve_)


@pytest.mark.parametrize("params, refined, labels", [
    (dict(), True, False),  # the default: the graph, new rows placed among refined training codes
    (dict(transform_mode="encoder"), False, False),
    # With labels the codes are not refined, and the label machinery gets more epochs.
    (dict(label_mode="conditional"), False, True),
    (dict(label_mode="categorical"), False, True),
    (dict(n_clusters=4), False, False),  # a clusterer trains without labels
])
def test_max_iter_auto_plans_the_epochs_of_the_fit(blobs, params, refined, labels):
    X, y = blobs
    model = AdversarialAutoencoder(**TINY, n_neighbors=10, **params)
    model.fit(X, y if "label_mode" in params else None)
    assert model.n_iter_ == planned_epochs("auto", len(X), 256, refined=refined, labels=labels)
    assert (planned_epochs("auto", len(X), 256, refined=True) < planned_epochs("auto", len(X), 256)
            < planned_epochs("auto", len(X), 256, labels=True))


@pytest.mark.parametrize("schedule, shares", [
    # 'linear' over 10 epochs: a warm-up over the first 3 (_WARMUP_SHARE), times the decay.
    ("linear", [1 / 3 * 1.0, 2 / 3 * 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]),
    ("constant", [1.0] * 10),
])
def test_learning_rate_schedule(blobs, schedule, shares, monkeypatch):
    import sklearn_aae._training as training

    rates = []
    run_epoch = training.run_epoch

    def recording(estimator, data, progress):
        rates.append({name: {group["lr"] for group in getattr(estimator, name).param_groups}
                      for name in ("autoencoder_optimizer_", "discriminator_optimizer_",
                                   "class_discriminator_optimizer_")})
        return run_epoch(estimator, data, progress)

    monkeypatch.setattr(training, "run_epoch", recording)
    y = blobs[1].copy()
    y[::2] = -1  # semi-supervised: the categorical mode's class discriminator is built too
    model = AdversarialAutoencoder(**TINY, max_iter=10, learning_rate=schedule, learning_rate_init=0.02,
                                   label_mode="categorical")
    model.fit(blobs[0], y)
    assert all(len(epoch["autoencoder_optimizer_"]) == 1 for epoch in rates)
    assert [epoch["autoencoder_optimizer_"].pop() for epoch in rates] == pytest.approx(
        [0.02 * share for share in shares])
    # The discriminators keep the initial step size: the codes stay on the prior to the end.
    assert all(epoch["discriminator_optimizer_"] == epoch["class_discriminator_optimizer_"] == {0.02}
               for epoch in rates)
    # partial_fit has no planned end: it keeps the initial step size, with no warm-up.
    model.partial_fit(blobs[0])
    assert {group["lr"] for group in model.autoencoder_optimizer_.param_groups} == {0.02}


def test_minibatches_are_the_end_points_of_graph_edges(blobs, monkeypatch):
    X = blobs[0]
    batches, graphs = [], []
    step = AdversarialAutoencoder._train_step

    def recording(self, X_batch, Z_prior, y=None, rows=None):
        batches.append(rows.clone())
        graphs.append(self._neighbor_term.graph)
        return step(self, X_batch, Z_prior, y, rows=rows)

    monkeypatch.setattr(AdversarialAutoencoder, "_train_step", recording)
    model = AdversarialAutoencoder(**TINY, batch_size=50, max_iter=2).fit(X)
    graph = graphs[0]
    edges = set(zip(graph.head.tolist(), graph.tail.tolist()))
    for rows in batches:
        assert rows.shape == (50,)
        heads, tails = rows.chunk(2)
        assert all((h, t) in edges for h, t in zip(heads.tolist(), tails.tolist()))
    # Each epoch is whole minibatches of end points, about as many rows as the data has.
    assert model.t_ == 2 * 300 == sum(len(rows) for rows in batches)
    assert len(batches) == 2 * 6


def test_a_memmap_trains_without_a_copy(blobs, tmp_path, monkeypatch):
    X = np.lib.format.open_memmap(tmp_path / "rows.npy", mode="w+", dtype=np.float64, shape=blobs[0].shape)
    X[:] = blobs[0]
    X.flush()
    X = np.load(tmp_path / "rows.npy", mmap_mode="r")
    seen = {}
    build = neighbors_module.NeighborGraph.__init__

    def recording(self, rows, *args, **kwargs):
        seen["graph rows"] = rows
        build(self, rows, *args, **kwargs)

    monkeypatch.setattr(neighbors_module.NeighborGraph, "__init__", recording)
    model = AdversarialAutoencoder(**TINY, max_iter=2, transform_mode="encoder").fit(X)
    # The neighbour search reads the caller's mapped rows, not a copy of them.
    assert np.shares_memory(seen["graph rows"], X)
    Z = model.transform(X)
    np.testing.assert_array_equal(Z, model.transform(np.asarray(blobs[0])))


def test_verbose_fit_shows_the_graph_the_start_then_training(blobs, capsys):
    AdversarialAutoencoder(**TINY, max_iter=2, verbose=True).fit(blobs[0])
    err = capsys.readouterr().err
    assert "nearest neighbours of 300 rows" in err and "fuzzy simplicial set" in err
    assert "spectral layout of 300 rows" in err and "encoder fitted to the layout" in err
    assert err.index("neighbour graph") < err.index("spectral start") < err.index("AdversarialAutoencoder training") \
        < err.index("AdversarialAutoencoder placement")
    assert "codes refined along the graph" in err  # the default refines the training codes after training
    assert "rows/s" in err


def test_a_large_graph_is_laid_out_by_lobpcg_as_arpack_lays_it_out(monkeypatch):
    import scipy.sparse.linalg
    import torch
    from sklearn.datasets import make_swiss_roll

    # One connected manifold: umap-learn lays out a graph of several components by parts.
    X = make_swiss_roll(600, noise=0.1, random_state=0)[0]
    graph = neighbors_module.NeighborGraph(X, 15, min_dist=0.1, code_scale=1.0, negative_sample_rate=5,
                                           random_state=np.random.RandomState(0), device=torch.device("cpu"))
    arpack = graph.spectral_layout(2, np.random.RandomState(0))

    # ARPACK's √n Lanczos vectors of n rows are what large data cannot afford.
    def no_arpack(*args, **kwargs):
        raise AssertionError("ARPACK was called for a graph above _LOBPCG_MIN_ROWS")

    monkeypatch.setattr(neighbors_module, "_LOBPCG_MIN_ROWS", 500)
    monkeypatch.setattr(scipy.sparse.linalg, "eigsh", no_arpack)
    lobpcg = graph.spectral_layout(2, np.random.RandomState(0))
    assert lobpcg.shape == (600, 2)
    # The same two eigenvectors, up to rotation and sign: the cosines of the principal
    # angles between the two layouts' column spaces are 1.
    cosines = np.linalg.svd(np.linalg.qr(arpack)[0].T @ np.linalg.qr(lobpcg)[0], compute_uv=False)
    np.testing.assert_allclose(cosines, 1.0, atol=1e-3)
