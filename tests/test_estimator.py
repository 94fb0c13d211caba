"""The estimator contract shared by every model in sklearn_aae (DESIGN.md section 4)."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import make_estimator

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module", params=__import__("conftest").ESTIMATORS, ids=lambda c: c.__name__)
def fitted(request, blobs):
    X, _ = blobs
    return make_estimator(request.param, max_iter=30).fit(X)


def test_shapes_dtypes_and_units(fitted, blobs):
    X, _ = blobs
    Z = fitted.transform(X)
    assert Z.shape == (300, 2) and Z.dtype == np.float64
    X_back = fitted.inverse_transform(Z)
    assert X_back.shape == X.shape and X_back.dtype == np.float64
    # Reconstructions live in the data's range and units.
    span = X.max(axis=0) - X.min(axis=0)
    assert np.all((X_back > X.min(axis=0) - span) & (X_back < X.max(axis=0) + span))
    if type(fitted).__name__ == "AdversarialAutoencoder":
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
    names = fitted._loss_names
    assert set(fitted.loss_history_) == set(names) and "reconstruction" in names
    assert all(len(v) == fitted.n_iter_ for v in fitted.loss_history_.values())
    # loss_curve_ is the monitored loss: pixel reconstruction (AAE) or latent (ALAE).
    assert fitted.loss_curve_ == fitted.loss_history_[names[0]]
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.best_loss_ == min(fitted.loss_curve_)


def test_refit_is_identical_and_seed_matters(Estimator, blobs):
    X, _ = blobs
    Z1 = make_estimator(Estimator, max_iter=3).fit_transform(X)
    Z2 = make_estimator(Estimator, max_iter=3).fit(X).transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = make_estimator(Estimator, max_iter=3, random_state=1).fit_transform(X)
    assert not np.allclose(Z1, Z3)


def test_global_torch_seed_is_left_alone(Estimator, blobs):
    X, _ = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_estimator(Estimator, max_iter=2).fit(X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_features_of_any_scale(Estimator, blobs):
    X, _ = blobs
    scales = np.logspace(-6, 6, X.shape[1])
    X_scaled = X * scales + 1e3
    est = make_estimator(Estimator, max_iter=30).fit(X_scaled)
    X_back = est.inverse_transform(est.transform(X_scaled))
    # Each column comes back in its own units, across twelve orders of magnitude; the
    # AAE, trained on reconstruction, also gets each column right to the same relative error.
    # Column spreads span 12 orders of magnitude: a unit slip would be off by up to 1e6.
    # (ALAE's reconstructions are narrower than the data, so the band is wide.)
    spread_ratio = X_back.std(axis=0) / X_scaled.std(axis=0)
    assert np.all((spread_ratio > 0.01) & (spread_ratio < 100)), spread_ratio
    if Estimator.__name__ == "AdversarialAutoencoder":
        rel_err = np.sqrt(np.mean((X_back - X_scaled) ** 2, axis=0)) / X_scaled.std(axis=0)
        assert np.all(rel_err < 0.8), rel_err
    # Standardisation makes the model blind to units: the codes equal those of the raw data.
    Z_raw = make_estimator(Estimator, max_iter=30).fit(X).transform(X)
    # Up to float32 rounding of the standardised inputs, which adversarial training amplifies.
    np.testing.assert_allclose(est.transform(X_scaled), Z_raw, atol=0.05 * Z_raw.std())


def test_pandas_in_and_out(Estimator, blobs):
    X, _ = blobs
    df = pd.DataFrame(X, columns=[f"col{i}" for i in range(8)])
    est = make_estimator(Estimator, max_iter=2).set_output(transform="pandas").fit(df)
    out = est.transform(df)
    assert isinstance(out, pd.DataFrame)
    prefix = est._feature_names_prefix
    assert list(out.columns) == [f"{prefix}0", f"{prefix}1"]
    assert list(est.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(est.get_feature_names_out(), [f"{prefix}0", f"{prefix}1"])
    with pytest.raises(ValueError, match="feature names"):
        est.transform(df.rename(columns={"col0": "other"}))


@pytest.mark.parametrize("image_shape", [(6, 5), (4, 4, 3)])
def test_images_in_and_out(Estimator, image_shape):
    rng = np.random.RandomState(0)
    images = rng.uniform(0, 255, size=(64, *image_shape))
    est = make_estimator(Estimator, max_iter=2).fit(images)
    assert est.image_shape_ == image_shape and est.n_features_in_ == np.prod(image_shape)
    Z = est.transform(images)
    assert Z.shape == (64, 2)
    assert est.inverse_transform(Z).shape == (64, *image_shape)
    assert est.sample(3).shape == (3, *image_shape)
    # Flattened images are the same rows.
    np.testing.assert_array_equal(est.transform(images.reshape(64, -1)), Z)
    # One mean and one scale for all pixels.
    assert np.ptp(est.mean_) == 0 and np.ptp(est.scale_) == 0
    with pytest.raises(ValueError, match="images of shape"):
        est.transform(rng.uniform(size=(2, *[side + 1 for side in image_shape])))


def test_bce_for_data_in_unit_interval(Estimator):
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(100, 10)) > 0.5).astype(float)
    est = make_estimator(Estimator, max_iter=5, reconstruction_loss="bce").fit(X)
    X_back = est.inverse_transform(est.transform(X))
    assert X_back.min() >= 0 and X_back.max() <= 1
    assert est.sample(5).min() >= 0
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        make_estimator(Estimator, reconstruction_loss="bce").fit(X * 2)


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads),
                                        (lambda e: _joblib_dump(e), lambda b: joblib.load(io.BytesIO(b)))])
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


def _joblib_dump(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def test_model_from_a_missing_gpu_opens_on_cpu(fitted, blobs, monkeypatch):
    X, _ = blobs
    blob = pickle.dumps(fitted)
    state = pickle.loads(blob).__getstate__()
    state["device_"] = torch.device("cuda")  # as if it had been trained on a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = type(fitted).__new__(type(fitted))
    restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))


def test_warm_start_and_partial_fit_continue(Estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=3, warm_start=True).fit(X)
    encoder = est.encoder_
    est.fit(X)
    assert est.n_iter_ == 6 and est.encoder_ is encoder and len(est.loss_curve_) == 6
    stream = make_estimator(Estimator)
    for chunk in np.array_split(X, 3):
        stream.partial_fit(chunk)
    assert stream.n_iter_ == 3 and stream.t_ == 300
    # Cold start resets.
    cold = make_estimator(Estimator, max_iter=3).fit(X)
    cold.fit(X)
    assert cold.n_iter_ == 3


def test_tol_stops_training_and_max_iter_warns(Estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=50, tol=1e6, n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X)
    # As in MLPRegressor: the first epoch sets the best loss, then it takes
    # n_iter_no_change + 1 epochs without a tol improvement to stop.
    assert est.n_iter_ == 4
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        make_estimator(Estimator, max_iter=2, tol=0.0).fit(X)


def test_early_stopping_tracks_and_restores_best(Estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=40, early_stopping=True, validation_fraction=0.2,
                         n_iter_no_change=3, tol=0.0, input_noise=0.0)
    est.fit(X)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # The restored weights are the best epoch's: the held-out rows score exactly that.
    # They are the first 20 % of a permutation drawn after the two seeds of the networks.
    rng = np.random.RandomState(0)
    rng.randint(np.iinfo(np.int32).max, size=2)
    order = rng.permutation(len(X))
    assert est.score(X[order[:60]]) == pytest.approx(est.best_validation_score_, rel=1e-5)


def test_verbose_progress_bar(Estimator, blobs, capsys):
    X, _ = blobs
    make_estimator(Estimator, max_iter=2, verbose=True).fit(X)
    err = capsys.readouterr().err
    # One tick per training row: 2 epochs of 300 rows, with the rate and the epoch count.
    assert Estimator.__name__ in err and "600/600" in err and "rows/s" in err
    assert "epoch=2" in err and "reconstruction=" in err


def test_divergence_is_a_clear_error(Estimator, blobs):
    X, _ = blobs

    def broken_prior(n_samples, random_state):
        return np.full((n_samples, 2), np.nan)

    with pytest.raises(FloatingPointError, match="diverged in epoch 1.*learning_rate_init"):
        make_estimator(Estimator, prior=broken_prior).fit(X)


def test_keyboard_interrupt_keeps_a_usable_model(Estimator, blobs, monkeypatch):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=10)
    calls = {"n": 0}
    step = Estimator._train_step

    def interrupted(self, *args):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt
        return step(self, *args)

    monkeypatch.setattr(Estimator, "_train_step", interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X)
    assert est.n_iter_ == 2
    assert np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "infinity"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.ones((1, 3)), ValueError, "1 sample"),
        (np.ones(5), ValueError, "Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert string"),
        (sp.csr_matrix(np.eye(3)), TypeError, "Sparse data"),
        (np.ones((2, 2, 2, 2, 2)), ValueError, "5 dimensions"),
    ],
)
def test_bad_input_at_fit(Estimator, X, error, match):
    with pytest.raises(error, match=match):
        make_estimator(Estimator).fit(X)


def test_bad_input_after_fit(fitted, blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="8 features"):
        fitted.transform(X[:, :5])
    with pytest.raises(ValueError, match="n_components=2"):
        fitted.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="positive integer"):
        fitted.sample(0)
    with pytest.raises(ValueError, match="tabular"):
        fitted.transform(np.zeros((2, 2, 4)))


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
def test_bad_parameters(Estimator, blobs, params, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        make_estimator(Estimator, **params).fit(X)


def test_pipeline_and_grid_search(Estimator, blobs):
    X, _ = blobs
    pipe = make_pipeline(FunctionTransformer(np.log1p, validate=False, feature_names_out="one-to-one"),
                         make_estimator(Estimator, max_iter=3))
    X_pos = X - X.min() + 1
    assert pipe.fit_transform(X_pos).shape == (300, 2)
    search = GridSearchCV(make_estimator(Estimator, max_iter=3), {"n_components": [1, 3]}, cv=2).fit(X)
    assert search.best_params_["n_components"] in (1, 3)
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_bfloat16_autocast_trains(Estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=5, precision="bfloat16").fit(X)
    assert np.isfinite(est.transform(X)).all() and est._autocast_dtype == torch.bfloat16
    assert make_estimator(Estimator, max_iter=1, precision="float32").fit(X)._autocast_dtype is None


@cuda
def test_cuda_fit_determinism_and_cpu_reload(Estimator, blobs, monkeypatch):
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


@cuda
def test_cuda_auto_device_and_bf16(Estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=3, precision="auto").fit(X)
    assert est.device_.type == "cuda"
    assert np.isfinite(est.transform(X)).all()
