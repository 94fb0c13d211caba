"""ALAE: the adversarial latent autoencoder, its four networks and its three updates."""

import contextlib
import copy
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import BaseAdversarialAutoencoder
from ._torch_utils import adam
from .networks import mlp, reset_parameters


class ALAE(BaseAdversarialAutoencoder):
    """Adversarial latent autoencoder (Pidhorskyi et al., 2020) as a transformer.

    Four networks: a mapping ``F: z -> w`` from prior samples to the intermediate latent
    space, a generator ``G: w -> x``, an encoder ``E: x -> w`` and a discriminator
    ``D: w -> score`` that judges rows through the encoder's eyes. Each minibatch takes
    three steps:

    - E and D: ``softplus(D(E(G(F(z))))) + softplus(-D(E(x))) + r1_gamma / 2 · ‖∇ₓ D(E(x))‖²``;
    - F and G: ``softplus(-D(E(G(F(z)))))``;
    - E and G: ``‖F(z) - E(G(F(z)))‖²``, reconstruction in the latent space.

    ``transform`` returns ``w = E(x)``, ``inverse_transform`` returns ``G(w)`` and
    ``sample`` returns ``G(F(z))`` with ``z`` drawn from ``prior``. Unlike the
    :class:`AdversarialAutoencoder`, the prior shapes ``z``, not the embedding: ``w`` is
    learned, so ``prior='swiss_roll'`` does not make the embedding a swiss roll. And since
    pixels are never reconstructed directly, ``inverse_transform(transform(X))`` is
    looser than an AAE's; ``score`` measures it. ALAE has no label modes: ``fit(X, y)``
    ignores ``y`` (so it fits in a ``Pipeline`` that passes labels), and ``sample`` takes
    no ``y``.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the embedding ``w``.
    prior : {'gaussian', 'gaussian_mixture', 'swiss_roll', 'uniform', 'categorical'}, \
            Prior or callable, default='gaussian'
        Distribution of ``z``, in ``latent_dim`` dimensions (see
        :class:`AdversarialAutoencoder` for the forms accepted).
    latent_dim : int or None, default=None
        Dimension of ``z``; ``None`` uses ``n_components``.
    mapping_layers : int, default=3
        Number of linear layers of ``F``; its hidden widths are
        ``hidden_layer_sizes[-1]``.
    hidden_layer_sizes : array-like of int, default=(512, 512)
        Hidden widths of ``E``; ``G`` uses them in reverse.
    discriminator_layer_sizes : array-like of int, default=(256, 256)
        Hidden widths of ``D``.
    r1_gamma : float, default=10.0
        Weight γ of the R1 gradient penalty on real rows.
    ema_decay : float or None, default=0.99
        Keep exponential moving averages of F's and G's weights (``mapping_ema_``,
        ``generator_ema_``), updated after every minibatch with this decay, and let
        :meth:`sample` use them, as the paper does. ``None`` samples with the live
        networks. Averaging brings samples closer to held-out rows; a decay too close to
        1 averages over most of a short training and brings early, poor networks in
        (``benchmarks/RESULTS.md``, ALAE weight averaging).
    activation : {'relu', 'leaky_relu', 'tanh', 'elu'}, default='leaky_relu'
        Hidden activation of all networks (the paper uses LeakyReLU(0.2)).
    reconstruction_loss : {'mse', 'bce'}, default='mse'
        How ``score`` measures reconstructions; with 'bce' data must be in [0, 1] and
        ``G`` ends in a sigmoid.
    scaling : {'auto', 'feature', 'global'}, default='auto'
        Internal standardisation, as in :class:`AdversarialAutoencoder`.
    max_iter : int or 'auto', default=150
        Number of epochs (all of them unless ``tol`` or ``early_stopping`` stop earlier);
        'auto' as in :class:`AdversarialAutoencoder`.
    batch_size : int or 'auto', default=128
        Minibatch size (capped at the number of rows; even with ``n_neighbors``). 'auto'
        follows the rule of :class:`AdversarialAutoencoder`.
    learning_rate_init : float, default=5e-4
        Adam learning rate of all networks, with β = (0, 0.99) as in the paper. The
        paper's 0.002 suits 60,000 MNIST rows; on small data sets (a few thousand rows)
        the lower default gives better codes.
    learning_rate : {'constant', 'linear'}, default='constant'
        Step-size schedule over a fit's epochs: 'linear' decays it towards 0 at the last
        planned epoch (see :class:`AdversarialAutoencoder`).
    alpha : float, default=0.0
        L2 penalty (weight decay) of all networks.
    input_noise : float, default=0.0
        Gaussian noise added to real rows before the encoder during training.
    tol : float or None, default=None
        Stop when the latent reconstruction loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. ``None`` runs all ``max_iter`` epochs: in ALAE's
        three-player game no loss settles when training is done, and stopping on the
        latent loss ends training early, with worse codes.
    n_neighbors : int, 'auto' or None, default=15
        UMAP's neighbour-graph loss on the embedding ``w = E(x)``, added to the encoder's
        step with the discriminator, so that neighbourhoods of ``w`` follow those of the
        data (see :class:`AdversarialAutoencoder`). It makes the codes far better for
        nearest-neighbour and linear models, for a looser reconstruction and a longer
        fit (``benchmarks/RESULTS.md``). ``None`` trains the paper's plain ALAE; 'auto'
        is 15 (ALAE has no labels to change it).
    neighbor_weight : float, default=1.0
        Weight of the neighbourhood loss in that step.
    min_dist : float, default=0.1
        How tightly neighbours may pack in ``w``, as in umap-learn.
    init : {'spectral', 'random'}, default='spectral'
        Where the embedding starts, with ``n_neighbors``: 'spectral' first fits the
        encoder to the spectral layout of the neighbour graph (umap-learn's own start,
        ``umap.spectral.spectral_layout``), standardised, in a hundred short steps;
        the fit then trains from there, which lays out the data's global structure
        before the local one. 'random' starts from the networks' random weights. No
        effect without ``n_neighbors``, or when a ``fit`` continues a model
        (``warm_start``) or in ``partial_fit``.
    transform_mode : {'auto', 'encoder', 'neighbors'}, default='auto'
        How :meth:`transform` places rows: through the encoder E, or (with
        ``n_neighbors``) among the training rows' codes as umap-learn's ``transform``
        does, keeping the training rows; 'auto' as in :class:`AdversarialAutoencoder`
        (placed with the graph on a whole ``fit``).
    precision : {'float32', 'auto', 'bfloat16'}, default='float32'
        Arithmetic of the training step, as in :class:`AdversarialAutoencoder`, but
        float32 by default: ALAE's game with the R1 penalty loses accuracy under bfloat16
        autocast even with its sensitive parts kept in float32, while the
        AdversarialAutoencoder does not (``benchmarks/precision.py``). 'auto' trains
        faster where the hardware has native bfloat16.
    early_stopping, validation_fraction, n_iter_no_change, warm_start, \
device, random_state, verbose
        As in :class:`AdversarialAutoencoder`; ``early_stopping`` watches the held-out
        pixel reconstruction error.

    Attributes
    ----------
    prior_ : Prior
        The distribution of ``z``.
    mapping_, generator_, encoder_, discriminator_ : torch.nn.Module
        F, G, E and D.
    mapping_ema_, generator_ema_ : torch.nn.Module
        Moving averages of F and G used by :meth:`sample` (when ``ema_decay`` is set).
    loss_curve_ : list of float
        Latent reconstruction loss ``‖F(z) - E(G(F(z)))‖²`` of each epoch.
    loss_history_ : dict of str to list of float
        Per-epoch 'latent', 'discriminator', 'generator' and 'reconstruction' (pixel
        reconstruction of the training rows, measured, not trained) losses, and
        'neighbors' when ``n_neighbors`` is set.
    n_iter_, t_, best_loss_, validation_scores_, best_validation_score_, mean_, \
scale_, image_shape_, device_, n_features_in_, feature_names_in_
        As in :class:`AdversarialAutoencoder`.

    See Also
    --------
    AdversarialAutoencoder : Matches the embedding itself to a chosen prior.

    References
    ----------
    Pidhorskyi, S., Adjeroh, D. A., & Doretto, G. (2020). Adversarial Latent Autoencoders.
    CVPR, arXiv:2004.04467.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import ALAE
    >>> X, y = load_digits(return_X_y=True)
    >>> alae = ALAE(n_components=8, max_iter=2, random_state=0).fit(X[:200])
    >>> alae.transform(X[:5]).shape
    (5, 8)
    >>> alae.sample(3).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        **BaseAdversarialAutoencoder._parameter_constraints,
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "mapping_layers": [Interval(Integral, 1, None, closed="left")],
        "r1_gamma": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
    }
    _feature_names_prefix = "alae"
    _monitored_loss = "latent"
    # The embedding w is not matched to the prior, so it may take umap-learn's scale.
    _embedding_matches_prior = False
    _state_parameters = BaseAdversarialAutoencoder._state_parameters + ("latent_dim", "mapping_layers", "ema_decay")

    def __init__(
        self,
        n_components=2,
        *,
        prior="gaussian",
        latent_dim=None,
        mapping_layers=3,
        hidden_layer_sizes=(512, 512),
        discriminator_layer_sizes=(256, 256),
        r1_gamma=10.0,
        ema_decay=0.99,
        activation="leaky_relu",
        reconstruction_loss="mse",
        scaling="auto",
        max_iter=150,
        batch_size=128,
        learning_rate_init=5e-4,
        learning_rate="constant",
        alpha=0.0,
        input_noise=0.0,
        n_neighbors=15,
        neighbor_weight=1.0,
        min_dist=0.1,
        init="spectral",
        transform_mode="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=25,
        tol=None,
        warm_start=False,
        precision="float32",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.prior = prior
        self.latent_dim = latent_dim
        self.mapping_layers = mapping_layers
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_layer_sizes = discriminator_layer_sizes
        self.r1_gamma = r1_gamma
        self.ema_decay = ema_decay
        self.activation = activation
        self.reconstruction_loss = reconstruction_loss
        self.scaling = scaling
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.input_noise = input_noise
        self.n_neighbors = n_neighbors
        self.neighbor_weight = neighbor_weight
        self.min_dist = min_dist
        self.init = init
        self.transform_mode = transform_mode
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _prior_dimension(self):
        return self.n_components if self.latent_dim is None else self.latent_dim

    def _build(self, n_features, generator):
        hidden = self._layer_sizes("hidden_layer_sizes")
        z_dim, w_dim = self._prior_dimension(), self.n_components
        mapping_hidden = (hidden[-1],) * (self.mapping_layers - 1)
        # Layers that read or write codes and scores, and the small discriminator, stay
        # float32 under bfloat16 autocast (see AdversarialAutoencoder._build).
        self.mapping_ = reset_parameters(
            mlp(z_dim, mapping_hidden, w_dim, self.activation, float32_input=True, float32_output=True), generator)
        self.generator_ = reset_parameters(
            mlp(w_dim, hidden[::-1], n_features, self.activation, float32_input=True), generator)
        self.encoder_ = reset_parameters(
            mlp(n_features, hidden, w_dim, self.activation, float32_output=True), generator)
        self.discriminator_ = reset_parameters(
            mlp(w_dim, self._layer_sizes("discriminator_layer_sizes"), 1, self.activation, float32=True), generator)
        if self.ema_decay is not None:
            # Slowly moving copies of F and G, used by sample(): averaging the weights
            # smooths the oscillation of the adversarial game (Karras et al., as in ALAE).
            self.mapping_ema_ = copy.deepcopy(self.mapping_).requires_grad_(False)
            self.generator_ema_ = copy.deepcopy(self.generator_).requires_grad_(False)
        # Two optimizers as in the paper's code: one for E and D, one for F and G; the
        # latent-reconstruction step steps both, and only E and G then have gradients.
        betas = (0.0, 0.99)
        self.encoder_optimizer_ = adam([*self.encoder_.parameters(), *self.discriminator_.parameters()],
                                       self.learning_rate_init, betas=betas, weight_decay=self.alpha)
        self.generator_optimizer_ = adam([*self.mapping_.parameters(), *self.generator_.parameters()],
                                         self.learning_rate_init, betas=betas, weight_decay=self.alpha)

    def _critic(self, X):
        return self.discriminator_(self.encoder_(X))  # (batch, 1)

    def _train_step(self, X, Z_prior, y=None, rows=None):
        losses = self._update_encoder_discriminator(X, Z_prior, rows)
        losses["generator"] = self._update_mapping_generator(Z_prior)
        losses["latent"] = self._update_latent_cycle(Z_prior)
        with torch.no_grad():
            # Measured, not trained: ALAE never reconstructs pixels directly.
            losses["reconstruction"] = self._reconstruction_loss(self.generator_(self.encoder_(X)), X)
            self._update_averages()
        order = ("latent", "discriminator", "generator", "reconstruction", "neighbors")
        return {name: losses[name] for name in order if name in losses}

    def _update_encoder_discriminator(self, X, Z_prior, rows):
        """E and D: fake rows are G(F(z)); R1 penalises D∘E's slope at real rows."""
        with torch.no_grad():
            fake = self.generator_(self.mapping_(Z_prior))
        real = self._corrupt(X).requires_grad_(self.r1_gamma > 0)
        # R1 differentiates D∘E once more, and under bfloat16 autocast that costs the
        # codes' quality, so the real rows' pass runs in float32.
        in_float32 = torch.autocast(X.device.type, enabled=False) if self.r1_gamma > 0 else contextlib.nullcontext()
        with in_float32:
            W_real = self.encoder_(real)  # (batch, n_components)
            real_score = self.discriminator_(W_real)
        discriminator_loss = F.softplus(self._critic(fake)).mean() + F.softplus(-real_score).mean()
        penalty = 0.0
        if self.r1_gamma > 0:
            (slope,) = torch.autograd.grad(real_score.sum(), real, create_graph=True)
            penalty = 0.5 * self.r1_gamma * slope.float().pow(2).sum(dim=1).mean()
        loss = discriminator_loss + penalty
        losses = {"discriminator": discriminator_loss}
        if self._neighbor_term is not None:
            # E alone shapes the embedding w, so its step with D carries the graph loss.
            losses.update(self._neighbor_term.losses(W_real, None, rows))
            loss = loss + self.neighbor_weight * losses["neighbors"]
        self.encoder_optimizer_.zero_grad(set_to_none=True)
        loss.backward()
        self.encoder_optimizer_.step()
        return losses

    def _update_mapping_generator(self, Z_prior):
        """F and G: make D∘E call generated rows real."""
        self._freeze(self.encoder_, self.discriminator_)
        generator_loss = F.softplus(-self._critic(self.generator_(self.mapping_(Z_prior)))).mean()
        self.generator_optimizer_.zero_grad(set_to_none=True)
        generator_loss.backward()
        self.generator_optimizer_.step()
        self._freeze(self.encoder_, self.discriminator_, frozen=False)
        return generator_loss

    def _update_latent_cycle(self, Z_prior):
        """E and G: reconstruct w = F(z) through G and back through E."""
        optimizers = (self.encoder_optimizer_, self.generator_optimizer_)
        with torch.no_grad():
            w = self.mapping_(Z_prior)  # (batch, n_components)
        latent_loss = F.mse_loss(self.encoder_(self.generator_(w)), w)
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        latent_loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        return latent_loss

    def _update_averages(self):
        """Move the averaged copies of F and G towards the live networks."""
        if self.ema_decay is None:
            return
        for average, live in ((self.mapping_ema_, self.mapping_), (self.generator_ema_, self.generator_)):
            for p_average, p_live in zip(average.parameters(), live.parameters()):
                p_average.lerp_(p_live, 1.0 - self.ema_decay)

    @staticmethod
    def _freeze(*modules, frozen=True):
        for module in modules:
            module.requires_grad_(not frozen)

    def _encode(self, X):
        return self.encoder_(X)

    def _decode(self, W):
        return self.generator_(W)

    def _generate(self, Z):
        if self.ema_decay is not None:
            return self.generator_ema_(self.mapping_ema_(Z))
        return self.generator_(self.mapping_(Z))
