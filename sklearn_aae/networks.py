"""Small torch building blocks for the estimators: MLPs, encoders, seeded initialisation.

Nothing here knows about scikit-learn; the estimators assemble these modules.
"""

import math
import numbers

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "mlp", "layer_sizes", "Float32Linear", "Encoder", "reset_parameters"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


def layer_sizes(value, name="hidden_layer_sizes"):
    """A layer-sizes parameter as a tuple of widths; a scalar is one layer and ``()`` none,
    as in scikit-learn's MLPRegressor.

    Examples
    --------
    >>> from sklearn_aae.networks import layer_sizes
    >>> layer_sizes(512), layer_sizes([64, 32]), layer_sizes(())
    ((512,), (64, 32), ())
    """
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"{name} must be positive integers, got {value!r}.")
    return tuple(int(s) for s in sizes)


class Float32Linear(nn.Linear):
    """A linear layer that computes in float32 even inside a bfloat16 autocast region.

    bfloat16 keeps 8 significant bits: codes of a few units come out in steps of about
    0.01, coarser than the differences the latent losses and the discriminators must see
    (in ALAE's latent reconstruction ``‖F(z) - E(G(F(z)))‖²`` nearly all of the signal).
    Layers that read or write a code or a score are narrow and cost little, so they stay
    exact while the wide layers take the fast bfloat16 path.
    """

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.float())


def mlp(n_in, hidden_layer_sizes, n_out, activation="relu", *, float32_input=False, float32_output=False,
        float32=False):
    """A plain multi-layer perceptron ``n_in -> hidden... -> n_out`` with a linear output.

    ``float32_input=True`` / ``float32_output=True`` make the first / last layer a
    :class:`Float32Linear`, for networks that read / write a code or a score rather than
    a wide row of features; ``float32=True`` makes every layer one.

    Examples
    --------
    >>> from sklearn_aae.networks import mlp
    >>> mlp(4, (8, 8), 2)
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=8, bias=True)
      (3): ReLU()
      (4): Linear(in_features=8, out_features=2, bias=True)
    )
    """
    widths = [n_in, *hidden_layer_sizes, n_out]
    layers = []
    for i, (width, size) in enumerate(zip(widths[:-1], widths[1:])):
        exact = float32 or (i == 0 and float32_input) or (i == len(widths) - 2 and float32_output)
        layers.append((Float32Linear if exact else nn.Linear)(width, size))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """The three encoders of the AAE paper (Sec. 2) behind one interface.

    - ``'deterministic'``: z = f(x).
    - ``'gaussian'``: z = μ(x) + σ(x)·ε with ε ~ N(0, I); μ and log σ² come from one
      linear layer. The deterministic code (``sample=False``) is μ(x).
    - ``'universal'``: z = f(x, η) with η ~ N(0, I) of ``n_components`` dimensions fed as
      extra inputs. The deterministic code is f(x, 0): η at its mean (and mode).

    ``code_activation='softmax'`` turns the code into a probability vector, for one-hot
    (categorical) priors.

    ``n_classes > 0`` adds a class head: ``n_classes`` more outputs of the same last layer,
    returned as logits by :meth:`encode` beside the code (the AAE paper's Sec. 5-6 encoder
    of a style code and a class).
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, *, kind="deterministic",
                 activation="relu", code_activation=None, n_classes=0):
        super().__init__()
        self.kind = kind
        self.n_components = n_components
        self.code_activation = code_activation
        self.n_classes = n_classes
        n_in = n_features + (n_components if kind == "universal" else 0)
        n_out = 2 * n_components if kind == "gaussian" else n_components
        self.body = mlp(n_in, hidden_layer_sizes, n_out + n_classes, activation, float32_output=True)

    def forward(self, x, *, sample=True, generator=None):
        return self.encode(x, sample=sample, generator=generator)[0]

    def encode(self, x, *, sample=True, generator=None):
        """The code and the class logits (``None`` without a class head)."""
        if self.kind == "universal":
            noise = (torch.randn(x.shape[0], self.n_components, device=x.device, dtype=x.dtype,
                                 generator=generator) if sample
                     else x.new_zeros(x.shape[0], self.n_components))
            x = torch.cat([x, noise], dim=1)  # (batch, n_features + n_components)
        z = self.body(x)
        logits = None
        if self.n_classes:
            z, logits = z[:, :-self.n_classes], z[:, -self.n_classes:]  # (batch, ...), (batch, n_classes)
        if self.kind == "gaussian":
            mean, log_var = z.chunk(2, dim=1)  # each (batch, n_components)
            z = mean
            if sample:
                # Start from nearly deterministic codes (σ ≈ 0.14): with σ ≈ 1 at
                # initialisation, pure noise already matches a N(0, I) prior and the
                # encoder can settle there, ignoring x (posterior collapse).
                log_var = log_var - 4.0
                eps = torch.randn(mean.shape, device=x.device, dtype=mean.dtype, generator=generator)
                z = mean + torch.exp(0.5 * log_var) * eps
        if self.code_activation == "softmax":
            z = torch.softmax(z, dim=1)
        return z, logits


@torch.no_grad()
def reset_parameters(module, generator):
    """Re-initialise every ``nn.Linear`` like torch's default, but from ``generator``.

    torch's own initialisers draw from the global RNG; drawing from a local generator keeps
    ``random_state`` the only source of randomness, as scikit-learn estimators promise.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module
