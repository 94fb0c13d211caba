"""save / load: one file, safe to open, bit-identical, versioned; pickle still works."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sklearn_aae import ALAE, AdversarialAutoencoder, Prior, load

SMALL = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), batch_size=32, max_iter=3, tol=None,
             random_state=0)
# Every kind of fitted state: label modes, the graph, the placement, early stopping, images.
CONFIGURATIONS = [
    (AdversarialAutoencoder, {}),
    (AdversarialAutoencoder, dict(prior="gaussian_mixture", encoder="gaussian")),
    (AdversarialAutoencoder, dict(prior="swiss_roll", encoder="universal", n_neighbors=5)),
    (AdversarialAutoencoder, dict(n_components=3, prior="uniform", early_stopping=True)),
    (AdversarialAutoencoder, dict(n_neighbors=5, transform_mode="neighbors")),
    (AdversarialAutoencoder, dict(label_mode="conditional", reconstruction_loss="bce")),
    (AdversarialAutoencoder, dict(label_mode="categorical", n_neighbors=5)),
    (AdversarialAutoencoder, dict(n_clusters=3)),
    (ALAE, {}),
    (ALAE, dict(n_neighbors=5, ema_decay=None, latent_dim=3, early_stopping=True)),
]


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=120, n_features=5, centers=3, random_state=0)
    y = np.array(["a", "b", "c"])[y]
    y[::4] = "-1"  # string labels, some rows unlabeled
    return (X - X.min()) / (X.max() - X.min()), y


def _outputs(model, X):
    Z = model.transform(X)
    out = [Z, model.inverse_transform(Z[:7]), model.sample(6, random_state=3), np.array([model.score(X)])]
    if hasattr(model, "predict_proba"):
        out += [model.predict_proba(X), model.predict(X).astype(str)]
    return out


@pytest.mark.filterwarnings("ignore:y is ignored")
@pytest.mark.parametrize("Estimator, params", CONFIGURATIONS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_round_trip_is_bit_identical(Estimator, params, data, tmp_path):
    X, y = data
    model = Estimator(**{**SMALL, **params}).fit(X, y)
    model.save(tmp_path / "model.zip")
    restored = load(tmp_path / "model.zip")
    assert type(restored) is Estimator and restored.get_params() == model.get_params()
    for a, b in zip(_outputs(model, X), _outputs(restored, X)):
        assert a.tobytes() == b.tobytes()
    # The optimizers, generators and histories came back too: training continues identically.
    for m in (model, restored):
        m.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert model.transform(X).tobytes() == restored.transform(X).tobytes()
    assert model.loss_history_ == restored.loss_history_


def test_pickle_keeps_working(data):
    X, _ = data
    model = AdversarialAutoencoder(**SMALL).fit(X)
    assert pickle.loads(pickle.dumps(model)).transform(X).tobytes() == model.transform(X).tobytes()


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch sklearn_aae_was_run",))


def _rewrite(path, name, content):
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for n, c in parts.items():
            archive.writestr(n, c)


def test_a_tampered_weights_part_is_refused_without_running_it(data, tmp_path, monkeypatch):
    X, _ = data
    path = tmp_path / "model.zip"
    AdversarialAutoencoder(**SMALL).fit(X).save(path)
    payload = io.BytesIO()
    torch.save({"modules": _RunsCode()}, payload)
    _rewrite(path, "weights.pt", payload.getvalue())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not a plain tensor file and was refused"):
        load(path)
    assert not (tmp_path / "sklearn_aae_was_run").exists()


def test_a_pickled_array_is_refused(data, tmp_path):
    X, _ = data
    path = tmp_path / "model.zip"
    AdversarialAutoencoder(**SMALL).fit(X).save(path)
    arrays = io.BytesIO()
    np.savez(arrays, a0=np.array([_RunsCode()], dtype=object))
    _rewrite(path, "arrays.npz", arrays.getvalue())
    with pytest.raises(ValueError, match="not a complete sklearn_aae model file"):
        load(path)


def test_a_truncated_file_is_a_clear_error(data, tmp_path):
    X, _ = data
    path = tmp_path / "model.zip"
    AdversarialAutoencoder(**SMALL).fit(X).save(path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a complete sklearn_aae model file"):
        load(path)


def test_another_format_version_is_refused(data, tmp_path):
    X, _ = data
    path = tmp_path / "model.zip"
    AdversarialAutoencoder(**SMALL).fit(X).save(path)
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("model.json"))
    header["format_version"] = 99
    _rewrite(path, "model.json", json.dumps(header))
    with pytest.raises(ValueError, match="format version 99.*reads version 1"):
        load(path)


def test_a_gpu_model_opens_on_a_cpu(data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the CPU fallback is what is tested")
    X, _ = data
    model = AdversarialAutoencoder(**SMALL).fit(X)
    path = tmp_path / "model.zip"
    model.save(path)
    # What a model saved on a GPU writes: its device and its generator's.
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("model.json"))
    header["attributes"]["device_"] = {"__device__": "cuda:0"}
    header["generator"]["device"] = "cuda"
    _rewrite(path, "model.json", json.dumps(header))
    restored = load(path)
    assert restored.device_ == torch.device("cpu")
    assert restored.transform(X).tobytes() == model.transform(X).tobytes()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_model_saved_on_the_gpu_round_trips(data, tmp_path):
    X, _ = data
    model = AdversarialAutoencoder(**SMALL, device="cuda").fit(X)
    model.save(tmp_path / "model.zip")
    restored = load(tmp_path / "model.zip")
    assert restored.device_.type == "cuda"
    assert restored.transform(X).tobytes() == model.transform(X).tobytes()


class _Ring(Prior):
    def _sample(self, n_samples, y, rng):
        angle = rng.uniform(0, 2 * np.pi, n_samples)
        return np.column_stack([np.cos(angle), np.sin(angle)])


@pytest.mark.parametrize("prior", [_Ring(), lambda n, rng: rng.normal(size=(n, 2))], ids=["subclass", "callable"])
def test_code_priors_are_refused_at_save(prior, data, tmp_path):
    X, _ = data
    model = AdversarialAutoencoder(prior=prior, **SMALL).fit(X)
    with pytest.raises(TypeError, match="parameter prior .*without pickle"):
        model.save(tmp_path / "model.zip")
    assert not (tmp_path / "model.zip").exists()


def test_save_needs_a_fitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AdversarialAutoencoder().save(tmp_path / "model.zip")
