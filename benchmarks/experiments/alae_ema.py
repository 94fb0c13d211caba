"""Does an exponential moving average of ALAE's F and G improve its samples?

ALAE (n_components=16, defaults otherwise) is fitted on the 70 % digits split for each
``ema_decay`` and seed; 500 samples are compared with the 30 % held-out digits by
- MMD (RBF, median heuristic) between samples and held-out rows, in standardised pixels;
- the mean top-class probability an SVC trained on real digits gives the samples
  (higher: the samples look more like some digit).

Usage: python benchmarks/alae_ema.py [--seeds 0 1]
"""

import argparse
import warnings

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from sklearn_aae import ALAE
from sklearn_aae.metrics import mmd_rbf


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scale = X_train.std() or 1.0
    judge = SVC(probability=True, random_state=0).fit(X_train, y_train)
    print("| ema_decay | seed | MMD(samples, held-out) | mean top-class probability |")
    print("|---|---|---|---|")
    for decay in (None, 0.99, 0.999):
        for seed in args.seeds:
            samples = ALAE(n_components=16, ema_decay=decay, random_state=seed).fit(X_train).sample(500, random_state=0)
            mmd = mmd_rbf(samples / scale, X_test / scale)
            confidence = judge.predict_proba(samples).max(axis=1).mean()
            print(f"| {decay} | {seed} | {mmd:.4f} | {confidence:.3f} |", flush=True)


if __name__ == "__main__":
    main()
