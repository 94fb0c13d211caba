"""ALAE-specific behaviour: the four networks, the three updates, the latent prior."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sklearn_aae import ALAE, SwissRollPrior
from sklearn_aae.metrics import heldout_knn_accuracy

FAST = dict(hidden_layer_sizes=(64, 64), discriminator_layer_sizes=(64,), batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, n_features=10, centers=4, cluster_std=2.0, random_state=3)
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    return ALAE(n_components=3, latent_dim=5, max_iter=40, **FAST).fit(X)


def test_networks_and_dimensions(fitted):
    assert fitted.prior_.n_components == 5  # z lives in latent_dim dimensions
    assert fitted.mapping_(torch.zeros(2, 5)).shape == (2, 3)  # F: z -> w
    assert fitted.generator_(torch.zeros(2, 3)).shape == (2, 10)  # G: w -> x
    assert fitted.encoder_(torch.zeros(2, 10)).shape == (2, 3)  # E: x -> w
    assert fitted.discriminator_(torch.zeros(2, 3)).shape == (2, 1)  # D: w -> score
    n_mapping_layers = sum(isinstance(m, torch.nn.Linear) for m in fitted.mapping_)
    assert n_mapping_layers == 3


def test_methods_are_the_papers_maps(fitted, blobs):
    X, _ = blobs
    Xs = torch.as_tensor(fitted._standardise(X[:20]), dtype=torch.float32)
    with torch.no_grad():
        W = fitted.encoder_(Xs)
        np.testing.assert_allclose(fitted.transform(X[:20]), W.numpy(), rtol=1e-5, atol=1e-6)
        X_back = fitted.generator_(W).numpy() * fitted.scale_ + fitted.mean_
        np.testing.assert_allclose(fitted.inverse_transform(W.numpy()), X_back, rtol=1e-5, atol=1e-4)
        Z = fitted.prior_.sample(4, random_state=0)
        # sample() uses the moving averages of F and G (ema_decay=0.99 by default).
        generated = fitted.generator_ema_(fitted.mapping_ema_(torch.as_tensor(Z, dtype=torch.float32)))
    np.testing.assert_allclose(fitted.sample(4, random_state=0), generated.numpy() * fitted.scale_ + fitted.mean_,
                               rtol=1e-5, atol=1e-4)


def _relative_cycle_error(alae):
    Z = torch.as_tensor(alae.prior_.sample(500, random_state=1), dtype=torch.float32)
    with torch.no_grad():
        W = alae.mapping_(Z)
        return float(((alae.encoder_(alae.generator_(W)) - W) ** 2).mean() / W.var(dim=0).mean())


def test_latent_cycle_is_learned(fitted, blobs):
    """E(G(w)) ≈ w for generated w = F(z): G and E become inverse maps (relative to w's spread)."""
    X, _ = blobs
    barely = ALAE(n_components=3, latent_dim=5, max_iter=1, **FAST).fit(X)
    assert _relative_cycle_error(fitted) < 0.2
    assert _relative_cycle_error(fitted) < 0.5 * _relative_cycle_error(barely)


def test_embedding_separates_clusters_of_new_rows(blobs):
    X, y = blobs
    alae = ALAE(n_components=4, max_iter=40, **FAST).fit(X[:400])
    assert heldout_knn_accuracy(alae.transform(X[:400]), y[:400], alae.transform(X[400:]), y[400:]) > 0.9


def test_r1_penalty_is_applied(blobs, monkeypatch):
    """With r1_gamma > 0 the E/D step needs the gradient of D(E(x)) with respect to x."""
    X, _ = blobs
    calls = []
    grad = torch.autograd.grad

    def spy(outputs, inputs, *args, **kwargs):
        calls.append(kwargs.get("create_graph", False))
        return grad(outputs, inputs, *args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", spy)
    ALAE(max_iter=1, **FAST).fit(X[:128])
    assert calls and all(calls)  # once per minibatch, with a graph for the double backward
    calls.clear()
    ALAE(max_iter=1, r1_gamma=0.0, **FAST).fit(X[:128])
    assert not calls


def test_prior_shapes_z_not_the_embedding(blobs):
    X, _ = blobs
    alae = ALAE(prior=SwissRollPrior(), max_iter=5, **FAST).fit(X)
    assert isinstance(alae.prior_, SwissRollPrior)
    with pytest.raises(ValueError, match=r"n_components in \(2,\)"):
        ALAE(prior="swiss_roll", latent_dim=3, **FAST).fit(X)


def test_feature_names_prefix(fitted):
    np.testing.assert_array_equal(fitted.get_feature_names_out(), ["alae0", "alae1", "alae2"])


def test_moving_average_of_mapping_and_generator(blobs):
    X, _ = blobs
    averaged = ALAE(max_iter=5, **FAST).fit(X)
    live = ALAE(max_iter=5, ema_decay=None, **FAST).fit(X)
    # Same training either way: the averages only change what sample() uses.
    np.testing.assert_array_equal(averaged.transform(X), live.transform(X))
    assert not hasattr(live, "generator_ema_")
    Z = torch.as_tensor(live.prior_.sample(3, random_state=0), dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(live.sample(3, random_state=0),
                                   live.generator_(live.mapping_(Z)).numpy() * live.scale_ + live.mean_, rtol=1e-5)
    for p_average, p_live in zip(averaged.generator_ema_.parameters(), averaged.generator_.parameters()):
        assert not p_average.requires_grad and not torch.equal(p_average, p_live)
    assert not np.allclose(averaged.sample(3, random_state=0), live.sample(3, random_state=0))
