"""Saving a fitted estimator to one file that is safe to open: no code runs on load.

A pickle runs whatever code it names when it is opened. The file written here is a zip
archive of three parts, none of which can:

- ``model.json``: the format version, the estimator's class name (one of this library's
  estimators), its parameters and its fitted attributes, as JSON;
- ``arrays.npz``: the arrays among them, read with ``allow_pickle=False``;
- ``weights.pt``: the state dicts of the networks and optimizers and the random
  generator's state, read with ``torch.load(weights_only=True)``, which only rebuilds
  tensors and plain containers.

Every value is written by an explicit rule (:func:`_encode`); a value without one, such as
a callable prior or a ``Prior`` subclass defined by the user, is refused at save time
rather than written in a form that would need code to read back. On load the networks
are built from the parameters and filled from the state dicts.
"""

import io
import json
import zipfile

import numpy as np
import torch

from . import __version__, priors
from . import _labels as labels_module
from ._clustering import ClusterVote
from ._neighbors import SearchIndex
from ._placement import NeighborPlacement
from ._torch_utils import device_available, restore_generator

#: Version of the file layout; a file of another version is refused with a clear message.
FORMAT_VERSION = 1
_MAGIC = "sklearn_aae model"
_PRIOR_CLASSES = {cls.__name__: cls for cls in (priors.GaussianPrior, priors.GaussianMixturePrior,
                                                 priors.SwissRollPrior, priors.UniformPrior, priors.CategoricalPrior)}
_LABEL_MODES = {cls.__name__: cls for cls in (labels_module.NoLabels, labels_module.PriorPlacement,
                                               labels_module.ConditionalDecoder, labels_module.ClassHead)}
# Helpers of the fitted model written as their pickled state (plain values and arrays).
_STATE_CLASSES = {"__placement__": NeighborPlacement, "__cluster_vote__": ClusterVote,
                  "__search_index__": SearchIndex}
# Fitted state rebuilt on load: the generator from the weights file; the best-weights
# copy of early stopping only lives during fit.
_NOT_SAVED = {"_best_state", "_generator"}


def save(estimator, path):
    """Write the fitted ``estimator`` to ``path`` as one file; see :func:`load`."""
    from ._base import BaseAdversarialAutoencoder

    if not isinstance(estimator, BaseAdversarialAutoencoder) or not hasattr(estimator, "n_iter_"):
        raise ValueError("save() needs a fitted AdversarialAutoencoder or ALAE.")
    arrays = {}
    params = {name: _encode(value, arrays, f"parameter {name}") for name, value in estimator.get_params().items()}
    attributes, modules, optimizers = {}, {}, {}
    for name, value in vars(estimator).items():
        if isinstance(value, torch.nn.Module):
            modules[name] = value.state_dict()
        elif isinstance(value, torch.optim.Optimizer):
            optimizers[name] = value.state_dict()
        elif name not in _NOT_SAVED:
            attributes[name] = _encode(value, arrays, f"attribute {name}")
    generator = estimator._generator
    header = {"format": _MAGIC, "format_version": FORMAT_VERSION, "library_version": __version__,
              "estimator": type(estimator).__name__, "params": params, "attributes": attributes,
              "generator": {"device": generator.device.type, "seed": generator.initial_seed()}}
    weights = io.BytesIO()
    torch.save({"modules": modules, "optimizers": optimizers, "generator": generator.get_state()}, weights)
    array_bytes = io.BytesIO()
    np.savez(array_bytes, **arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", json.dumps(header))
        archive.writestr("arrays.npz", array_bytes.getvalue())
        archive.writestr("weights.pt", weights.getvalue())


def load(path):
    """Open a model written by ``save``, without running any code from the file.

    Parameters
    ----------
    path : str or path-like
        A file written by :meth:`AdversarialAutoencoder.save` or :meth:`ALAE.save`.

    Returns
    -------
    estimator : AdversarialAutoencoder or ALAE
        The fitted estimator, on the device it was saved from or, where this machine
        lacks it (a GPU), on the CPU.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import AdversarialAutoencoder, load
    >>> X, _ = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(max_iter=2, random_state=0).fit(X[:200])
    >>> path = os.path.join(tempfile.mkdtemp(), "aae.zip")
    >>> aae.save(path)
    >>> (load(path).transform(X[:5]) == aae.transform(X[:5])).all()
    np.True_
    """
    from ._aae import AdversarialAutoencoder
    from ._alae import ALAE

    try:
        with zipfile.ZipFile(path) as archive:
            header = json.loads(archive.read("model.json"))
            arrays = dict(np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False))
            weights_bytes = archive.read("weights.pt")
    except (zipfile.BadZipFile, KeyError, EOFError, ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a complete sklearn_aae model file ({type(exc).__name__}: {exc}).") from None
    if not isinstance(header, dict) or header.get("format") != _MAGIC:
        raise ValueError(f"{path} is not an sklearn_aae model file.")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path} has model file format version {header.get('format_version')!r} (written by "
                         f"sklearn_aae {header.get('library_version')}); this sklearn_aae {__version__} reads "
                         f"version {FORMAT_VERSION}. Open it with the version that wrote it and refit or save "
                         "again with this one.")
    classes = {"AdversarialAutoencoder": AdversarialAutoencoder, "ALAE": ALAE}
    if header.get("estimator") not in classes:
        raise ValueError(f"{path} holds an unknown estimator {header.get('estimator')!r}.")
    try:
        weights = torch.load(io.BytesIO(weights_bytes), map_location="cpu", weights_only=True)
    except Exception as exc:  # the restricted unpickler refuses anything but tensors and containers
        raise ValueError(f"{path}: its weights part is not a plain tensor file and was refused without being "
                         f"run ({type(exc).__name__}).") from None
    estimator = classes[header["estimator"]](**{k: _decode(v, arrays) for k, v in header["params"].items()})
    estimator.__dict__.update({name: _decode(value, arrays) for name, value in header["attributes"].items()})
    if not device_available(estimator.device_):
        estimator.device_ = torch.device("cpu")
    _restore_networks(estimator, weights, header["generator"], path)
    return estimator


def _restore_networks(estimator, weights, generator, path):
    # The networks are built as a first fit builds them, then filled from the state dicts.
    with torch.random.fork_rng(devices=[]):
        estimator._build(estimator.n_features_in_, torch.Generator().manual_seed(0))
    built = {name for name, value in vars(estimator).items()
             if isinstance(value, (torch.nn.Module, torch.optim.Optimizer))}
    if built != set(weights["modules"]) | set(weights["optimizers"]):
        raise ValueError(f"{path}: its networks {sorted(set(weights['modules']) | set(weights['optimizers']))} "
                         f"do not match the estimator's {sorted(built)}.")
    for name, state in weights["modules"].items():
        module = getattr(estimator, name)
        module.load_state_dict(state)
        module.to(estimator.device_)
    for name, state in weights["optimizers"].items():
        # Loading after the modules moved puts the moments on the same device.
        getattr(estimator, name).load_state_dict(state)
    estimator._generator = restore_generator((generator["device"], weights["generator"], generator["seed"]),
                                             estimator.device_)
    estimator._best_state = None


def _encode(value, arrays, what):
    """``value`` as JSON, arrays moved to ``arrays``; refuses what could only be pickled."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, list):
        return [_encode(v, arrays, what) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, what) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, arrays, what) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        return _encode_array(value, arrays, what)
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    if isinstance(value, np.random.RandomState):
        kind, keys, position, has_gauss, cached = value.get_state()
        return {"__random_state__": [kind, _encode_array(keys, arrays, what), position, has_gauss, cached]}
    if type(value).__name__ in _PRIOR_CLASSES and type(value) is _PRIOR_CLASSES[type(value).__name__]:
        return {"__prior__": type(value).__name__, "state": _encode(vars(value), arrays, what)}
    if type(value).__name__ in _LABEL_MODES and type(value) is _LABEL_MODES[type(value).__name__]:
        return {"__label_mode__": type(value).__name__, "state": _encode(vars(value), arrays, what)}
    if type(value) in _STATE_CLASSES.values():
        # What they keep for the training rows (arrays and numbers), without their caches
        # (a search index's NN-descent structure among them: it is rebuilt on first use).
        tag = next(tag for tag, cls in _STATE_CLASSES.items() if type(value) is cls)
        return {tag: _encode(value.__getstate__(), arrays, what)}
    raise TypeError(f"save() cannot write {what} ({type(value).__name__}) without pickle, which would run code "
                    "when the file is opened; use a built-in prior (not a callable or a Prior subclass), or "
                    "pickle / joblib if you trust whoever opens the file.")


def _encode_array(array, arrays, what):
    key = f"a{len(arrays)}"
    if array.dtype.kind == "O":
        # Object arrays (feature names, string classes) hold strings or numbers; numpy
        # would pickle them, so they are written as their own kind.
        if not all(isinstance(v, str) for v in array.ravel()):
            try:
                arrays[key] = np.asarray(array.tolist())
            except (TypeError, ValueError):
                raise TypeError(f"save() cannot write {what}: an object array of mixed values.") from None
            if arrays[key].dtype.kind == "O":
                raise TypeError(f"save() cannot write {what}: an object array of mixed values.")
        else:
            arrays[key] = array.astype(str)
        return {"__ndarray__": key, "object": True}
    arrays[key] = array
    return {"__ndarray__": key}


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v, arrays) for k, v in value["__dict__"].items()}
    if "__ndarray__" in value:
        array = arrays[value["__ndarray__"]]
        return array.astype(object) if value.get("object") else array
    if "__device__" in value:
        return torch.device(value["__device__"])
    if "__dtype__" in value:
        return getattr(torch, value["__dtype__"])
    if "__random_state__" in value:
        kind, keys, position, has_gauss, cached = value["__random_state__"]
        rng = np.random.RandomState()
        rng.set_state((kind, _decode(keys, arrays), position, has_gauss, cached))
        return rng
    for tag, table in (("__prior__", _PRIOR_CLASSES), ("__label_mode__", _LABEL_MODES)):
        if tag in value:
            if value[tag] not in table:
                raise ValueError(f"unknown {tag.strip('_')} {value[tag]!r} in the model file.")
            obj = object.__new__(table[value[tag]])
            obj.__dict__.update(_decode(value["state"], arrays))
            return obj
    for tag, cls in _STATE_CLASSES.items():
        if tag in value:
            obj = object.__new__(cls)
            obj.__dict__.update(_decode(value[tag], arrays))
            return obj
    raise ValueError(f"unknown value in the model file: {sorted(value)}")
