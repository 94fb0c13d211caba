"""AdversarialAutoencoder-specific behaviour: encoders, priors actually matched."""

import functools

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs, make_s_curve

from sklearn_aae import AdversarialAutoencoder, GaussianMixturePrior
from sklearn_aae.metrics import mmd_rbf

# Wider networks than the suite's fast ones: these tests measure how well codes match a prior.
WIDE = dict(hidden_layer_sizes=(64, 64), discriminator_layer_sizes=(64, 64))


@pytest.fixture(scope="module")
def five_blobs():
    """600 rows of 10 features in 5 classes: enough minibatches per epoch to match a prior."""
    X, _ = make_blobs(n_samples=600, n_features=10, centers=5, random_state=1)
    return X


@pytest.fixture(scope="module")
def make_aae(make_estimator):
    return functools.partial(make_estimator, AdversarialAutoencoder, **WIDE)


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian", "universal"])
def test_encoders_transform_deterministically(make_aae, five_blobs, encoder):
    aae = make_aae(encoder=encoder, max_iter=3).fit(five_blobs)
    np.testing.assert_array_equal(aae.transform(five_blobs), aae.transform(five_blobs))
    X = torch.as_tensor((five_blobs[:50] - aae.mean_) / aae.scale_, dtype=torch.float32)
    with torch.no_grad():
        sampled = aae.encoder_(X, generator=torch.Generator().manual_seed(0))
        mean_code = aae.encoder_(X, sample=False)
    np.testing.assert_allclose(mean_code.numpy(), aae.transform(five_blobs[:50]), rtol=1e-5, atol=1e-6)
    # Stochastic encoders draw different codes during training, the deterministic one does not.
    assert torch.equal(sampled, mean_code) == (encoder == "deterministic")


@pytest.mark.slow
@pytest.mark.parametrize("prior", ["gaussian", "uniform", "gaussian_mixture", "swiss_roll"])
def test_codes_match_the_prior(make_aae, five_blobs, prior):
    """The adversarial phase is what makes codes look like the prior: measure it by MMD."""
    matched = make_aae(prior=prior, max_iter=30).fit(five_blobs)
    unmatched = make_aae(prior=prior, max_iter=30, adversarial_weight=0.0).fit(five_blobs)
    prior_samples = matched.prior_.sample(len(five_blobs), random_state=1)
    mmd_matched = mmd_rbf(matched.transform(five_blobs), prior_samples)
    mmd_unmatched = mmd_rbf(unmatched.transform(five_blobs), prior_samples)
    assert mmd_matched < 0.1
    assert mmd_matched < 0.5 * mmd_unmatched


@pytest.mark.slow
def test_uniform_prior_fills_its_box(make_aae, five_blobs):
    Z = make_aae(prior="uniform", max_iter=60).fit_transform(five_blobs)
    inside = np.all(np.abs(Z) <= 1.1, axis=1).mean()
    assert inside > 0.9
    # And it fills the box rather than collapsing to its middle.
    assert np.all(Z.std(axis=0) > 0.35)


@pytest.mark.slow
def test_categorical_prior_gives_probability_codes(make_aae, five_blobs):
    aae = make_aae(n_components=5, prior="categorical", max_iter=30).fit(five_blobs)
    Z = aae.transform(five_blobs)
    np.testing.assert_allclose(Z.sum(axis=1), 1, rtol=1e-6)
    assert np.all(Z >= 0)
    assert np.median(Z.max(axis=1)) > 0.9  # close to one-hot, like the prior


def test_custom_prior_instance_is_copied(make_aae, five_blobs):
    prior = GaussianMixturePrior(n_modes=4)
    aae = make_aae(prior=prior, max_iter=2).fit(five_blobs)
    assert aae.prior_ is not prior and prior.n_components is None
    assert aae.prior_.n_modes == 4 and aae.prior_.n_components == 2


def test_sample_decodes_prior_draws(make_aae, five_blobs):
    aae = make_aae(max_iter=3).fit(five_blobs)
    Z = aae.prior_.sample(5, random_state=3)
    np.testing.assert_allclose(aae.sample(5, random_state=3), aae.inverse_transform(Z))


@pytest.mark.slow
def test_generated_rows_live_in_the_data_box(make_aae):
    X, _ = make_s_curve(n_samples=600, noise=0.05, random_state=0)
    X = X * 100 + 50  # units far from standardised ones: samples must come back in these
    aae = make_aae(max_iter=60).fit(X)
    samples = aae.sample(500, random_state=0)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low)
    inside = np.all((samples > low - margin) & (samples < high + margin), axis=1).mean()
    assert inside > 0.95
    np.testing.assert_allclose(samples.mean(axis=0), X.mean(axis=0), atol=0.5 * X.std(axis=0).max())


@pytest.mark.slow
def test_training_improves_reconstruction(make_aae, five_blobs):
    trained = make_aae(max_iter=15).fit(five_blobs)
    barely = make_aae(max_iter=1).fit(five_blobs)
    assert trained.score(five_blobs) > barely.score(five_blobs) + 0.1
