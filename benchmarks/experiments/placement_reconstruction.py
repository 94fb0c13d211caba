"""Can a reconstruction term in the placement meet issue 7's reconstruction target, and how fast?

``transform_mode='neighbors'`` places a new row among the training codes by UMAP's graph
loss alone, and its codes decode worse than the encoder's (RESULTS.md, compare.py's first
table: 1.38× the plain AAE's held-out error). This experiment refines each placed code by
``--refine-steps`` more Adam steps of the same graph loss plus ``λ ‖decoder(z) - x‖²``
(standardised units, the model's own decoder, exact gradients through torch autograd), and
reports what that does to the held-out scores and to transform speed.

It fits ``AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode='neighbors')`` and
the plain ``AdversarialAutoencoder()`` on compare.py's 70/30 split of load_digits, once per
seed, and umap-learn once. Training and held-out rows are both placed and refined, and
scored as compare.py scores them: held-out 5-NN accuracy against the training rows'
codes, trustworthiness (k=10), held-out reconstruction MSE (and its ratio to the plain
AAE's mean over the same seeds), and rows/s of placement plus refinement against
umap-learn's warm ``transform`` in the same process. λ = 0 with 0 refine steps is the
library's placement.

Usage: python benchmarks/experiments/placement_reconstruction.py [--seeds 0 1 2] [--weights 0 0.03 0.1]
                                                                [--refine-steps 20 50] [--shares 0.1 0.3]
                                                                [--max-iter N] [--json PATH]
"""

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common
from _common import Report, argument_parser, digits_split, max_iter_params, rows_per_second, summarise, warm_umap

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.metrics import embedding_scores


class Refinement:
    """Moves a model's placed codes by Adam steps of graph loss + weight × reconstruction error.

    The graph term is the one the placement minimises (attraction to the row's
    ``n_neighbors`` nearest training codes with umap-learn's memberships, repulsion from
    ``negative_sample_rate`` random training codes, fixed per step); the step of each row
    is ``share`` × the spread of its neighbours' codes, decayed linearly, as in the library.
    """

    def __init__(self, model, weight, steps, share):
        self.model, self.weight, self.steps, self.share = model, weight, steps, share
        self.placement = model._placement
        rows, codes, squared_norms = self.placement._tensors(torch.device("cpu"))
        self.rows, self.codes, self.squared_norms = rows, codes, squared_norms
        self.far = codes[torch.randint(0, len(codes), (max(steps, 1), self.placement.negative_sample_rate),
                                       generator=torch.Generator().manual_seed(0))]

    def transform(self, X):
        Z = self.model.transform(X)
        if self.steps == 0:
            return Z
        placement, decoder = self.placement, self.model.decoder_
        scale, log_a, b = placement.code_scale, math.log(placement.a), placement.b
        distances, nearest = placement._nearest(torch.as_tensor(X, dtype=torch.float32), self.rows,
                                                self.squared_norms)
        weight = placement.memberships(distances)
        total, near = weight.sum(1), self.codes[nearest]
        target = torch.as_tensor(self.model._standardise(X), dtype=torch.float32)
        Z = torch.as_tensor(Z / scale, dtype=torch.float32).requires_grad_(True)
        spread = ((weight * (near - Z.detach()[:, None]).square().sum(2)).sum(1) / total).sqrt()[:, None]
        optimiser = torch.optim.Adam([Z], lr=1.0)
        for step in range(self.steps):
            attraction = (weight * F.softplus(log_a + b * (Z[:, None] - near).square().sum(2)
                                              .clamp_min(1e-8).log())).sum(1)
            far = (Z[:, None] - self.far[step][None]).square().sum(2).clamp_min(1e-8).log()
            repulsion = total / self.far.shape[1] * F.softplus(-(log_a + b * far)).sum(1)
            loss = attraction + repulsion
            if self.weight:
                loss = loss + self.weight * (decoder(Z * scale) - target).square().sum(1)
            optimiser.zero_grad()
            loss.sum().backward()
            # Adam's step has the size of its rate: scaling the gradient's direction per row
            # is not enough, so the step is taken by hand from Adam's moments.
            state_before = Z.detach().clone()
            optimiser.step()
            with torch.no_grad():
                Z.copy_(state_before + (Z - state_before) * self.share * spread * (1 - step / self.steps))
        return Z.detach().numpy().astype(np.float64) * scale


def main():
    parser = argument_parser(__doc__, max_iter=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.03, 0.1])
    parser.add_argument("--refine-steps", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.1, 0.3])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    epochs = max_iter_params(args.max_iter)
    split = X_train, X_test, y_train, y_test = digits_split()
    report = Report(args, f"seeds {args.seeds}")
    _, umap_speed = warm_umap(X_train, X_test)
    plain = [AdversarialAutoencoder(random_state=seed, **epochs).fit(X_train) for seed in args.seeds]
    plain_mse = np.mean([embedding_scores(model, *split)["reconstruction_mse"] for model in plain])
    models = [AdversarialAutoencoder(n_neighbors=15, tol=None, transform_mode="neighbors", random_state=seed,
                                     **epochs).fit(X_train) for seed in args.seeds]
    for model in models:
        model.decoder_.requires_grad_(False)
    report.note(f"UMAP transform: {umap_speed:,.0f} rows/s; plain AAE held-out reconstruction MSE "
                f"{plain_mse:.3f} (seeds {args.seeds}), so 1.2× is {1.2 * plain_mse:.3f}\n")
    report.table(["λ", "refine steps", "share", "5-NN", "trust", "recon. MSE", "× plain", "rows/s", "× UMAP"])
    configurations = [(0.0, 0, None)] + [(weight, steps, share) for weight in args.weights
                                         for steps in args.refine_steps for share in args.shares]
    for weight, steps, share in configurations:
        runs, speeds = [], []
        for model in models:
            refinement = Refinement(model, weight, steps, share)
            Z_train, Z_test = refinement.transform(X_train), refinement.transform(X_test)
            runs.append(embedding_scores(model, *split, Z_train=Z_train, Z_test=Z_test))
            speeds.append(rows_per_second(refinement.transform, X_test))
        mse, speed = np.mean([run["reconstruction_mse"] for run in runs]), np.mean(speeds)
        cells = [summarise([run[key] for run in runs]) for key in ("knn_accuracy", "trustworthiness",
                                                                   "reconstruction_mse")]
        report.row([weight, steps, share or "—", *cells, f"{mse / plain_mse:.2f}", f"{speed:,.0f}",
                    f"{speed / umap_speed:.0f}"], weight=weight, steps=steps, share=share, runs=runs,
                   rows_per_second=speeds, plain_mse=plain_mse, umap_rows_per_second=umap_speed)


if __name__ == "__main__":
    main()
