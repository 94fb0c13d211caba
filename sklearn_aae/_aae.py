"""AdversarialAutoencoder: its networks and its training step."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAdversarialAutoencoder
from ._classifier import ClassHeadPredictions
from ._labels import resolve_label_mode
from ._losses import discriminator_step, generator_loss
from ._neighbors import refinement_schedule
from ._torch_utils import adam
from ._training import fit_decoder
from .networks import Encoder, mlp, reset_parameters

# adversarial_weight='auto': the pull of the codes to the prior against the reconstruction.
_ADVERSARIAL_WEIGHT = 0.3
# A clusterer's: its partitions are of the trained codes, and a weaker pull to the prior
# leaves wider gaps between the groups of the neighbour graph. Chosen on digits and the
# swiss roll (benchmarks/RESULTS.md, "Clustering"); the codes still match the prior.
_CLUSTERER_ADVERSARIAL_WEIGHT = 0.1


class AdversarialAutoencoder(ClassHeadPredictions, BaseAdversarialAutoencoder):
    """Adversarial autoencoder: a non-linear, generative dimensionality reducer.

    An encoder maps each row to a code in ``n_components`` dimensions and a decoder maps it
    back. Besides reconstructing its input, the encoder plays a game against a
    discriminator that tells its codes from samples of a chosen ``prior``; the codes end up
    distributed like the prior (Makhzani et al., 2016). The result is an embedding whose
    shape *you* choose (a Gaussian, a mixture, a swiss roll, ...), a ``transform`` for new
    rows, an ``inverse_transform`` back to the data, and ``sample`` to generate new rows.
    Features are standardised internally (see ``scaling``), so raw data of any units can
    go in; ``inverse_transform`` and ``sample`` return the original units and image shape.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.
    prior : {'gaussian', 'gaussian_mixture', 'swiss_roll', 'uniform', 'categorical'}, \
            Prior or callable, default='gaussian'
        Distribution the codes are pushed towards: a name, a :class:`~sklearn_aae.Prior`
        instance (subclass it for your own) or a callable
        ``f(n_samples, random_state) -> ndarray of shape (n_samples, n_components)``.
        The fitted prior object is ``prior_``.
    encoder : {'deterministic', 'gaussian', 'universal'}, default='deterministic'
        Encoder of the AAE paper, Sec. 2: ``z = f(x)``; ``z = μ(x) + σ(x)·ε``; or
        ``z = f(x, η)`` with input noise η. ``transform`` is deterministic for all three:
        it returns μ(x) for 'gaussian' and f(x, η=0) for 'universal'.
    hidden_layer_sizes : array-like of int, default=(256, 256)
        Widths of the encoder's hidden layers; the decoder uses them in reverse.
    discriminator_layer_sizes : array-like of int, default=(128, 128)
        Widths of the discriminator's hidden layers.
    activation : {'relu', 'leaky_relu', 'tanh', 'elu'}, default='relu'
        Hidden-layer activation of all networks.
    reconstruction_loss : {'mse', 'bce'}, default='mse'
        Mean squared error on standardised features, or binary cross-entropy for data in
        [0, 1] (then no standardisation and the decoder ends in a sigmoid).
    scaling : {'auto', 'feature', 'global'}, default='auto'
        Internal standardisation: 'feature' scales each feature on its own (columns in
        different units), 'global' uses one mean and scale for all (one unit: pixels,
        counts; rare features keep their small weight). 'auto' is 'global' for images
        passed as (n, h, w[, c]) arrays, else 'feature'. Ignored for 'bce'.
    adversarial_weight : float or 'auto', default='auto'
        Weight of the encoder's adversarial (generator) loss against the reconstruction
        loss: higher matches the prior more closely, lower reconstructs better. 'auto'
        is 0.3, and 0.1 for a clusterer (``n_clusters``), whose clusters are read from
        codes that the prior pulls together less (user guide, "Clustering").
    label_mode : {'prior', 'conditional', 'categorical'}, default='prior'
        What the labels ``y`` given to :meth:`fit` do (``y = -1`` marks an unlabeled
        row; without ``y`` it has no effect). 'prior': class ``k``'s codes fill region
        ``k`` of the prior (mixture component, swiss-roll segment; a named prior gets
        one region per class, priors without regions ignore ``y`` with a warning).
        'conditional': the decoder also reads the label, so the code keeps the style
        only and ``sample(y=k)`` draws class ``k`` in random styles. 'categorical': a
        softmax class head beside the style code, for semi-supervised classification
        with :meth:`predict`. See the user guide, "Labels" (AAE paper, Sec. 2.3, 4, 5).
    n_clusters : int or None, default=None
        Cluster the rows into ``n_clusters`` categories (AAE paper, Sec. 6): a
        categorical class head trained without labels, whatever ``label_mode`` says;
        like ``KMeans.fit``, ``fit`` ignores ``y``, :meth:`predict` returns cluster
        ids ``0 .. n_clusters - 1`` and :meth:`fit_predict` the training rows' ones
        (``labels_``). With ``n_neighbors=None`` a clusterer trains on the neighbour
        graph of 15 neighbours (``n_neighbors=15``): its head must agree along the
        graph's edges, which makes the clusters follow the data's neighbourhoods
        (this needs umap-learn; without it a warning says the graph is left out).
        After training, a partition of the training rows is chosen on the graph (the
        head's, or KMeans's or Ward's clustering of the codes laid out along the
        graph), and a row's cluster is
        the distance-weighted vote of its 15 nearest training rows in it, which keeps
        the training rows (user guide, "Clustering"). Empty or nearly empty clusters
        are reported with a ``ConvergenceWarning``; ``n_clusters`` larger than the
        number of rows raises ``ValueError``.
    classification_weight : float, default=1.0
        Weight of the class head's cross-entropy on labeled rows (label_mode
        'categorical').
    max_iter : int or 'auto', default='auto'
        Number of epochs (the most, with a stopping rule). 'auto' takes fewer the more
        rows there are, as umap-learn's ``n_epochs`` does: ``3000 / sqrt(n_samples)``
        epochs, times ``sqrt(batch_size / 256)``, between 20 and 200; a third as many
        (``1000 / sqrt(n_samples)``, at least 10) when new rows are placed among refined
        training codes (``transform_mode`` 'neighbors' without labels, below), whose
        refinement settles the neighbourhoods; ``7000 / sqrt(n_samples)`` for a fit on
        class labels (``y`` with ``label_mode``, not a clusterer), whose label games
        settle long after the embedding (user guide, "Training budget").
    batch_size : int or 'auto', default='auto'
        Minibatch size (capped at the number of rows; rounded down to an even number
        with ``n_neighbors``, whose minibatches are the two end points of graph edges).
        'auto' is 256, and with ``n_neighbors`` an eighth of the rows between 256 and
        1,024: the graph's loss is over the pairs of a minibatch, and on large data
        larger minibatches carry more of its edges per step. The paper's terms
        (reconstruction, the discriminators) read an evenly spaced share of about 256
        rows of such a minibatch (user guide, "Training budget").
    learning_rate_init : float, default=1e-2
        Adam learning rate of all networks at the start of a fit.
    learning_rate : {'linear', 'constant'}, default='linear'
        Step-size schedule over a fit's epochs: 'linear' decays it from
        ``learning_rate_init`` towards 0 at the last planned epoch, as umap-learn's
        does, after a warm-up over the first 30 % of the epochs that keeps the
        spectral start's layout; the discriminators keep ``learning_rate_init``, so
        the codes stay on the prior to the end. 'constant' keeps it for all networks.
        ``partial_fit`` always keeps it constant.
    alpha : float, default=0.0
        L2 penalty (weight decay) of the encoder and decoder.
    input_noise : float or 'auto', default='auto'
        Standard deviation of the Gaussian noise added to the standardised encoder input
        in training (a denoising autoencoder, which generalises better to new rows).
        'auto' measures the gap between neighbouring training rows, and takes a quarter
        of it with ``n_neighbors`` (user guide, "Data handling"); the value used is
        ``input_noise_``.
    n_neighbors : int, 'auto' or None, default='auto'
        The neighbourhood-preserving loss of parametric UMAP (Sainburg et al., 2021):
        UMAP's fuzzy graph of each row's ``n_neighbors`` nearest training rows (counting
        the row itself, as in umap-learn), built once per ``fit`` from the rows as given,
        and UMAP's cross-entropy on the codes of each minibatch, which is the two end
        points of edges drawn from the graph. Neighbourhoods of the embedding then follow
        those of the data while the prior still decides its overall shape. ``None``
        trains the plain AAE of the paper, on shuffled rows. 'auto' is 15, except for
        ``label_mode='conditional'`` fits with labels, which train without the graph:
        the code is to carry the style only, and the data's neighbourhoods are mostly
        its classes' (user guide, "Labels"). See the user guide,
        "Neighbourhood-preserving embeddings".
    neighbor_weight : float, default=1.0
        Weight of the neighbourhood loss against the reconstruction loss.
    neighbor_class_weight : float, default=1.0
        With a class head and ``n_neighbors``: weight of the class head's agreement
        along the graph's edges (a symmetric KL divergence), which spreads few labels
        along the data's neighbourhoods as ``LabelSpreading`` does. 0 turns it off.
    min_dist : float, default=0.1
        How tightly neighbours may pack, as in umap-learn.
    init : {'spectral', 'random'}, default='spectral'
        Where the embedding starts, with ``n_neighbors``: 'spectral' first fits the
        encoder to the spectral layout of the neighbour graph (umap-learn's own start,
        ``umap.spectral.spectral_layout``), scaled to the prior's mean and spread, in a
        hundred short steps; the fit then trains from there, which lays out the data's
        global structure before the local one. 'random' starts from the networks'
        random weights. No effect without ``n_neighbors``, or when a ``fit`` continues
        a model (``warm_start``) or in ``partial_fit``.
    transform_mode : {'auto', 'encoder', 'neighbors'}, default='auto'
        How :meth:`transform` places rows. 'encoder' maps each row through the encoder,
        a parametric map; the model keeps no data. 'neighbors' (with ``n_neighbors``)
        places each row among the training rows' codes as umap-learn's ``transform``
        does: held-out neighbourhoods are better, ``transform`` searches the training
        rows for each row's neighbours (exactly, or by the graph's NN-descent index
        above a few thousand rows) and is slower than the encoder's, the placed codes
        decode less well, the model keeps its training rows (float32) and
        ``partial_fit`` is not available. Without labels,
        those training codes are the encoder's refined after training by umap-learn's
        layout optimiser over the graph's edges (more epochs, at a larger step, on fewer
        rows: ``10,000 / sqrt(n_samples)`` of them, between 100 and 300, at that number
        / 1,000 of umap-learn's step size), moved back to the encoder codes' mean
        and covariance, and the decoder is fitted to them (user guide,
        "Neighbourhood-preserving embeddings"). 'auto' is
        'neighbors' for a ``fit`` with ``n_neighbors`` and 'encoder' otherwise
        (without the graph, and for ``partial_fit``); the mode in use is ``transform_mode_``
        (``benchmarks/RESULTS.md``; user guide, "Neighbourhood-preserving embeddings").
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their reconstruction
        error stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping``.
    n_iter_no_change : int, default=25
        Epochs without an improvement larger than ``tol`` before training stops.
    tol : float or None, default=None
        Minimum improvement of the monitored reconstruction loss for the stopping rule
        of ``n_iter_no_change`` epochs. ``None`` runs all the epochs of ``max_iter``
        (unless ``early_stopping``): the reconstruction loss stalls while the
        adversarial game settles, and the embedding's neighbourhoods keep improving
        after it has.
    warm_start : bool, default=False
        Continue from the previous fit's networks instead of starting afresh.
    precision : {'auto', 'float32', 'bfloat16'}, default='auto'
        Arithmetic of the training step. 'bfloat16' runs it under autocast (the
        discriminators and the layers that read or write codes stay float32). 'auto' does
        so only on hardware with native bfloat16 (CUDA GPUs that support it, CPUs with
        AVX512-BF16 or AMX), where it is faster (``benchmarks/RESULTS.md``), and
        trains in float32 elsewhere. A seed therefore gives a slightly different model
        on such hardware; 'float32' gives the same arithmetic everywhere.
    device : str or torch.device, default='auto'
        Where the networks train: 'auto' takes CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, noise and prior draws. A fixed value gives
        identical results on refit on the same device.
    verbose : bool or int, default=False
        Show a progress bar with the live losses.

    Attributes
    ----------
    prior_ : Prior
        The prior object the codes were matched to; with labels in label_mode 'prior'
        it samples class ``k``'s region with ``prior_.sample(n, y=k)``, ``k`` indexing
        ``classes_``.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit`` (without the unlabeled -1), or the cluster ids with
        ``n_clusters``; only set when labels (or ``n_clusters``) are in use.
    label_mode_ : {'prior', 'conditional', 'categorical'} or None
        The label mode in use; ``None`` when the model was fitted without labels.
    labels_ : ndarray of shape (n_samples,)
        With ``n_clusters``: the cluster of each row of the last ``fit`` (or of the
        last ``partial_fit`` chunk), equal to :meth:`predict` of those rows.
    cluster_centers_ : ndarray of shape (n_clusters, n_features) or (n_clusters, h, w[, c])
        With ``n_clusters``: each cluster's centre in the data's units and shape, the
        decoded mean code of its training rows (an empty cluster decodes the mean code
        of all rows). Not the mean of the member rows, as ``KMeans``'s is: that mean
        blends styles into a row the model may never generate, while the decoded mean
        is the cluster's typical row as the model draws it.
    encoder_, decoder_, discriminator_ : torch.nn.Module
        The trained networks.
    n_iter_, t_ : int
        Number of epochs run; number of training samples seen.
    loss_curve_ : list of float
        Reconstruction loss of each epoch (the monitored loss).
    loss_history_ : dict of str to list of float
        Per-epoch 'reconstruction', 'discriminator' and 'generator' losses; with
        ``n_neighbors``, 'neighbors' (the graph loss) and, with a class head,
        'neighbor_classes'; with a class head, 'class_discriminator' and
        'classification'.
    best_loss_ : float
        Lowest training reconstruction loss.
    validation_scores_, best_validation_score_ : list of float or None, float or None
        Negative validation reconstruction error per epoch, and its best, when
        ``early_stopping``.
    input_noise_ : float
        Input noise used in training (resolved from ``input_noise``).
    transform_mode_ : {'encoder', 'neighbors'}
        The mode :meth:`transform` uses when ``transform_mode='auto'``.
    mean_, scale_ : ndarray of shape (`n_features_in_`,)
        Internal standardisation.
    image_shape_ : tuple or None
        Shape of one image when fitted on images, else None.
    device_ : torch.device
        Device the networks live on.
    n_features_in_ : int
        Number of features (pixels for images) seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X was a DataFrame with string column names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.manifold.TSNE : Non-parametric embedding without ``transform``.
    ALAE : Adversarial latent autoencoder.
    sklearn.semi_supervised.LabelSpreading : Semi-supervised classification on a graph.

    Notes
    -----
    Each minibatch first updates the discriminator on prior samples (label real) against
    the current codes (label fake), then takes one step of the encoder and decoder on
    ``reconstruction + adversarial_weight * generator`` loss, the generator loss being
    the non-saturating ``softplus(-D(z))``. Folding the paper's reconstruction and
    regularisation phases into one encoder step halves the passes through the encoder.
    With label_mode 'categorical' the class head's discriminator and the cross-entropy
    of labeled rows join the same two steps.

    Labels follow scikit-learn's semi-supervised convention: -1 marks an unlabeled row.
    String labels work too; mark their unlabeled rows with -1 in an object array (as
    for :class:`~sklearn.semi_supervised.SelfTrainingClassifier`) or '-1'.

    References
    ----------
    Makhzani, A., Shlens, J., Jaitly, N., Goodfellow, I., & Frey, B. (2016).
    Adversarial Autoencoders. ICLR workshop, arXiv:1511.05644.

    Sainburg, T., McInnes, L., & Gentner, T. Q. (2021). Parametric UMAP Embeddings for
    Representation and Semisupervised Learning. Neural Computation, 33(11), 2881-2907.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_aae import AdversarialAutoencoder
    >>> X, y = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(prior="swiss_roll", max_iter=2, random_state=0)
    >>> Z = aae.fit_transform(X[:200])
    >>> Z.shape
    (200, 2)
    >>> aae.sample(3).shape
    (3, 64)

    With labels, each digit class gets its own segment of the roll, and ``sample``
    generates a chosen class:

    >>> aae = AdversarialAutoencoder(prior="swiss_roll", max_iter=2, random_state=0)
    >>> aae.fit(X[:200], y[:200]).sample(4, y=3).shape
    (4, 64)
    """

    _parameter_constraints: dict = {
        **BaseAdversarialAutoencoder._parameter_constraints,
        "encoder": [StrOptions({"deterministic", "gaussian", "universal"})],
        "adversarial_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "label_mode": [StrOptions({"prior", "conditional", "categorical"})],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "classification_weight": [Interval(Real, 0, None, closed="left")],
        "neighbor_class_weight": [Interval(Real, 0, None, closed="left")],
    }
    # learning_rate='linear' decays the autoencoder's steps only (_training.set_learning_rate).
    _CONSTANT_RATE_OPTIMIZERS = ("discriminator_optimizer_", "class_discriminator_optimizer_")
    _REFINES_PLACEMENT = True

    def __init__(
        self,
        n_components=2,
        *,
        prior="gaussian",
        encoder="deterministic",
        hidden_layer_sizes=(256, 256),
        discriminator_layer_sizes=(128, 128),
        activation="relu",
        reconstruction_loss="mse",
        scaling="auto",
        adversarial_weight="auto",
        label_mode="prior",
        n_clusters=None,
        classification_weight=1.0,
        max_iter="auto",
        batch_size="auto",
        learning_rate_init=1e-2,
        learning_rate="linear",
        alpha=0.0,
        input_noise="auto",
        n_neighbors="auto",
        neighbor_weight=1.0,
        neighbor_class_weight=1.0,
        min_dist=0.1,
        init="spectral",
        transform_mode="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=25,
        tol=None,
        warm_start=False,
        precision="auto",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.prior = prior
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_layer_sizes = discriminator_layer_sizes
        self.activation = activation
        self.reconstruction_loss = reconstruction_loss
        self.scaling = scaling
        self.adversarial_weight = adversarial_weight
        self.label_mode = label_mode
        self.n_clusters = n_clusters
        self.classification_weight = classification_weight
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.input_noise = input_noise
        self.n_neighbors = n_neighbors
        self.neighbor_weight = neighbor_weight
        self.neighbor_class_weight = neighbor_class_weight
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

    _state_parameters = BaseAdversarialAutoencoder._state_parameters + ("encoder", "label_mode", "n_clusters")

    def _resolve_labels(self, y, n_samples):
        return resolve_label_mode(self, y, n_samples)

    def _discriminator_hidden(self):
        return self._layer_sizes("discriminator_layer_sizes")

    def _build(self, n_features, generator):
        hidden = self._layer_sizes("hidden_layer_sizes")
        mode = self._label_mode
        self.encoder_ = reset_parameters(
            Encoder(n_features, hidden, self.n_components, kind=self.encoder, activation=self.activation,
                    code_activation=self.prior_.code_activation, n_classes=mode.head_size), generator)
        # The decoder reads the label mode's content (a label, class probabilities) beside
        # the code, and the discriminator its condition (a label).
        self.decoder_ = reset_parameters(
            mlp(self.n_components + mode.content_size, hidden[::-1], n_features, self.activation,
                float32_input=True), generator)
        # The discriminators stay float32 under bfloat16 autocast: prior matching depends
        # on their fine judgement, and they are small.
        self.discriminator_ = reset_parameters(
            mlp(self.n_components + mode.condition_size, self._discriminator_hidden(), 1, self.activation,
                float32=True), generator)
        self.autoencoder_optimizer_ = adam(
            [*self.encoder_.parameters(), *self.decoder_.parameters()], self.learning_rate_init,
            weight_decay=self.alpha)
        # β1 = 0.5 is the usual choice for adversarial players: less momentum, less orbiting.
        self.discriminator_optimizer_ = adam(self.discriminator_.parameters(), self.learning_rate_init,
                                             betas=(0.5, 0.999))
        mode.build(self, generator)

    def _placement_codes(self, graph, codes):
        """The encoder's training codes refined by the graph (``NeighborGraph.refine_layout``,
        for as many epochs as ``refinement_schedule`` gives these rows), and the decoder
        fitted to them (``_training.fit_decoder``).

        With labels the encoder's codes are kept (``_refines_placement``): they also
        place each class in its region, which a polish by the graph alone would undo.
        """
        epochs, learning_rate = refinement_schedule(codes.shape[0])
        codes = graph.refine_layout(codes, self._rng, epochs=epochs, learning_rate=learning_rate)
        fit_decoder(self, graph.X, codes)
        return codes

    def _adversarial_weight(self):
        """``adversarial_weight``, with 'auto' resolved for this model."""
        if self.adversarial_weight != "auto":
            return self.adversarial_weight
        return _CLUSTERER_ADVERSARIAL_WEIGHT if self.n_clusters is not None else _ADVERSARIAL_WEIGHT

    def _train_step(self, X, Z_prior, y=None, rows=None):
        mode = self._label_mode
        Z, logits = self.encoder_.encode(self._corrupt(X), generator=self._generator)  # (batch, n_components)
        # The paper's terms read a share of a large minibatch of graph edges (NeighborTerm.paper_rows).
        part = slice(None) if self._neighbor_term is None else self._neighbor_term.paper_rows(Z.shape[0])
        X, Z_part = X[part], Z[part]
        y_part = None if y is None else y[part]
        condition = mode.condition(y_part)

        # Regularisation, discriminator(s): prior samples are "real", codes are "fake".
        discriminator_loss = discriminator_step(self.discriminator_, self.discriminator_optimizer_, Z_prior[part],
                                                Z_part, condition)
        head = mode.update_head(self, None if logits is None else logits[part])

        # Reconstruction and the encoder's generator loss, in one step, with the label
        # mode's and the neighbour graph's terms.
        reconstruction = self._reconstruction_loss(
            self.decoder_(mode.decoder_input(Z_part, y_part, None if head is None else head["proba"])), X)
        generator = generator_loss(self.discriminator_, Z_part, condition)
        loss = reconstruction + self._adversarial_weight() * generator
        head_terms, head_losses = mode.head_losses(self, head, logits, y)
        for term in head_terms:
            loss = loss + term
        neighbor_losses = {}
        if self._neighbor_term is not None:
            neighbor_losses = self._neighbor_term.losses(Z, logits, rows)
            loss = loss + self.neighbor_weight * neighbor_losses["neighbors"]
            if "neighbor_classes" in neighbor_losses:
                loss = loss + self.neighbor_class_weight * neighbor_losses["neighbor_classes"]
        self.autoencoder_optimizer_.zero_grad(set_to_none=True)
        loss.backward()
        self.autoencoder_optimizer_.step()
        return {"reconstruction": reconstruction, "discriminator": discriminator_loss, "generator": generator,
                **neighbor_losses, **head_losses}

    def _encode(self, X):
        return self.encoder_(X, sample=False)

    def _decode(self, Z, labels=None):
        return self.decoder_(self._label_mode.decoder_input(Z, labels))

    def _reconstruct(self, X):
        Z, logits = self.encoder_.encode(X, sample=False)
        proba = None if logits is None else torch.softmax(logits, dim=1)
        return self.decoder_(self._label_mode.decoder_input(Z, proba=proba))

    def _decoded_rows(self, Z, labels):
        """Rows in the data's units decoded from codes ``Z`` of the classes ``labels``."""
        return self._rows_from(self._decode, Z, labels)
