"""Training and transform throughput at MNIST size, against a tutorial loop and the matmul limit.

Architecture (issue 8): encoder 784-512-512-2, decoder 2-512-512-784, discriminator
2-512-256-1, on 784-feature rows ("MNIST-sized"; random pixels in [0, 1] - speed does not
depend on the content and nothing is downloaded).

Contenders, each run for one epoch per round, in turn, so that load from anything else on
the machine hits all of them alike; the table gives the median over rounds:

- "tutorial": the loop most AAE tutorials write - a DataLoader over a TensorDataset,
  plain ``torch.optim.Adam``, the paper's three phases (reconstruction, discriminator,
  generator) as three separate steps - at batch 64 and 256;
- AdversarialAutoencoder and ALAE as the papers' plain models (``n_neighbors=None``) through
  ``partial_fit`` (one epoch per call), at batch 128 and 256 (the AAE's default; ALAE's is
  128), in float32 and with precision='auto' (bfloat16 autocast where the hardware
  computes it natively, float32 elsewhere; the AAE's default, while ALAE's default is
  float32);
- AdversarialAutoencoder with its default neighbour graph (``n_neighbors=15``), whose
  minibatches are the end points of graph edges, of batch_size='auto' (an eighth of the
  rows, between 256 and 1,024: 1,024 on 10,000 rows): an epoch's time is the difference of a
  3-epoch and a 1-epoch warm-started ``fit``, halved, so that the graph's build (once per
  fit) cancels out;
- "matmul limit": only the matrix products of one AAE training step of ours (forward,
  gradient of the input, gradient of the weights, for every layer and every pass) at
  batch 256 in float32, timed back to back. samples/s of the estimator divided by this
  is the achieved / limit ratio.

Transform: rows/s of ``transform`` on 50,000 rows, next to the encoder's own matmul limit.

Usage: python benchmarks/throughput.py [--rows 10000] [--rounds 5] [--json PATH]
"""

import statistics
import time
import warnings

import numpy as np
import torch
from _common import Report, argument_parser
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from sklearn_aae import ALAE, AdversarialAutoencoder
from sklearn_aae._torch_utils import resolve_precision

N_FEATURES = 784
ENCODER = (N_FEATURES, 512, 512, 2)
DECODER = (2, 512, 512, N_FEATURES)
DISCRIMINATOR = (2, 512, 256, 1)
ARCH = dict(hidden_layer_sizes=(512, 512), discriminator_layer_sizes=(512, 256))
PLAIN = dict(n_neighbors=None)
# The two rows whose ratio is the graph's cost.
PLAIN_ROW = "AdversarialAutoencoder, batch 256 (default), precision='auto' (default)"
GRAPH_ROW = "AdversarialAutoencoder + neighbour graph (default), batch 'auto' (1,024 here), precision='auto'"


def sequential(widths):
    layers = []
    for n_in, n_out in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1]))


class TutorialAAE:
    """The common tutorial loop: DataLoader, plain Adam, three phases per minibatch."""

    def __init__(self, X, batch_size):
        self.loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(X)),
                                                  batch_size=batch_size, shuffle=True)
        self.encoder, self.decoder = sequential(ENCODER), sequential(DECODER)
        self.discriminator = sequential(DISCRIMINATOR)
        self.opt_ae = torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], lr=1e-3)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=1e-3)
        self.opt_g = torch.optim.Adam(self.encoder.parameters(), lr=1e-3)

    def epoch(self):
        bce = nn.BCEWithLogitsLoss()
        for (x,) in self.loader:
            # Reconstruction phase.
            self.opt_ae.zero_grad()
            loss = nn.functional.mse_loss(self.decoder(self.encoder(x)), x)
            loss.backward()
            self.opt_ae.step()
            # Regularisation phase: discriminator, then the encoder as generator.
            self.opt_d.zero_grad()
            z_fake = self.encoder(x).detach()
            z_real = torch.randn_like(z_fake)
            d_loss = (bce(self.discriminator(z_real), torch.ones(len(x), 1))
                      + bce(self.discriminator(z_fake), torch.zeros(len(x), 1)))
            d_loss.backward()
            self.opt_d.step()
            self.opt_g.zero_grad()
            g_loss = bce(self.discriminator(self.encoder(x)), torch.ones(len(x), 1))
            g_loss.backward()
            self.opt_g.step()


class GraphEstimator:
    """An epoch of a fit with the neighbour graph, without the graph's build: the time of a
    3-epoch fit minus that of a 1-epoch fit, halved (both warm-started, both build it)."""

    def __init__(self, X, **params):
        self.X = X
        self.model = AdversarialAutoencoder(**params, n_neighbors=15, warm_start=True, max_iter=1, random_state=0)
        self.model.fit(X)

    def epoch(self):
        times = []
        for max_iter in (1, 3):
            start = time.perf_counter()
            self.model.set_params(max_iter=max_iter).fit(self.X)
            times.append(time.perf_counter() - start)
        return (times[1] - times[0]) / 2


class Estimator:
    """One epoch per call of partial_fit; the first (set-up) call is made untimed."""

    def __init__(self, cls, X, **params):
        self.X = X
        self.model = cls(**params, random_state=0)
        self.model.partial_fit(X)

    def epoch(self):
        self.model.partial_fit(self.X)


def step_matmuls(batch_size, dtype=torch.float32):
    """The matrix products of one AAE step of ours, as (m, k, n) shapes of m×k @ k×n."""
    shapes = []

    def layer_pass(widths, rows, weight_grad=True, input_grad=True):
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            shapes.append((rows, n_in, n_out))  # forward
            if input_grad and i > 0:
                shapes.append((rows, n_out, n_in))  # gradient of the layer's input
            if weight_grad:
                shapes.append((n_out, rows, n_in))  # gradient of the weights

    layer_pass(ENCODER, batch_size)                                  # encoder, trained
    layer_pass(DISCRIMINATOR, 2 * batch_size)                        # D step on prior + codes
    layer_pass(DECODER, batch_size)                                  # decoder, trained
    layer_pass(DISCRIMINATOR, batch_size, weight_grad=False)         # D frozen, gradient to z
    shapes += [(batch_size, DISCRIMINATOR[1], DISCRIMINATOR[0])]     # ... into the codes
    shapes += [(batch_size, DECODER[1], DECODER[0])]                 # decoder's gradient into z
    return shapes


class MatmulLimit:
    """Times only the matrix products of one training step; samples/s at that speed."""

    def __init__(self, batch_size, n_steps=20):
        self.batch_size, self.n_steps = batch_size, n_steps
        self.operands = [(torch.randn(m, k), torch.randn(k, n)) for m, k, n in step_matmuls(batch_size)]
        self.flop_per_sample = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in self.operands) / batch_size

    def epoch(self):
        for _ in range(self.n_steps):
            for a, b in self.operands:
                torch.mm(a, b)

    @property
    def samples(self):
        return self.n_steps * self.batch_size


def encoder_limit(rows=8192, repeats=5):
    """rows/s of the encoder's matrix products alone (forward only), float32."""
    operands = [(torch.randn(rows, n_in), torch.randn(n_in, n_out)) for n_in, n_out in zip(ENCODER[:-1], ENCODER[1:])]
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b in operands:
            torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return rows / best


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="training rows per epoch")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    report = Report(args, f"precision='auto' means {resolve_precision('auto', torch.device('cpu')) or 'float32'} here")
    rng = np.random.default_rng(0)
    X = rng.random((args.rows, N_FEATURES), dtype=np.float32)
    torch.manual_seed(0)

    contenders = {
        "tutorial, batch 64": TutorialAAE(X, 64),
        "tutorial, batch 256": TutorialAAE(X, 256),
        "AdversarialAutoencoder, batch 128, float32":
            Estimator(AdversarialAutoencoder, X, **ARCH, **PLAIN, batch_size=128, precision="float32"),
        "AdversarialAutoencoder, batch 256 (default), float32":
            Estimator(AdversarialAutoencoder, X, **ARCH, **PLAIN, precision="float32"),
        "AdversarialAutoencoder, batch 128, precision='auto' (default)":
            Estimator(AdversarialAutoencoder, X, **ARCH, **PLAIN, batch_size=128),
        PLAIN_ROW: Estimator(AdversarialAutoencoder, X, **ARCH, **PLAIN),
        GRAPH_ROW: GraphEstimator(X, **ARCH),
        "ALAE (n_neighbors=None), batch 128 (default), float32 (default)": Estimator(ALAE, X, **ARCH, **PLAIN),
        "ALAE (n_neighbors=None), batch 128 (default), precision='auto'":
            Estimator(ALAE, X, **ARCH, **PLAIN, precision="auto"),
        "matmul limit, batch 256, float32": MatmulLimit(256),
    }
    rates = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, contender in contenders.items():
            start = time.perf_counter()
            elapsed = contender.epoch()  # a contender that times itself returns its seconds
            elapsed = time.perf_counter() - start if elapsed is None else elapsed
            rates[name].append(getattr(contender, "samples", args.rows) / elapsed)
    median = {name: statistics.median(r) for name, r in rates.items()}
    limit = median["matmul limit, batch 256, float32"]
    flop = contenders["matmul limit, batch 256, float32"].flop_per_sample
    tutorial = median["tutorial, batch 64"]

    report.note(f"Data: {args.rows:,} rows x {N_FEATURES} features; median of {args.rounds} rounds. "
                f"One AAE step is {flop / 1e6:.1f} MFLOP per sample; matmul limit {limit * flop / 1e9:.0f} GFLOP/s.\n")
    report.table(["contender", "training samples/s", "vs fp32 matmul limit", "vs tutorial batch 64"])
    for name, rate in median.items():
        report.row([name, f"{rate:,.0f}", f"{rate / limit:.0%}", f"{rate / tutorial:.2f}x"], contender=name,
                   samples_per_second=rates[name])

    graph, plain = median[GRAPH_ROW], median[PLAIN_ROW]
    report.note(f"\nWith the neighbour graph the AAE trains at {graph / plain:.0%} of the plain model's samples/s.")
    model = contenders[PLAIN_ROW].model
    X_new = rng.random((50_000, N_FEATURES), dtype=np.float32)
    model.transform(X_new[:1000])
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.transform(X_new)
        times.append(time.perf_counter() - start)
    print()
    report.table(["transform", "rows/s"])
    for name, speed in (("AdversarialAutoencoder.transform, 50,000 rows", len(X_new) / min(times)),
                        ("encoder matmul limit (forward, float32)", encoder_limit())):
        report.row([name, f"{speed:,.0f}"], rows_per_second=speed)


if __name__ == "__main__":
    main()
