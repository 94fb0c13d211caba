"""ALAE-specific behaviour: the four networks, the three updates, the latent prior."""

import functools

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sklearn_aae import ALAE, SwissRollPrior
from sklearn_aae.metrics import heldout_knn_accuracy


@pytest.fixture(scope="module")
def spread_blobs():
    """600 rows of 10 features in 4 classes, spread wider (cluster_std 2) than ``blobs``."""
    return make_blobs(n_samples=600, n_features=10, centers=4, cluster_std=2.0, random_state=3)


@pytest.fixture(scope="module")
def make_alae(make_estimator):
    # Wider networks than the suite's fast ones: G and E must become inverse maps.
    return functools.partial(make_estimator, ALAE, hidden_layer_sizes=(64, 64), discriminator_layer_sizes=(64,))


@pytest.fixture(scope="module")
def fitted_alae(make_alae, spread_blobs):
    """A 3-D embedding of the first 400 rows, z in 5 dimensions; the last 200 are new rows."""
    X, _ = spread_blobs
    return make_alae(n_components=3, latent_dim=5, max_iter=20).fit(X[:400])


def test_networks_and_dimensions(fitted_alae):
    assert fitted_alae.prior_.n_components == 5  # z lives in latent_dim dimensions
    assert fitted_alae.mapping_(torch.zeros(2, 5)).shape == (2, 3)  # F: z -> w
    assert fitted_alae.generator_(torch.zeros(2, 3)).shape == (2, 10)  # G: w -> x
    assert fitted_alae.encoder_(torch.zeros(2, 10)).shape == (2, 3)  # E: x -> w
    assert fitted_alae.discriminator_(torch.zeros(2, 3)).shape == (2, 1)  # D: w -> score
    n_mapping_layers = sum(isinstance(m, torch.nn.Linear) for m in fitted_alae.mapping_)
    assert n_mapping_layers == 3


def test_methods_are_the_papers_maps(fitted_alae, spread_blobs):
    X, _ = spread_blobs
    Xs = torch.as_tensor((X[:20] - fitted_alae.mean_) / fitted_alae.scale_, dtype=torch.float32)
    with torch.no_grad():
        W = fitted_alae.encoder_(Xs)
        np.testing.assert_allclose(fitted_alae.transform(X[:20]), W.numpy(), rtol=1e-5, atol=1e-6)
        X_back = fitted_alae.generator_(W).numpy() * fitted_alae.scale_ + fitted_alae.mean_
        np.testing.assert_allclose(fitted_alae.inverse_transform(W.numpy()), X_back, rtol=1e-5, atol=1e-4)
        Z = fitted_alae.prior_.sample(4, random_state=0)
        # sample() uses the moving averages of F and G (ema_decay=0.99 by default).
        generated = fitted_alae.generator_ema_(fitted_alae.mapping_ema_(torch.as_tensor(Z, dtype=torch.float32)))
    expected = generated.numpy() * fitted_alae.scale_ + fitted_alae.mean_
    np.testing.assert_allclose(fitted_alae.sample(4, random_state=0), expected, rtol=1e-5, atol=1e-4)


def _relative_cycle_error(alae):
    Z = torch.as_tensor(alae.prior_.sample(500, random_state=1), dtype=torch.float32)
    with torch.no_grad():
        W = alae.mapping_(Z)
        return float(((alae.encoder_(alae.generator_(W)) - W) ** 2).mean() / W.var(dim=0).mean())


@pytest.mark.slow
def test_latent_cycle_is_learned(fitted_alae, make_alae, spread_blobs):
    """E(G(w)) ≈ w for generated w = F(z): G and E become inverse maps (relative to w's spread)."""
    X, _ = spread_blobs
    barely = make_alae(n_components=3, latent_dim=5, max_iter=1).fit(X[:400])
    assert _relative_cycle_error(fitted_alae) < 0.2
    assert _relative_cycle_error(fitted_alae) < 0.5 * _relative_cycle_error(barely)


@pytest.mark.slow
def test_embedding_separates_clusters_of_new_rows(fitted_alae, spread_blobs):
    X, y = spread_blobs
    assert heldout_knn_accuracy(fitted_alae.transform(X[:400]), y[:400], fitted_alae.transform(X[400:]), y[400:]) > 0.9


def _real_slope(alae, X):
    """Mean squared gradient norm of D(E(x)) with respect to the (standardised) real rows."""
    x = torch.as_tensor((X - alae.mean_) / alae.scale_, dtype=torch.float32).requires_grad_()
    (slope,) = torch.autograd.grad(alae.discriminator_(alae.encoder_(x)).sum(), x)
    return float(slope.pow(2).sum(dim=1).mean())


def test_r1_penalty_flattens_the_discriminator_at_real_rows(make_alae, spread_blobs):
    """R1 penalises the slope of D(E(x)) at real rows: a large r1_gamma flattens it."""
    X = spread_blobs[0][:256]
    penalised = make_alae(max_iter=3, r1_gamma=100.0).fit(X)
    free = make_alae(max_iter=3, r1_gamma=0.0).fit(X)
    assert _real_slope(penalised, X) < 0.25 * _real_slope(free, X)


def test_prior_shapes_z_not_the_embedding(make_alae, spread_blobs):
    X, _ = spread_blobs
    alae = make_alae(prior=SwissRollPrior(), n_components=3, latent_dim=2, max_iter=1).fit(X)
    assert isinstance(alae.prior_, SwissRollPrior) and alae.prior_.n_components == 2
    assert alae.transform(X[:5]).shape == (5, 3)
    with pytest.raises(ValueError, match=r"n_components in \(2,\)"):
        make_alae(prior="swiss_roll", latent_dim=3).fit(X)


def test_moving_average_of_mapping_and_generator(make_alae, spread_blobs):
    X, _ = spread_blobs
    averaged = make_alae(max_iter=3).fit(X)
    live = make_alae(max_iter=3, ema_decay=None).fit(X)
    # Same training either way: the averages only change what sample() uses.
    np.testing.assert_array_equal(averaged.transform(X), live.transform(X))
    assert not hasattr(live, "generator_ema_")
    Z = torch.as_tensor(live.prior_.sample(3, random_state=0), dtype=torch.float32)
    with torch.no_grad():
        # float32 rounding of products of 3 rows against sample()'s padded 16: an atol for values near 0.
        np.testing.assert_allclose(live.sample(3, random_state=0),
                                   live.generator_(live.mapping_(Z)).numpy() * live.scale_ + live.mean_, rtol=1e-5,
                                   atol=1e-5)
    for p_average, p_live in zip(averaged.generator_ema_.parameters(), averaged.generator_.parameters()):
        assert not p_average.requires_grad and not torch.equal(p_average, p_live)
    assert not np.allclose(averaged.sample(3, random_state=0), live.sample(3, random_state=0))
