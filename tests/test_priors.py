import numpy as np
import pytest

from sklearn_aae import (
    CategoricalPrior,
    GaussianMixturePrior,
    GaussianPrior,
    Prior,
    SwissRollPrior,
    UniformPrior,
)
from sklearn_aae.priors import CallablePrior, resolve_prior

ALL_PRIORS = [
    GaussianPrior(2),
    GaussianMixturePrior(2),
    SwissRollPrior(2),
    UniformPrior(2),
    CategoricalPrior(2),
]


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=lambda p: type(p).__name__)
def test_sample_shape_dtype_and_seed(prior):
    Z = prior.sample(50, random_state=0)
    assert Z.shape == (50, 2)
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(Z, prior.sample(50, random_state=0))
    assert not np.array_equal(Z, prior.sample(50, random_state=1))


def test_gaussian_moments():
    Z = GaussianPrior(3, std=2.0).sample(20000, random_state=0)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(Z.T), 4 * np.eye(3), atol=0.15)


def test_uniform_bounds_and_mean():
    Z = UniformPrior(2, low=-3, high=1).sample(5000, random_state=0)
    assert Z.min() >= -3 and Z.max() <= 1
    np.testing.assert_allclose(Z.mean(axis=0), -1, atol=0.05)


def test_mixture_components_sit_on_their_angles():
    prior = GaussianMixturePrior(2, n_modes=4, radius=3.0, radial_std=0.1, tangential_std=0.01)
    for k, centre in enumerate([(3, 0), (0, 3), (-3, 0), (0, -3)]):
        Z = prior.sample(500, y=np.full(500, k), random_state=k)
        np.testing.assert_allclose(Z.mean(axis=0), centre, atol=0.05)


def test_mixture_extra_dimensions_are_isotropic():
    Z = GaussianMixturePrior(4, radial_std=0.5).sample(20000, random_state=0)
    np.testing.assert_allclose(Z[:, 2:].std(axis=0), 0.5, atol=0.02)


def test_swiss_roll_segments_follow_the_roll():
    prior = SwissRollPrior(2, n_segments=5, noise=0.0)
    radii = [np.linalg.norm(prior.sample(300, y=np.full(300, k), random_state=0), axis=1) for k in range(5)]
    # Segment k covers u in [k/5, (k+1)/5] and radius = 3 sqrt(u): disjoint, increasing bands.
    for k, r in enumerate(radii):
        assert r.min() >= 3 * np.sqrt(k / 5) - 1e-9
        assert r.max() <= 3 * np.sqrt((k + 1) / 5) + 1e-9


def test_categorical_is_one_hot_with_given_probabilities():
    Z = CategoricalPrior(3, probabilities=[0.7, 0.2, 0.1]).sample(10000, random_state=0)
    np.testing.assert_array_equal(Z.sum(axis=1), 1)
    assert set(np.unique(Z)) == {0.0, 1.0}
    np.testing.assert_allclose(Z.mean(axis=0), [0.7, 0.2, 0.1], atol=0.02)
    assert CategoricalPrior.code_activation == "softmax"


def test_sample_by_label_is_refused_without_class_regions():
    with pytest.raises(ValueError, match="no class regions"):
        GaussianPrior(2).sample(3, y=[0, 1, 0])


@pytest.mark.parametrize("y, match", [([0, 10], r"\[0, 9\]"), ([0.5, 1.0], r"\[0, 9\]"), ([0, 1, 2], "shape")])
def test_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixturePrior(2).sample(2, y=y)


def test_user_subclass_and_output_shape_check():
    class Ring(Prior):
        def _sample(self, n_samples, y, rng):
            angle = rng.uniform(0, 2 * np.pi, n_samples)
            return np.column_stack([np.cos(angle), np.sin(angle)])

    Z = resolve_prior(Ring(), 2).sample(100, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)
    with pytest.raises(ValueError, match=r"shape \(10, 2\); expected \(10, 3\)"):
        Ring(3).sample(10)


def test_resolve_prior():
    assert isinstance(resolve_prior("gaussian_mixture", 5), GaussianMixturePrior)
    user = GaussianPrior(std=3.0)
    resolved = resolve_prior(user, 4)
    assert resolved.n_components == 4 and resolved.std == 3.0
    assert user.n_components is None, "the user's prior object must not be modified"
    callable_prior = resolve_prior(lambda n, rng: rng.normal(size=(n, 2)), 2)
    assert isinstance(callable_prior, CallablePrior)
    assert callable_prior.sample(7, random_state=0).shape == (7, 2)


@pytest.mark.parametrize(
    "prior, n_components, error, match",
    [
        ("laplace", 2, ValueError, "Unknown prior"),
        (3.0, 2, TypeError, "prior must be"),
        (GaussianPrior(3), 2, ValueError, "n_components=3 but the estimator has n_components=2"),
        ("swiss_roll", 3, ValueError, r"n_components in \(2,\)"),
        ("gaussian_mixture", 1, ValueError, ">= 2"),
    ],
)
def test_resolve_prior_errors(prior, n_components, error, match):
    with pytest.raises(error, match=match):
        resolve_prior(prior, n_components)


def test_unset_dimension_is_a_clear_error():
    with pytest.raises(ValueError, match="n_components=None"):
        GaussianPrior().sample(3)
