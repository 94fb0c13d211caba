"""Is the default AdversarialAutoencoder still generative? The defaults next to the plain AAE.

On held-out digits (``_common.digits_split``), for ``AdversarialAutoencoder()`` (the
neighbour graph), ``AdversarialAutoencoder(n_neighbors=None)`` (the paper's plain AAE at
the same training settings) and the plain AAE as trained before the graph became the
default (512-wide networks, batch 128, Adam 1e-3 constant, 200 epochs, ``tol=1e-4``):

- MMD(codes, prior): the training rows' encoder codes against as many prior samples;
- held-out reconstruction error on features standardised with the training rows' statistics;
- MMD(samples, held-out rows): 540 generated digits against the 540 held-out ones, both
  standardised the same way.

Usage: python benchmarks/experiments/generative.py [--seeds 0 1 2] [--json PATH]
"""

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Report, argument_parser, digits_split, summarise  # noqa: E402

from sklearn_aae import AdversarialAutoencoder  # noqa: E402
from sklearn_aae.metrics import mmd_rbf  # noqa: E402

MODELS = {
    "defaults": {},
    "plain (n_neighbors=None)": dict(n_neighbors=None),
    "plain, earlier training": dict(n_neighbors=None, hidden_layer_sizes=(512, 512),
                                    discriminator_layer_sizes=(256, 256), batch_size=128, learning_rate_init=1e-3,
                                    learning_rate="constant", max_iter=200, tol=1e-4),
}


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X_train, X_test, _, _ = digits_split()
    mean, scale = X_train.mean(axis=0), np.where(X_train.std(axis=0) > 0, X_train.std(axis=0), 1.0)
    report = Report(args, f"seeds {args.seeds}")
    report.table(["model", "MMD(codes, prior)", "reconstruction MSE (held-out)", "MMD(samples, held-out)"])
    for name, params in MODELS.items():
        runs = []
        for seed in args.seeds:
            # The model as a user fits it; its codes here are the encoder's (set after the
            # fit, so the training is the default's, placement and all).
            model = AdversarialAutoencoder(random_state=seed, **params).fit(X_train).set_params(
                transform_mode="encoder")
            codes = model.transform(X_train)
            samples = model.sample(len(X_test), random_state=seed)
            runs.append(dict(
                mmd_codes=mmd_rbf(codes, model.prior_.sample(len(codes), random_state=seed)),
                reconstruction=np.mean(((model.inverse_transform(model.transform(X_test)) - X_test) / scale) ** 2),
                mmd_samples=mmd_rbf((samples - mean) / scale, (X_test - mean) / scale)))
        report.row([name, *(summarise([run[key] for run in runs], fmt) for key, fmt in
                            (("mmd_codes", ".4f"), ("reconstruction", ".3f"), ("mmd_samples", ".4f")))],
                   model=name, runs=runs)


if __name__ == "__main__":
    main()
