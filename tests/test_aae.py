"""AdversarialAutoencoder-specific behaviour: encoders, priors actually matched."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sklearn_aae import AdversarialAutoencoder, GaussianMixturePrior
from sklearn_aae.metrics import mmd_rbf

FAST = dict(hidden_layer_sizes=(64, 64), discriminator_layer_sizes=(64, 64), batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=600, n_features=10, centers=5, random_state=1)
    return X


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian", "universal"])
def test_encoders_transform_deterministically(data, encoder):
    aae = AdversarialAutoencoder(encoder=encoder, max_iter=3, **FAST).fit(data)
    np.testing.assert_array_equal(aae.transform(data), aae.transform(data))
    X = torch.as_tensor(aae._standardise(data[:50]), dtype=torch.float32)
    with torch.no_grad():
        sampled = aae.encoder_(X, generator=torch.Generator().manual_seed(0))
        mean_code = aae.encoder_(X, sample=False)
    np.testing.assert_allclose(mean_code.numpy(), aae.transform(data[:50]), rtol=1e-5, atol=1e-6)
    # Stochastic encoders draw different codes during training, the deterministic one does not.
    assert torch.equal(sampled, mean_code) == (encoder == "deterministic")


@pytest.mark.parametrize("prior", ["gaussian", "uniform", "gaussian_mixture", "swiss_roll"])
def test_codes_match_the_prior(data, prior):
    """The adversarial phase is what makes codes look like the prior: measure it by MMD."""
    matched = AdversarialAutoencoder(prior=prior, max_iter=60, **FAST).fit(data)
    unmatched = AdversarialAutoencoder(prior=prior, max_iter=60, adversarial_weight=0.0, **FAST).fit(data)
    prior_samples = matched.prior_.sample(len(data), random_state=1)
    mmd_matched = mmd_rbf(matched.transform(data), prior_samples)
    mmd_unmatched = mmd_rbf(unmatched.transform(data), prior_samples)
    assert mmd_matched < 0.1
    assert mmd_matched < 0.5 * mmd_unmatched


def test_uniform_prior_fills_its_box(data):
    Z = AdversarialAutoencoder(prior="uniform", max_iter=60, **FAST).fit_transform(data)
    inside = np.all(np.abs(Z) <= 1.1, axis=1).mean()
    assert inside > 0.9
    # And it fills the box rather than collapsing to its middle.
    assert np.all(Z.std(axis=0) > 0.35)


def test_categorical_prior_gives_probability_codes(data):
    aae = AdversarialAutoencoder(n_components=5, prior="categorical", max_iter=60, **FAST).fit(data)
    Z = aae.transform(data)
    np.testing.assert_allclose(Z.sum(axis=1), 1, rtol=1e-6)
    assert np.all(Z >= 0)
    assert np.median(Z.max(axis=1)) > 0.9  # close to one-hot, like the prior


def test_custom_prior_instance_is_copied(data):
    prior = GaussianMixturePrior(n_modes=4)
    aae = AdversarialAutoencoder(prior=prior, max_iter=2, **FAST).fit(data)
    assert aae.prior_ is not prior and prior.n_components is None
    assert aae.prior_.n_modes == 4 and aae.prior_.n_components == 2


def test_sample_decodes_prior_draws(data):
    aae = AdversarialAutoencoder(max_iter=20, **FAST).fit(data)
    Z = aae.prior_.sample(5, random_state=3)
    np.testing.assert_allclose(aae.sample(5, random_state=3), aae.inverse_transform(Z))


def test_generated_rows_live_in_the_data_box():
    from sklearn.datasets import make_s_curve

    X, _ = make_s_curve(n_samples=600, noise=0.05, random_state=0)
    X = X * 100 + 50  # units far from standardised ones: samples must come back in these
    aae = AdversarialAutoencoder(max_iter=60, **FAST).fit(X)
    samples = aae.sample(500, random_state=0)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low)
    inside = np.all((samples > low - margin) & (samples < high + margin), axis=1).mean()
    assert inside > 0.95
    np.testing.assert_allclose(samples.mean(axis=0), X.mean(axis=0), atol=0.5 * X.std(axis=0).max())


def test_training_improves_reconstruction(data):
    trained = AdversarialAutoencoder(max_iter=30, **FAST).fit(data)
    barely = AdversarialAutoencoder(max_iter=1, **FAST).fit(data)
    assert trained.score(data) > barely.score(data) + 0.1
