"""The neighbourhood-preserving option (n_neighbors): UMAP's graph loss on the codes."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy


def _graph(X, n_neighbors):
    from sklearn_aae._neighbors import NeighborGraph

    return NeighborGraph(X, n_neighbors, min_dist=0.1, code_scale=1.0, negative_sample_rate=5,
                         random_state=np.random.RandomState(0), device=torch.device("cpu"))


def _softplus(x):
    return np.log1p(np.exp(x))


def test_graph_is_umaps_fuzzy_graph_as_weighted_edges(blobs):
    X = blobs[0]
    graph = _graph(X, 10)
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
        _graph(load_digits().data, 15)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _two_pairs_graph():
    # Rows 0-1 and rows 2-3 are each other's nearest neighbours, the pairs far apart.
    return _graph(np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]]), 2)


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
    assert graph.loss(grouped, positions) < graph.loss(swapped, positions)
    # Attraction and repulsion by hand for the grouped layout.
    t = lambda d2: np.log(graph.a) + graph.b * np.log(d2)
    attraction = _softplus(t(0.01))  # edges 0-1 and 2-3, both of membership 1
    # Of the 4 head-tail pairs, the 2 edges do not repel; 0-3 and 2-1 do.
    repulsion = (_softplus(-t(82.81 + 1e-3)) + _softplus(-t(79.21 + 1e-3))) / 4  # d² + 0.001, as umap-learn
    assert graph.loss(grouped, positions).item() == pytest.approx(attraction + 5 * repulsion, rel=1e-4)


def test_a_row_drawn_twice_is_not_its_own_non_edge():
    graph = _two_pairs_graph()
    # Heads: rows 0 and 1; tails: rows 0 and 2. Row 0 is both, at the same code.
    Z = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.0], [9.0, 0.0]])
    t = lambda d2: np.log(graph.a) + graph.b * np.log(d2)
    attraction = _softplus(t(0.01))  # the edge 1-0, of membership 1
    # Of the 3 pairs of different rows, the edge 1-0 does not repel; 0-2 and 1-2 do. The
    # pair of row 0 with itself is no pair at all.
    repulsion = (_softplus(-t(81.0 + 1e-3)) + _softplus(-t(79.21 + 1e-3))) / 3
    assert graph.loss(Z, torch.tensor([0, 1, 0, 2])).item() == pytest.approx(attraction + 5 * repulsion, rel=1e-4)


def test_pair_repulsion_matches_autograd_on_the_broadcast_differences():
    from sklearn_aae._neighbors import pair_repulsion

    generator = torch.Generator().manual_seed(0)
    head = (3 * torch.randn(40, 2, generator=generator)).requires_grad_()
    tail = (3 * torch.randn(30, 2, generator=generator)).requires_grad_()
    tail.data[0] = head.data[0]  # a coincident pair: finite thanks to the epsilon
    weight = torch.rand(40, 30, generator=generator)
    a, b = 1.58, 0.9
    pair_repulsion(head, tail, weight, a, b).mul(0.5).backward()
    fused = head.grad.clone(), tail.grad.clone()
    head.grad = tail.grad = None
    squared = (head[:, None] - tail[None]).square().sum(2) + 1e-3
    reference = (weight * F.softplus(-(np.log(a) + b * torch.log(squared)))).sum()
    reference.mul(0.5).backward()
    assert pair_repulsion(head, tail, weight, a, b).item() == pytest.approx(reference.item(), rel=1e-5)
    # d² as |h|² + |t|² - 2 h·t rounds at the level of float32 times |h|²: the coincident
    # pair's gradient is off by about that much, every other one agrees closely.
    torch.testing.assert_close(fused[0], head.grad, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(fused[1], tail.grad, rtol=1e-4, atol=1e-3)
    assert torch.isfinite(fused[0]).all()


def test_loss_over_blocks_of_edges_pads_the_last_block_with_no_pairs():
    from sklearn_aae._neighbors import _REPULSION_BLOCK

    graph = _graph(load_digits().data[:400], 15)
    generator = torch.Generator().manual_seed(0)
    n_edges = _REPULSION_BLOCK + 3  # two blocks, the second of 3 edges
    head, tail = graph.sample_edges(n_edges, generator)
    Z = 2 * torch.randn(2 * n_edges, 2, generator=generator)
    # The loss by its definition: attraction over the graph's edges from heads to tails,
    # repulsion over the pairs of different rows within each block, by broadcasting.
    i, j, weight = graph.batch_edges(head, tail)
    t = lambda squared: np.log(graph.a) + graph.b * torch.log(squared)
    Z_head, Z_tail = Z.double().chunk(2)
    attraction = (weight * F.softplus(t((Z_head[i] - Z_tail[j]).square().sum(1)))).sum() / weight.sum()
    repulsion, n_pairs = 0.0, 0
    for block in (slice(0, _REPULSION_BLOCK), slice(_REPULSION_BLOCK, n_edges)):
        pair_weight = (head[block, None] != tail[None, block]).double()
        n_pairs += int(pair_weight.sum())
        offset = block.start
        for a, b, w in zip(i.tolist(), j.tolist(), weight.tolist()):
            if block.start <= a < block.stop and block.start <= b < block.stop:
                pair_weight[a - offset, b - offset] -= w
        squared = (Z_head[block, None] - Z_tail[None, block]).square().sum(2) + 1e-3
        repulsion += (pair_weight * F.softplus(-t(squared))).sum()
    expected = attraction + 5 * repulsion / n_pairs
    assert graph.loss(Z, torch.cat([head, tail])).item() == pytest.approx(expected.item(), rel=1e-4)


def test_the_papers_terms_read_a_share_of_a_large_minibatch_of_edges(monkeypatch):
    from sklearn.datasets import make_blobs

    from sklearn_aae._neighbors import _PAPER_TERM_ROWS

    seen = {"encoder": set(), "decoder": set(), "discriminator": set()}
    build = AdversarialAutoencoder._build

    def build_and_watch(self, n_features, generator):
        build(self, n_features, generator)
        for name in ("decoder", "discriminator"):
            getattr(self, f"{name}_").register_forward_hook(
                lambda module, inputs, output, name=name: seen[name].add(inputs[0].shape[0]))
        encode = self.encoder_.encode
        self.encoder_.encode = lambda X, **kwargs: (seen["encoder"].add(X.shape[0]), encode(X, **kwargs))[1]

    monkeypatch.setattr(AdversarialAutoencoder, "_build", build_and_watch)
    X = make_blobs(n_samples=1100, n_features=8, centers=4, random_state=0)[0]
    AdversarialAutoencoder(batch_size=4 * _PAPER_TERM_ROWS, max_iter=1, random_state=0).fit(X)
    # The encoder codes every row of the minibatch for the graph's loss; the decoder and
    # the discriminator (prior samples and codes together) read a quarter of it.
    assert 4 * _PAPER_TERM_ROWS in seen["encoder"]
    assert _PAPER_TERM_ROWS in seen["decoder"] and 4 * _PAPER_TERM_ROWS not in seen["decoder"]
    assert 2 * _PAPER_TERM_ROWS in seen["discriminator"]
    assert max(seen["discriminator"]) == 2 * _PAPER_TERM_ROWS


def test_neighbor_class_consistency_is_a_symmetric_kl_with_detached_targets():
    from sklearn_aae._neighbors import neighbor_class_consistency

    logits = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    assert neighbor_class_consistency(logits, logits.clone()).item() == pytest.approx(0.0, abs=1e-6)
    head = torch.randn(5, 3, generator=torch.Generator().manual_seed(1)).requires_grad_()
    tail = torch.randn(5, 3, generator=torch.Generator().manual_seed(2)).requires_grad_()
    loss = neighbor_class_consistency(head, tail)
    p, q = torch.softmax(head, 1), torch.softmax(tail, 1)
    kl = lambda a, b: (a * (a.log() - b.log())).sum(1)
    assert loss.item() == pytest.approx((0.5 * (kl(q, p) + kl(p, q))).mean().item(), rel=1e-5)
    loss.backward()
    # Each side's gradient is the cross-entropy's against the other's fixed probabilities.
    expected = (p - q).detach() / (2 * len(head))
    np.testing.assert_allclose(head.grad.numpy(), expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(tail.grad.numpy(), -expected.numpy(), atol=1e-6)


@pytest.mark.slow
def test_graph_loss_decreases_and_is_recorded(Estimator, make_estimator, blobs):
    est = make_estimator(Estimator, n_neighbors=10, init="random").fit(blobs[0])
    history = est.loss_history_["neighbors"]
    assert len(history) == est.n_iter_ == len(est.loss_curve_)
    assert np.mean(history[-3:]) < 0.5 * history[0]


def test_spectral_start_lays_out_the_graph_before_the_first_epoch(Estimator, make_estimator, blobs):
    X, y = blobs
    first = {init: make_estimator(Estimator, n_neighbors=10, init=init, max_iter=1).fit(X)
             for init in ("spectral", "random")}
    # The start is umap-learn's layout of the graph: the first epoch's graph loss is
    # already far lower, and the four blobs' codes already apart.
    losses = {init: est.loss_history_["neighbors"][0] for init, est in first.items()}
    assert losses["spectral"] < 0.7 * losses["random"], losses
    Z = first["spectral"].transform(X)
    assert heldout_knn_accuracy(Z, y, Z, y) > 0.95


@pytest.mark.slow
def test_the_warm_up_keeps_the_spectral_start_unrolled(monkeypatch):
    # The swiss roll's spectral layout is unrolled; Adam's first full-size steps fold it
    # back into a spiral, and the warm-up of learning_rate='linear' keeps it unrolled. The
    # encoder's codes show it: the placement's refined training codes mend much of a fold.
    import sklearn_aae._training as training
    from sklearn.datasets import make_swiss_roll
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, position = make_swiss_roll(3000, noise=0.5, random_state=0)
    y = np.digitize(position, np.quantile(position, np.linspace(0, 1, 7)[1:-1]))  # 6 stretches of the roll
    scores = {}
    for share in (training._WARMUP_SHARE, 0.0):
        monkeypatch.setattr(training, "_WARMUP_SHARE", share)
        scores[share] = [cross_val_score(KNeighborsClassifier(5), AdversarialAutoencoder(
            random_state=seed, precision="float32", transform_mode="encoder").fit_transform(X), y,
            cv=3).mean() for seed in (0, 1)]
    warm, cold = scores.values()
    assert min(warm) > 0.9, scores
    assert np.mean(warm) > np.mean(cold) + 0.05, scores


def test_spectral_start_has_no_effect_without_the_graph(Estimator, make_estimator, blobs):
    X = blobs[0]
    spectral, random = (make_estimator(Estimator, init=init, max_iter=2).fit(X) for init in ("spectral", "random"))
    np.testing.assert_array_equal(spectral.transform(X), random.transform(X))


def test_the_fitted_model_keeps_no_graph(Estimator, make_estimator, blobs):
    from sklearn_aae._neighbors import NeighborGraph

    # The graph is training-time state.
    est = make_estimator(Estimator, n_neighbors=10, max_iter=1).fit(blobs[0])
    assert not any(isinstance(value, NeighborGraph) for value in vars(est).values())


def test_off_by_default_and_unchanged(Estimator, make_estimator, blobs):
    X = blobs[0]
    plain = make_estimator(Estimator, max_iter=3).fit(X)
    assert "neighbors" not in plain.loss_history_
    # min_dist and neighbor_weight only matter once n_neighbors is set.
    other = make_estimator(Estimator, max_iter=3, min_dist=0.5, neighbor_weight=7.0).fit(X)
    np.testing.assert_array_equal(plain.transform(X), other.transform(X))


@pytest.mark.slow
def test_neighbours_raise_heldout_knn_accuracy(make_estimator, digits_split):
    # Digits are where a plain 2-D AAE blurs classes: the graph loss separates them in
    # the encoder's codes, and placing held-out rows among the training codes more so.
    X_train, X_test, y_train, y_test = digits_split
    scores = {}
    for n_neighbors, mode in ((None, "encoder"), (10, "neighbors")):
        # float32 pins the arithmetic: the margin is about the graph loss, not precision.
        # Both trained as the defaults train (large steps, decaying), so only the graph differs.
        est = make_estimator(AdversarialAutoencoder, hidden_layer_sizes=(64, 64), max_iter=30, tol=None,
                             batch_size=256, learning_rate_init=1e-2, learning_rate="linear",
                             n_neighbors=n_neighbors, transform_mode=mode, precision="float32").fit(X_train)
        scores[mode] = heldout_knn_accuracy(est.transform(X_train), y_train, est.transform(X_test), y_test)
    # The same fit, its held-out rows through the encoder, against its training codes.
    est.set_params(transform_mode="encoder")
    scores["graph encoder"] = heldout_knn_accuracy(est.transform(X_train), y_train, est.transform(X_test), y_test)
    assert scores["graph encoder"] > scores["encoder"] + 0.05, scores
    assert scores["neighbors"] > scores["graph encoder"] + 0.05, scores


@pytest.mark.parametrize("prior", ["swiss_roll", "gaussian_mixture", "uniform"])
def test_every_prior_with_early_stopping(Estimator, make_estimator, blobs, prior):
    # The graph is built on the training rows only, the code scale follows the prior.
    # float32: at a fixed seed bfloat16 autocast (where the CPU has it) trains to another outcome.
    est = make_estimator(Estimator, prior=prior, n_neighbors=8, max_iter=5, tol=None, early_stopping=True,
                         precision="float32")
    est.fit(blobs[0])
    history = est.loss_history_["neighbors"]
    assert len(history) == len(est.validation_scores_) == 5
    assert history[-1] < history[0]


def test_partial_fit_builds_the_graph_of_each_chunk(Estimator, make_estimator, blobs):
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
def test_bad_parameters(Estimator, make_estimator, blobs, params, match):
    with pytest.raises(ValueError, match=match):
        make_estimator(Estimator, **params).fit(blobs[0])


def test_more_neighbours_than_rows(Estimator, make_estimator):
    # Every row's neighbourhood is then the whole data: the fit is that with n_neighbors
    # equal to the number of rows.
    X = np.random.RandomState(0).normal(size=(6, 3))
    Z = make_estimator(Estimator, n_neighbors=50, max_iter=2).fit_transform(X)
    np.testing.assert_array_equal(Z, make_estimator(Estimator, n_neighbors=6, max_iter=2).fit_transform(X))


def test_pickle_round_trip(Estimator, make_estimator, blobs):
    X = blobs[0]
    est = make_estimator(Estimator, n_neighbors=10, max_iter=3).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    # It keeps training after reloading, the graph loss with it.
    restored.partial_fit(X)
    assert restored.n_iter_ == 4 and len(restored.loss_history_["neighbors"]) == 4
    assert not np.array_equal(restored.transform(X), est.transform(X))
