"""Check that a change to the package leaves seeded results bit-identical.

Fits every configuration of ``tests/test_common.py`` (plus ALAE and a few combinations
the checks do not reach: the graph with a class head, images, early stopping) on small
seeded data, and stores ``transform``, ``inverse_transform``, ``sample``,
``predict_proba`` and ``loss_history_``. Run it with ``--save`` on the old code and with
``--compare`` on the new; it lists every array that differs in any bit. Run both on
the same machine with the same thread count (``OMP_NUM_THREADS``): torch's reductions
split the work by threads, so another count changes the last bits.

Usage::

    python benchmarks/experiments/same_results.py --save before.npz
    python benchmarks/experiments/same_results.py --compare before.npz
"""

import argparse
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_blobs

from sklearn_aae import ALAE, AdversarialAutoencoder

FAST = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), max_iter=3, batch_size=32, random_state=0)

CONFIGURATIONS = {
    "plain": (AdversarialAutoencoder, {}),
    "mixture_gaussian": (AdversarialAutoencoder, dict(prior="gaussian_mixture", encoder="gaussian")),
    "roll_universal": (AdversarialAutoencoder, dict(prior="swiss_roll", encoder="universal")),
    "uniform_early_stopping": (AdversarialAutoencoder, dict(n_components=3, prior="uniform", early_stopping=True)),
    "categorical_prior": (AdversarialAutoencoder, dict(n_components=3, prior="categorical")),
    "neighbors": (AdversarialAutoencoder, dict(n_neighbors=5)),
    "neighbor_transform": (AdversarialAutoencoder, dict(n_neighbors=5, transform_mode="neighbors")),
    "conditional": (AdversarialAutoencoder, dict(label_mode="conditional")),
    "categorical_gaussian": (AdversarialAutoencoder, dict(label_mode="categorical", encoder="gaussian")),
    "clusters_universal": (AdversarialAutoencoder, dict(n_clusters=3, encoder="universal")),
    "prior_mode_mixture": (AdversarialAutoencoder, dict(prior="gaussian_mixture")),
    "prior_mode_roll_neighbors": (AdversarialAutoencoder, dict(prior="swiss_roll", n_neighbors=5)),
    "categorical_neighbors": (AdversarialAutoencoder, dict(label_mode="categorical", n_neighbors=5)),
    "clusters_neighbors": (AdversarialAutoencoder, dict(n_clusters=4, n_neighbors=5)),
    "float32": (AdversarialAutoencoder, dict(precision="float32", n_neighbors=5)),
    "alae": (ALAE, {}),
    "alae_neighbors_ema_none": (ALAE, dict(n_neighbors=5, ema_decay=None, latent_dim=3)),
    "alae_early_stopping_bf16": (ALAE, dict(early_stopping=True, precision="auto", tol=1e-4)),
    "alae_neighbor_transform": (ALAE, dict(n_neighbors=5, transform_mode="neighbors", r1_gamma=0.0)),
}
# Fitted on 8x8 images (n, 8, 8) rather than rows.
IMAGE_CONFIGURATIONS = {
    "images_aae": (AdversarialAutoencoder, dict(prior="gaussian_mixture")),
    "images_alae": (ALAE, {}),
    "images_conditional_neighbors_bce": (AdversarialAutoencoder, dict(label_mode="conditional", n_neighbors=5,
                                                                      reconstruction_loss="bce")),
}


def results():
    X, y = make_blobs(n_samples=150, n_features=6, centers=3, random_state=0)
    y = y.copy()
    y[::5] = -1  # some unlabeled rows
    images, digits = load_digits(return_X_y=True)
    images = images[:120].reshape(-1, 8, 8) / 16.0
    out = {}
    runs = [(name, cls, params, X, y) for name, (cls, params) in CONFIGURATIONS.items()]
    runs += [(name, cls, params, images, digits[:120]) for name, (cls, params) in IMAGE_CONFIGURATIONS.items()]
    for name, cls, params, data, labels in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = cls(**{**FAST, **params}).fit(data, labels)
            Z = model.transform(data)
            out[f"{name}/transform"] = Z
            out[f"{name}/inverse_transform"] = model.inverse_transform(Z[:20])
            out[f"{name}/sample"] = model.sample(7, random_state=1)
            out[f"{name}/score"] = np.array([model.score(data)])
            # Models fitted on classes generate a chosen class.
            if getattr(model, "label_mode_", None) is not None and model.n_clusters is None:
                out[f"{name}/sample_y"] = model.sample(6, y=model.classes_[0], random_state=2)
            if hasattr(model, "predict_proba"):
                out[f"{name}/predict_proba"] = model.predict_proba(data)
            for loss, values in model.loss_history_.items():
                out[f"{name}/loss_history/{loss}"] = np.asarray(values)
            out[f"{name}/loss_names"] = np.array(list(model.loss_history_), dtype=str)
            out[f"{name}/n_iter"] = np.array([model.n_iter_, model.t_])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE")
    group.add_argument("--compare", metavar="FILE")
    args = parser.parse_args()
    current = results()
    if args.save:
        np.savez(args.save, **current)
        print(f"saved {len(current)} arrays to {args.save}")
        return 0
    reference = dict(np.load(args.compare))
    differ = sorted(key for key in reference.keys() | current.keys()
                    if key not in reference or key not in current
                    or reference[key].shape != current[key].shape
                    or reference[key].tobytes() != current[key].tobytes())
    for key in differ:
        print(f"DIFFERS: {key}")
    print(f"{len(reference.keys() & current.keys()) - len(differ)} of {len(reference)} arrays bit-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
