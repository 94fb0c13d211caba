"""The estimator contract shared by every model in sklearn_aae (DESIGN.md section 4)."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_aae import ALAE, AdversarialAutoencoder

# What each estimator records: loss_history_'s keys in order, and the one loss_curve_ is.
LOSS_NAMES = {AdversarialAutoencoder: ["reconstruction", "discriminator", "generator"],
              ALAE: ["latent", "discriminator", "generator", "reconstruction"]}
MONITORED_LOSS = {AdversarialAutoencoder: "reconstruction", ALAE: "latent"}
FEATURE_NAMES_PREFIX = {AdversarialAutoencoder: "aae", ALAE: "alae"}


def test_shapes_dtypes_and_units(fitted, blobs):
    X, _ = blobs
    Z = fitted.transform(X)
    assert Z.shape == (300, 2) and Z.dtype == np.float64
    X_back = fitted.inverse_transform(Z)
    assert X_back.shape == X.shape and X_back.dtype == np.float64
    # Reconstructions live in the data's range and units.
    span = X.max(axis=0) - X.min(axis=0)
    assert np.all((X_back > X.min(axis=0) - span) & (X_back < X.max(axis=0) + span))
    if isinstance(fitted, AdversarialAutoencoder):
        # It trains pixel reconstruction (ALAE only a latent one): far closer than the means.
        assert np.mean((X_back - X) ** 2) < 0.5 * np.mean((X - X.mean(axis=0)) ** 2)
    assert fitted.sample(7, random_state=0).shape == (7, 8)
    np.testing.assert_array_equal(fitted.sample(7, random_state=0), fitted.sample(7, random_state=0))
    assert fitted.n_features_in_ == 8 and fitted.n_iter_ == 30 and fitted.t_ == 30 * 300


def test_transform_is_deterministic_and_batch_independent(fitted, blobs):
    X, _ = blobs
    Z = fitted.transform(X)
    np.testing.assert_array_equal(Z, fitted.transform(X))
    np.testing.assert_allclose(Z[:5], fitted.transform(X[:5]), rtol=1e-6, atol=1e-6)


def test_score_is_negative_standardised_mse(fitted, blobs):
    X, _ = blobs
    X_hat = fitted.inverse_transform(fitted.transform(X))
    expected = -np.mean(((X_hat - X) / fitted.scale_) ** 2)
    assert fitted.score(X) == pytest.approx(expected, rel=1e-4)


def test_loss_histories(fitted):
    Estimator = type(fitted)
    assert list(fitted.loss_history_) == LOSS_NAMES[Estimator]
    assert all(len(v) == fitted.n_iter_ for v in fitted.loss_history_.values())
    # loss_curve_ is the monitored loss: pixel reconstruction (AAE) or latent (ALAE).
    assert fitted.loss_curve_ == fitted.loss_history_[MONITORED_LOSS[Estimator]]
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.best_loss_ == min(fitted.loss_curve_)


def test_refit_is_identical_and_seed_matters(Estimator, make_estimator, blobs):
    X, _ = blobs
    Z1 = make_estimator(Estimator, max_iter=3).fit_transform(X)
    Z2 = make_estimator(Estimator, max_iter=3).fit(X).transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = make_estimator(Estimator, max_iter=3, random_state=1).fit_transform(X)
    assert not np.allclose(Z1, Z3)


def test_global_torch_seed_is_left_alone(Estimator, make_estimator, blobs):
    X, _ = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_estimator(Estimator, max_iter=2).fit(X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_pandas_in_and_out(Estimator, make_estimator, blobs):
    X, _ = blobs
    df = pd.DataFrame(X, columns=[f"col{i}" for i in range(8)])
    est = make_estimator(Estimator, max_iter=2).set_output(transform="pandas").fit(df)
    out = est.transform(df)
    assert isinstance(out, pd.DataFrame)
    prefix = FEATURE_NAMES_PREFIX[Estimator]
    assert list(out.columns) == [f"{prefix}0", f"{prefix}1"]
    assert list(est.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(est.get_feature_names_out(), [f"{prefix}0", f"{prefix}1"])
    with pytest.raises(ValueError, match="feature names"):
        est.transform(df.rename(columns={"col0": "other"}))


def test_bce_for_data_in_unit_interval(Estimator, make_estimator):
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(100, 10)) > 0.5).astype(float)
    est = make_estimator(Estimator, max_iter=5, reconstruction_loss="bce").fit(X)
    X_back = est.inverse_transform(est.transform(X))
    assert X_back.min() >= 0 and X_back.max() <= 1
    samples = est.sample(5)
    assert samples.min() >= 0 and samples.max() <= 1


def _joblib_dump(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads),
                                        (_joblib_dump, lambda b: joblib.load(io.BytesIO(b)))],
                         ids=["pickle", "joblib"])
def test_pickle_round_trip_is_bit_identical(fitted, blobs, dump, load):
    X, _ = blobs
    restored = load(dump(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(restored.sample(4, random_state=0), fitted.sample(4, random_state=0))
    # Optimizers still drive the restored parameters: training goes on.
    before = restored.transform(X)
    restored.partial_fit(X)
    assert restored.n_iter_ == fitted.n_iter_ + 1
    assert not np.array_equal(before, restored.transform(X))


def test_model_from_a_missing_gpu_opens_on_cpu(fitted, blobs, monkeypatch):
    X, _ = blobs
    state = pickle.loads(pickle.dumps(fitted)).__getstate__()
    state["device_"] = torch.device("cuda")  # as if it had been trained on a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = type(fitted).__new__(type(fitted))
    restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))


@pytest.mark.parametrize(
    "method, argument, match",
    [
        ("transform", np.zeros((3, 5)), "8 features"),
        ("transform", np.zeros((2, 2, 4)), "tabular"),
        ("inverse_transform", np.zeros((3, 5)), "n_components=2"),
        ("inverse_transform", np.full((3, 2), np.nan), "NaN"),
        ("sample", 0, "positive integer"),
    ],
    ids=["transform-features", "transform-images", "inverse-columns", "inverse-nan", "sample-zero"],
)
def test_bad_input_after_fit(fitted, method, argument, match):
    with pytest.raises(ValueError, match=match):
        getattr(fitted, method)(argument)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=0), "n_components"),
        (dict(prior="laplace"), "prior"),
        (dict(batch_size=0), "batch_size"),
        (dict(learning_rate_init=-1.0), "learning_rate_init"),
        (dict(hidden_layer_sizes=(16, 0)), "hidden_layer_sizes"),
        (dict(device="tpu:x"), "not a torch device"),
        (dict(precision="fp8"), "precision"),
        (dict(prior="swiss_roll", n_components=3), "swiss_roll|SwissRollPrior"),
    ],
)
def test_bad_parameters(Estimator, make_estimator, blobs, params, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        make_estimator(Estimator, **params).fit(X)


def test_pipeline_and_grid_search(Estimator, make_estimator, blobs):
    X, _ = blobs
    pipe = make_pipeline(FunctionTransformer(np.log1p, validate=False, feature_names_out="one-to-one"),
                         make_estimator(Estimator, max_iter=3))
    X_pos = X - X.min() + 1
    assert pipe.fit_transform(X_pos).shape == (300, 2)
    search = GridSearchCV(make_estimator(Estimator, max_iter=3), {"n_components": [1, 3]}, cv=2).fit(X)
    assert search.best_params_["n_components"] in (1, 3)
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def _dtypes_in_training(est, X):
    """The dtypes the encoder's linear layers compute in during one more pass over ``X``."""
    dtypes = set()
    hooks = [module.register_forward_hook(lambda module, inputs, output: dtypes.add(output.dtype))
             for module in est.encoder_.modules() if isinstance(module, torch.nn.Linear)]
    try:
        est.partial_fit(X)
    finally:
        for hook in hooks:
            hook.remove()
    return dtypes


@pytest.mark.parametrize("precision, autocast", [("bfloat16", True), ("float32", False)])
def test_precision_sets_the_training_arithmetic(Estimator, make_estimator, blobs, precision, autocast):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=3, precision=precision).fit(X)
    assert (torch.bfloat16 in _dtypes_in_training(est, X)) == autocast
    Z = est.transform(X)
    assert Z.dtype == np.float64 and np.isfinite(Z).all()


def test_cuda_fit_determinism_and_cpu_reload(Estimator, make_estimator, blobs, cuda, monkeypatch):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=5, device="cuda").fit(X)
    assert est.device_.type == "cuda" and next(est.encoder_.parameters()).is_cuda
    Z = est.transform(X)
    np.testing.assert_array_equal(Z, make_estimator(Estimator, max_iter=5, device="cuda").fit(X).transform(X))
    blob = pickle.dumps(est)
    np.testing.assert_array_equal(pickle.loads(blob).transform(X), Z)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    on_cpu = pickle.loads(blob)
    assert on_cpu.device_.type == "cpu"
    np.testing.assert_allclose(on_cpu.transform(X), Z, atol=1e-4)


def test_cuda_auto_device_and_precision(Estimator, make_estimator, blobs, cuda):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=3, precision="auto").fit(X)
    assert est.device_.type == "cuda" and next(est.encoder_.parameters()).is_cuda
    # 'auto' trains in bfloat16 on a GPU that supports it.
    assert (torch.bfloat16 in _dtypes_in_training(est, X)) == torch.cuda.is_bf16_supported()
    assert np.isfinite(est.transform(X)).all()
