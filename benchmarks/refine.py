"""What a non-parametric refinement of ``transform`` would buy on held-out digits (issue 7).

Not a library feature: an experiment on the question "is the gap to UMAP in the layout or
in the encoder?". It fits ``AdversarialAutoencoder(n_neighbors=15, tol=None)`` on
compare.py's 70/30 split of load_digits, then places the held-out rows the way
umap-learn's ``transform`` does, but in torch and started from the encoder's codes: each
row keeps its 15 nearest training rows (raw distances, as the graph) with umap-learn's
memberships (``smooth_knn_dist``), and its code moves for ``steps`` Adam steps (learning
rate decayed linearly to 0) on UMAP's cross-entropy against the fixed training codes,
5 random training codes per row repelling. Codes are in the graph loss's units
(codes / 0.3 for the gaussian prior). Prints held-out 5-NN accuracy and
trustworthiness (k=10) and rows/s of the whole placement, next to the encoder's and
UMAP's ``transform`` timed in the same process.

Usage: python benchmarks/refine.py [--seeds 0 1]
"""

import argparse
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
import umap
from compare import rows_per_second
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from umap.umap_ import find_ab_params, smooth_knn_dist

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import heldout_knn_accuracy, trustworthiness

N_NEIGHBORS, N_NEGATIVE = 15, 5
SETTINGS = ((30, 0.1), (30, 0.3), (100, 0.1))  # (Adam steps, initial learning rate)


def refine(model, scale, neighbors, E, X, steps, learning_rate, a, b, seed=0):
    """Codes of X (graph units: codes / scale) moved by UMAP's loss against the fixed training codes E."""
    distances, nearest = neighbors.kneighbors(X)
    sigmas, rhos = smooth_knn_dist(distances.astype(np.float32), float(N_NEIGHBORS), local_connectivity=0.0)
    weight = torch.from_numpy(np.exp(-np.maximum(distances - rhos[:, None], 0) / sigmas[:, None]).astype(np.float32))
    E_near = E[torch.from_numpy(nearest)]  # (n_rows, N_NEIGHBORS, n_components)
    Z = torch.tensor(model.transform(X) / scale, dtype=torch.float32, requires_grad=True)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([Z], lr=learning_rate)
    for step in range(steps):
        optimizer.param_groups[0]["lr"] = learning_rate * (1 - step / steps)
        t_near = math.log(a) + b * torch.log((Z[:, None] - E_near).pow(2).sum(-1).clamp_min(1e-8))
        far = torch.randint(0, E.shape[0], (Z.shape[0], N_NEGATIVE), generator=generator)
        t_far = math.log(a) + b * torch.log((Z[:, None] - E[far]).pow(2).sum(-1).clamp_min(1e-8))
        # -log φ on the memberships, -log(1 - φ) on the random rows, as much repulsion weight as attraction.
        loss = ((weight * F.softplus(t_near)).sum(1) + F.softplus(-t_far).mean(1) * weight.sum(1)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return Z.detach().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    a, b = find_ab_params(1.0, 0.1)
    reducer = umap.UMAP(random_state=0).fit(X_train)
    reducer.transform(X_test)  # numba compiles on the first call; time the warm ones
    umap_speed = rows_per_second(reducer.transform, X_test)
    print(f"UMAP transform: {umap_speed:,.0f} rows/s\n")
    print("| seed | placement | 5-NN | trust | rows/s | × UMAP |\n|---|---|---|---|---|---|")
    for seed in args.seeds:
        model = AdversarialAutoencoder(n_neighbors=N_NEIGHBORS, tol=None, random_state=seed).fit(X_train)
        # Drawn from the prior once here, not inside the timed placements.
        scale = model._neighbor_code_scale()
        E = torch.tensor(model.transform(X_train) / scale, dtype=torch.float32)
        neighbors = NearestNeighbors(n_neighbors=N_NEIGHBORS).fit(X_train)
        placements = {"encoder": lambda X: model.transform(X) / scale}
        for steps, learning_rate in SETTINGS:
            placements[f"refined, {steps} steps, lr {learning_rate}"] = (
                lambda X, s=steps, lr=learning_rate: refine(model, scale, neighbors, E, X, s, lr, a, b))
        for name, place in placements.items():
            Z_test = place(X_test)
            speed = rows_per_second(place, X_test)
            knn = heldout_knn_accuracy(E.numpy(), y_train, Z_test, y_test, n_neighbors=5)
            print(f"| {seed} | {name} | {knn:.3f} | {trustworthiness(X_test, Z_test, n_neighbors=10):.3f} | "
                  f"{speed:,.0f} | {speed / umap_speed:.0f} |", flush=True)


if __name__ == "__main__":
    main()
