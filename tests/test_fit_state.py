"""What a second fit continues, rebuilds or refuses, and what a failed fit leaves behind."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

from sklearn_aae import ALAE, AdversarialAutoencoder, Prior

SMALL = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), batch_size=32, max_iter=3, tol=None,
             n_neighbors=None, learning_rate="constant",
             random_state=0)
ESTIMATORS = [AdversarialAutoencoder, ALAE]


@pytest.fixture(scope="module")
def X():
    return make_blobs(n_samples=160, n_features=6, centers=3, random_state=0)[0]


# (parameter, new value) pairs the fitted networks depend on, one line each.
STATE_CHANGES = [
    ("n_components", 3),
    ("hidden_layer_sizes", (8, 8)),
    ("discriminator_layer_sizes", 8),
    ("activation", "tanh"),
    ("prior", "uniform"),
    ("scaling", "global"),
    ("alpha", 0.1),
    ("input_noise", 0.3),
    ("n_neighbors", 5),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name, value", STATE_CHANGES)
def test_warm_start_rebuilds_on_a_changed_parameter(Estimator, name, value, X):
    model = Estimator(warm_start=True, **SMALL).fit(X)
    model.set_params(**{name: value})
    with pytest.warns(UserWarning, match=f"{name} from .* to .*rebuilt"):
        model.fit(X)
    fresh = Estimator(**{**SMALL, name: value}).fit(X)
    # Rebuilt means fitted afresh: the same model as a new estimator with the new value.
    assert model.transform(X).tobytes() == fresh.transform(X).tobytes()
    assert model.n_iter_ == SMALL["max_iter"]
    assert len(model.get_feature_names_out()) == model.transform(X).shape[1]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name, value", STATE_CHANGES)
def test_partial_fit_refuses_a_changed_parameter(Estimator, name, value, X):
    model = Estimator(**SMALL).partial_fit(X)
    before, fitted_value = model.transform(X), model.get_params()[name]
    model.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"partial_fit .*{name} from .* to "):
        model.partial_fit(X)
    # Refused before anything changed: set back, the model is the one fitted.
    model.set_params(**{name: fitted_value})
    assert model.n_iter_ == 1 and model.transform(X).tobytes() == before.tobytes()


@pytest.mark.parametrize("Estimator, name, value", [
    (AdversarialAutoencoder, "encoder", "gaussian"),
    (AdversarialAutoencoder, "label_mode", "conditional"),
    (AdversarialAutoencoder, "n_clusters", 3),
    (ALAE, "latent_dim", 4),
    (ALAE, "mapping_layers", 2),
    (ALAE, "ema_decay", None),
])
def test_each_estimators_own_state_parameters(Estimator, name, value, X):
    model = Estimator(warm_start=True, **SMALL).fit(X)
    model.set_params(**{name: value})
    with pytest.warns(UserWarning, match=f"{name} from "):
        model.fit(X)
    with pytest.raises(ValueError, match=f"{name} from "):
        model.set_params(**{name: Estimator().get_params()[name]}).partial_fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_other_parameters_continue_the_model(Estimator, X):
    model = Estimator(warm_start=True, **SMALL).fit(X)
    # A scalar width equal to the fitted one, a new learning rate, more epochs: no rebuild.
    model.set_params(hidden_layer_sizes=16, learning_rate_init=1e-4, max_iter=2, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit(X)
    assert model.n_iter_ == SMALL["max_iter"] + 2
    optimizers = [v for v in vars(model).values() if hasattr(v, "param_groups")]
    assert {group["lr"] for opt in optimizers for group in opt.param_groups} == {1e-4}
    assert len(model.validation_scores_) == 2


def test_labels_given_to_a_model_fitted_without_them_rebuild_it(X):
    y = np.arange(len(X)) % 3
    model = AdversarialAutoencoder(warm_start=True, label_mode="conditional", **SMALL).fit(X)
    assert model.label_mode_ is None
    with pytest.warns(UserWarning, match="fitted without labels and y now brings labels"):
        model.fit(X, y)
    assert model.label_mode_ == "conditional" and model.sample(2, y=1).shape == (2, 6)


def test_unseen_classes_in_a_warm_started_fit_are_refused(X):
    y = np.arange(len(X)) % 3
    model = AdversarialAutoencoder(warm_start=True, label_mode="conditional", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[7\] not seen in the first fit"):
        model.fit(X, np.where(y == 0, 7, y))
    assert model.n_iter_ == SMALL["max_iter"]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_new_features_are_refused_naming_both_counts(Estimator, X):
    model = Estimator(warm_start=True, **SMALL).fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6"):
        model.fit(X[:, :5])
    with pytest.raises(ValueError, match="images of shape \\(2, 3\\)"):
        model.partial_fit(X.reshape(-1, 2, 3))


class _FailingPrior(Prior):
    """Normal samples for the first ``n_draws`` draws, then an exception."""

    def __init__(self, n_components=None, n_draws=0):
        super().__init__(n_components)
        self.n_draws = n_draws

    def _sample(self, n_samples, y, rng):
        if self.n_draws <= 0:
            raise RuntimeError("the user's prior failed")
        self.n_draws -= 1
        return rng.normal(size=(n_samples, self.n_components))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_first_fit_leaves_the_estimator_unfitted(Estimator, X):
    model = Estimator(prior=_FailingPrior(), **{**SMALL, "batch_size": 500})
    with pytest.raises(RuntimeError, match="the user's prior failed"):
        model.fit(X)
    with pytest.raises(NotFittedError):
        model.transform(X)
    assert set(vars(model)) == set(Estimator().get_params())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failure_keeps_the_last_completed_epoch(Estimator, X):
    # batch_size above the row count: one prior draw per epoch, so epoch 3 fails.
    prior = _FailingPrior(n_draws=2)
    model = Estimator(prior=prior, **{**SMALL, "batch_size": 500, "max_iter": 5})
    with pytest.raises(RuntimeError, match="the user's prior failed"):
        model.fit(X)
    reference = Estimator(**{**SMALL, "batch_size": 500, "max_iter": 2, "prior": _FailingPrior(n_draws=9)}).fit(X)
    assert model.n_iter_ == 2 and model.t_ == 2 * len(X)
    assert model.loss_history_ == reference.loss_history_
    assert model.transform(X).tobytes() == reference.transform(X).tobytes()
    model.prior_.n_draws = 1  # the prior works again, for one draw
    assert model.sample(3, random_state=0).shape == (3, 6)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.transform(X).tobytes() == model.transform(X).tobytes()
    # And it continues: two more epochs, as if nothing had happened.
    model.prior_.n_draws = restored.prior_.n_draws = 2
    for m in (model, restored):
        m.set_params(warm_start=True, max_iter=2).fit(X)
    assert model.n_iter_ == 4 and model.transform(X).tobytes() == restored.transform(X).tobytes()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_ctrl_c_keeps_the_last_completed_epoch(Estimator, X, monkeypatch):
    model = Estimator(**{**SMALL, "max_iter": 10})
    reference = Estimator(**{**SMALL, "max_iter": 2}).fit(X)
    step, calls = Estimator._train_step, {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 12:  # 5 minibatches per epoch: in the middle of epoch 3
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    monkeypatch.setattr(Estimator, "_train_step", interrupted)
    with pytest.warns(UserWarning, match="interrupted by the user after 2 epochs"):
        model.fit(X)
    assert model.n_iter_ == 2 and model.t_ == 2 * len(X)
    assert model.transform(X).tobytes() == reference.transform(X).tobytes()


class _HugePrior(Prior):
    def _sample(self, n_samples, y, rng):
        return rng.normal(size=(n_samples, self.n_components)) * 1e30


@pytest.mark.parametrize("params, cause", [
    (dict(learning_rate_init=1e9), "steps too large: lower learning_rate_init"),
    (dict(prior=_HugePrior()), "the prior: its samples reach"),
])
def test_divergence_names_the_loss_and_the_likely_cause(params, cause, X):
    model = ALAE(**{**SMALL, "hidden_layer_sizes": (16,), **params})
    with pytest.raises(FloatingPointError, match=f"diverged in epoch 1: the \\w+ loss is .*Likely cause: {cause}"):
        model.fit(X)
    with pytest.raises(NotFittedError):
        model.transform(X)
