"""Does an exponential moving average of ALAE's F and G improve its samples?

ALAE (n_components=16, defaults otherwise) is fitted on the 70 % digits split for each
``ema_decay`` and seed; 500 samples are compared with the 30 % held-out digits by
- MMD (RBF, median heuristic) between samples and held-out rows, in standardised pixels;
- the mean top-class probability an SVC trained on real digits gives the samples
  (higher: the samples look more like some digit).

Usage: python benchmarks/experiments/alae_ema.py [--seeds 0 1] [--max-iter N] [--json PATH]
"""

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common
from _common import Report, argument_parser, digits_split, max_iter_params
from sklearn.svm import SVC

from sklearn_aae import ALAE
from sklearn_aae.metrics import mmd_rbf


def main():
    parser = argument_parser(__doc__, max_iter=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    epochs = max_iter_params(args.max_iter)
    X_train, X_test, y_train, _ = digits_split()
    scale = X_train.std() or 1.0
    judge = SVC(probability=True, random_state=0).fit(X_train, y_train)
    report = Report(args)
    report.table(["ema_decay", "seed", "MMD(samples, held-out)", "mean top-class probability"])
    for decay in (None, 0.99, 0.999):
        for seed in args.seeds:
            alae = ALAE(n_components=16, ema_decay=decay, random_state=seed, **epochs).fit(X_train)
            samples = alae.sample(500, random_state=0)
            mmd = mmd_rbf(samples / scale, X_test / scale)
            confidence = judge.predict_proba(samples).max(axis=1).mean()
            report.row([decay, seed, f"{mmd:.4f}", f"{confidence:.3f}"], ema_decay=decay, seed=seed, mmd=mmd,
                       confidence=confidence)


if __name__ == "__main__":
    main()
