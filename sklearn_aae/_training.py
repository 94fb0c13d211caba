"""The epoch loop: minibatches, histories, stopping rules, best weights.

Its vocabulary and rules are MLPRegressor's: ``max_iter`` epochs, ``n_iter_``, ``t_``,
``loss_curve_``, ``best_loss_``, ``tol`` with ``n_iter_no_change``, early stopping on a
held-out share with the best weights restored, a ConvergenceWarning at ``max_iter`` and a
clean stop on Ctrl-C. A training step returns a dict of named losses; the names become
the keys of ``loss_history_``, so no history can be mislabelled by position.

An epoch is all or nothing: if one fails (a divergence, an exception from a user's
prior, Ctrl-C), the model goes back to the :class:`Checkpoint` of the last completed one.
"""

import copy
import logging
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from ._data import INFERENCE_CHUNK
from ._torch_utils import autocast

logger = logging.getLogger(__name__)


_AUTO_BATCH, _AUTO_BATCH_MAX = 256, 1024
_AUTO_BATCHES_PER_EPOCH = 8

# max_iter="auto": 85 epochs of 1,257 rows (digits, minibatches of 256), 60 of 10,000
# (minibatches of 1,024 with the graph), 20 from 100,000 up. A fit whose training codes
# are refined for placement (NeighborGraph.refine_layout) takes a third as many: the
# refinement settles each row's neighbourhood, so the encoder's epochs need only lay out
# the global arrangement (28 on digits).
_AUTO_EPOCH_SCALE = 3000
_AUTO_EPOCH_SCALE_REFINED = 1000
_AUTO_EPOCHS_MIN, _AUTO_EPOCHS_MAX = 20, 200
# A refined fit's minimum: on large data the refinement's per-edge steps, not the
# network's epochs, bring the codes to their neighbourhoods.
_AUTO_EPOCHS_MIN_REFINED = 10
# A fit on class labels also plays the label machinery's games (a discriminator that sees
# the label, a class head's), which settle long after the embedding: with the plain
# scale's epochs, samples of a class were often of another, and placement and generation
# kept improving up to about 200 epochs on digits (benchmarks/RESULTS.md, "labels.py").
# Such a fit takes this scale instead (197 epochs on digits).
_AUTO_EPOCH_SCALE_LABELS = 7000


def planned_epochs(max_iter, n_samples, batch_size=_AUTO_BATCH, refined=False, labels=False):
    """The number of epochs of a fit: ``max_iter``, or with 'auto' fewer the more rows there are.

    'auto' is ``_AUTO_EPOCH_SCALE / sqrt(n_samples)`` epochs (``_AUTO_EPOCH_SCALE_REFINED``
    when the fit's training codes are ``refined`` for placement,
    ``_AUTO_EPOCH_SCALE_LABELS`` when it trains on class ``labels``), times
    ``sqrt(batch_size / 256)``, between ``_AUTO_EPOCHS_MIN`` (``_AUTO_EPOCHS_MIN_REFINED``
    for a refined fit) and ``_AUTO_EPOCHS_MAX``: an
    epoch of many rows takes many optimizer steps, and a parametric model needs far fewer
    passes over large data than over small data; an epoch of larger minibatches takes
    fewer steps, so it gets some of them back.

    Examples
    --------
    >>> from sklearn_aae._training import planned_epochs
    >>> planned_epochs("auto", 1257), planned_epochs("auto", 1257, refined=True), planned_epochs(7, 1257)
    (85, 28, 7)
    >>> planned_epochs("auto", 1257, labels=True)
    197
    """
    if max_iter != "auto":
        return max_iter
    scale, least = (_AUTO_EPOCH_SCALE_REFINED, _AUTO_EPOCHS_MIN_REFINED) if refined else \
        (_AUTO_EPOCH_SCALE_LABELS if labels else _AUTO_EPOCH_SCALE, _AUTO_EPOCHS_MIN)
    epochs = scale / np.sqrt(n_samples) * np.sqrt(batch_size / _AUTO_BATCH)
    return int(np.clip(round(epochs), least, _AUTO_EPOCHS_MAX))


def planned_batch_size(estimator, n_rows):
    """The minibatch size of an epoch over ``n_rows`` rows: ``batch_size``, or for 'auto'
    ``_AUTO_BATCH`` rows, and with the neighbour graph ``n_rows / _AUTO_BATCHES_PER_EPOCH``
    between ``_AUTO_BATCH`` and ``_AUTO_BATCH_MAX``.

    Never more than the rows; even with the graph, whose minibatches are the two end points
    of ``batch_size // 2`` edges. The graph's loss is over pairs of a minibatch: larger
    ones carry more of its edges per step, and on large data a step of many edges is
    worth more than several small ones.
    """
    graph = estimator._neighbor_term is not None
    size = estimator.batch_size
    if size == "auto":
        size = _AUTO_BATCH
        if graph:
            size = int(np.clip(n_rows // _AUTO_BATCHES_PER_EPOCH, _AUTO_BATCH, _AUTO_BATCH_MAX))
    size = min(size, n_rows)
    return 2 * max(1, size // 2) if graph else size



def regression_steps(estimator, network, n_rows, loss, *, steps, batch_size, learning_rate):
    """``steps`` Adam steps of ``network`` alone (an Adam of its own) on ``loss(idx)``, the
    loss of a random minibatch ``idx`` of ``batch_size`` of ``n_rows`` rows (at most all of
    them), under the estimator's autocast; returns the last step's loss."""
    device = estimator.device_
    optimizer = torch.optim.Adam([p for p in network.parameters() if p.requires_grad], lr=learning_rate)
    batch_size = min(batch_size, n_rows)
    for _ in range(steps):
        idx = torch.randint(n_rows, (batch_size,), generator=estimator._generator, device=device)
        with autocast(device, estimator._autocast_dtype):
            value = loss(idx)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
    return value


# init='spectral': Adam steps of the encoder alone towards the start's codes, their
# minibatch size and step size. A start need only be close: the fit's own steps refine it.
_START_STEPS = 100
_START_BATCH = 512
_START_LEARNING_RATE = 3e-3


def fit_codes(estimator, data, targets):
    """Move the encoder's codes of the training rows towards ``targets`` (a start).

    ``_START_STEPS`` minibatches of the training rows, with the fit's input noise, regress
    the codes on ``targets`` (mean squared error) with an Adam of their own; the fit's
    optimizers are left as they were.

    Parameters
    ----------
    estimator : BaseAdversarialAutoencoder
        A model whose networks are built, before its first epoch.
    data : TrainingData
        The fit's training rows.
    targets : ndarray of shape (len(data), n_components)
        The codes to start from, in the order of ``data``.
    """
    targets = torch.as_tensor(targets, dtype=torch.float32, device=estimator.device_)

    def minibatch_loss(idx):
        return (estimator._encode(estimator._corrupt(data.batch(idx))).float() - targets[idx]).square().mean()

    estimator._set_training(True)
    loss = regression_steps(estimator, estimator.encoder_, len(data), minibatch_loss, steps=_START_STEPS,
                            batch_size=_START_BATCH, learning_rate=_START_LEARNING_RATE)
    if not torch.isfinite(loss):
        raise FloatingPointError(f"{type(estimator).__name__}: the spectral start diverged. "
                                 f"{divergence_cause(estimator, data)}")


# The decoder's steps on refined training codes (fit_decoder): Adam steps of this many
# minibatches of this size, at this step size, for the decoder alone.
_DECODER_STEPS = 100
_DECODER_BATCH = 256
_DECODER_LEARNING_RATE = 3e-3


def fit_decoder(estimator, X, codes):
    """Fit the decoder to reconstruct the rows ``X`` from ``codes``, their new codes.

    After the training codes are refined for placement (``NeighborGraph.refine_layout``),
    they are no longer the codes the decoder was trained on; ``_DECODER_STEPS`` minibatches
    of the rows regress the decoder's output from them on the rows (the fit's
    reconstruction loss), with an Adam of its own, so that ``inverse_transform`` of placed
    codes decodes what they place. The encoder and the fit's optimizers are left as they
    were; if a step fails, the decoder goes back to its weights before the first.

    Parameters
    ----------
    estimator : AdversarialAutoencoder
        A fitted model without labels.
    X : ndarray of shape (n_samples, n_features)
        The training rows, in the data's units.
    codes : ndarray of shape (n_samples, n_components)
        Their codes.
    """
    device = estimator.device_
    X = estimator._tensor(estimator._standardise(X))
    codes = torch.as_tensor(codes, dtype=torch.float32, device=device)
    decoder = estimator.decoder_
    before = copy.deepcopy(decoder.state_dict())

    def minibatch_loss(idx):
        return estimator._reconstruction_loss(estimator._decode(codes[idx]).float(), X[idx])

    estimator._set_training(True)
    try:
        loss = regression_steps(estimator, decoder, X.shape[0], minibatch_loss, steps=_DECODER_STEPS,
                                batch_size=_DECODER_BATCH, learning_rate=_DECODER_LEARNING_RATE)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{type(estimator).__name__}: the decoder's steps on the refined training "
                                     f"codes diverged. {divergence_cause(estimator, None)}")
    except BaseException:
        decoder.load_state_dict(before)
        raise
    finally:
        estimator._set_training(False)


# learning_rate='linear': the share of a fit's planned epochs over which the step size
# first ramps up. Adam's first steps move every weight by the full step size at once; at
# full size they undo the spectral start within an epoch (a swiss roll's unrolled layout
# came back folded), and the fit never recovers the global arrangement.
_WARMUP_SHARE = 0.3


def set_learning_rate(estimator, epoch, n_epochs, incremental):
    """The step size of every optimizer for epoch ``epoch`` (0-based) of ``n_epochs``.

    learning_rate='linear' decays it from ``learning_rate_init`` towards 0 over the fit,
    as umap-learn's does over its epochs: large steps find the layout, small ones settle
    it. Over the first ``_WARMUP_SHARE`` of the epochs the decayed rate is also scaled by
    ``(epoch + 1) / warm-up epochs`` (a warm-up), so the start is refined, not replaced.
    The optimizers the estimator names in ``_CONSTANT_RATE_OPTIMIZERS`` (the AAE's
    discriminators) keep ``learning_rate_init`` throughout, two time scales as in GAN
    training: a discriminator that slowed down with the autoencoder would let the codes
    drift from the prior over the last epochs, when the layout is settled.
    A ``partial_fit`` call has no end in sight and keeps the initial step size.
    """
    rate = estimator.learning_rate_init
    if estimator.learning_rate == "linear" and not incremental:
        warmup_epochs = max(1.0, _WARMUP_SHARE * n_epochs)
        rate *= (1.0 - epoch / n_epochs) * min(1.0, (epoch + 1) / warmup_epochs)
    for name, value in vars(estimator).items():
        if isinstance(value, torch.optim.Optimizer):
            constant = name in estimator._CONSTANT_RATE_OPTIMIZERS
            for group in value.param_groups:
                group["lr"] = estimator.learning_rate_init if constant else rate


def run_epochs(estimator, data, n_epochs, *, incremental, validation_score=None):
    """Train ``estimator`` for up to ``n_epochs`` passes over ``data`` (a TrainingData).

    ``validation_score``, with early stopping, returns the held-out score after an epoch.
    """
    # One tick per row, not per epoch: on large data the bar shows rows/s and the time
    # left within the first epoch.
    rows_per_epoch = len(data) if estimator._neighbor_term is None else estimator._neighbor_term.rows_per_epoch(
        len(data), planned_batch_size(estimator, len(data)))
    progress = tqdm(total=n_epochs * rows_per_epoch, desc=f"{type(estimator).__name__} training", unit="rows",
                    unit_scale=True, disable=not estimator.verbose)
    converged = False
    checkpoint = Checkpoint(estimator)
    try:
        for epoch in range(n_epochs):
            set_learning_rate(estimator, epoch, n_epochs, incremental)
            losses = run_epoch(estimator, data, progress)
            record_epoch(estimator, losses, validation_score, progress, data)
            checkpoint = Checkpoint(estimator)
            watching = estimator.tol is not None or estimator.early_stopping
            if not incremental and watching and estimator._no_improvement_count > estimator.n_iter_no_change:
                converged = True
                logger.info("%s stopped after %d epochs: no improvement > tol=%s for %d epochs.",
                            type(estimator).__name__, estimator.n_iter_, estimator.tol, estimator.n_iter_no_change)
                break
    except KeyboardInterrupt:
        checkpoint.restore(estimator)
        warnings.warn(f"Training interrupted by the user after {estimator.n_iter_} epochs; the model keeps the "
                      "weights of the last completed epoch.", UserWarning)
        converged = True
    except BaseException:
        checkpoint.restore(estimator)
        raise
    finally:
        progress.close()
    if estimator.early_stopping and estimator._best_state is not None:
        restore(estimator, estimator._best_state)
        # The model now holds its best weights; a continuing fit copies them again (see
        # _fit_state.continue_settings), so the copy need not outlive the fit, nor a pickle.
        estimator._best_state = None
    if not incremental and not converged and estimator.tol is not None:
        warnings.warn(f"{type(estimator).__name__}: maximum iterations ({n_epochs}) reached and the "
                      f"{estimator._monitored_loss} loss is still improving; raise max_iter for a closer fit.",
                      ConvergenceWarning)


def run_epoch(estimator, data, progress):
    """One shuffled pass; returns the mean of each named loss over the rows.

    Losses are summed on the device and read once at the end: one host sync per epoch.
    """
    n_samples = len(data)
    batch_size = planned_batch_size(estimator, n_samples)
    term = estimator._neighbor_term
    if term is None:
        order = torch.randperm(n_samples, generator=estimator._generator, device=estimator.device_)
    else:
        # With the neighbour graph a minibatch is the two end points of each of its edges.
        order = term.epoch_order(n_samples, batch_size, estimator._generator)
    n_rows = order.shape[0]
    # Prior samples are drawn a block of batches at a time: one numpy call per block,
    # memory independent of n_samples.
    block = batch_size * max(1, INFERENCE_CHUNK // batch_size)
    estimator._set_training(True)
    names, total = None, None
    for block_start in range(0, n_rows, block):
        n_block = min(block, n_rows - block_start)
        labels = data.labels_at(order[block_start:block_start + n_block])
        Z_prior = estimator._tensor(estimator._label_mode.draw_prior(estimator.prior_, n_block, labels,
                                                                     estimator._rng))
        for start in range(0, n_block, batch_size):
            idx = order[block_start + start:block_start + start + batch_size]
            with autocast(estimator.device_, estimator._autocast_dtype):
                losses = estimator._train_step(data.batch(idx), Z_prior[start:start + batch_size],
                                               data.labels_at(idx), rows=idx)
            if total is None:
                names = list(losses)
                total = torch.zeros(len(names), device=estimator.device_)
            total += torch.stack([losses[name].detach().float() for name in names]) * idx.shape[0]
            progress.update(idx.shape[0])
    estimator.t_ += n_rows
    return dict(zip(names, (total / n_rows).tolist()))


def record_epoch(estimator, losses, validation_score, progress, data=None):
    """Append an epoch's losses to the histories and update the stopping rule."""
    estimator.n_iter_ += 1
    for name, value in losses.items():
        if not np.isfinite(value):
            raise FloatingPointError(
                f"{type(estimator).__name__} diverged in epoch {estimator.n_iter_}: the {name} loss is {value}. "
                f"{divergence_cause(estimator, data)} The model is left as it was after its last completed "
                "epoch (unfitted if there was none).")
        estimator.loss_history_.setdefault(name, []).append(value)
    monitored = losses[estimator._monitored_loss]
    estimator.loss_curve_.append(monitored)
    if validation_score is not None:
        score = validation_score()
        estimator.validation_scores_.append(score)
        update_no_improvement(estimator, -score, -estimator.best_validation_score_)
        if score > estimator.best_validation_score_:
            estimator.best_validation_score_ = score
            estimator._best_state = snapshot(estimator)
    else:
        update_no_improvement(estimator, monitored, estimator.best_loss_)
    estimator.best_loss_ = min(estimator.best_loss_, monitored)
    progress.set_postfix({"epoch": estimator.n_iter_, **{name: f"{v:.4f}" for name, v in losses.items()}},
                         refresh=False)


def update_no_improvement(estimator, loss, best):
    # The rule of MLPRegressor: an epoch counts as no improvement unless it beats the
    # best loss so far by more than tol.
    tol = estimator.tol or 0.0
    estimator._no_improvement_count = estimator._no_improvement_count + 1 if loss > best - tol else 0


def snapshot(estimator):
    """Copies of the weights of every network of ``estimator``."""
    return {name: copy.deepcopy(module.state_dict())
            for name, module in vars(estimator).items() if isinstance(module, torch.nn.Module)}


def restore(estimator, state):
    """Load the weights of a :func:`snapshot` back into ``estimator``'s networks."""
    for name, module_state in state.items():
        getattr(estimator, name).load_state_dict(module_state)


# Standardised values beyond this many standard deviations make float32 training fragile.
_EXTREME_VALUE = 1e4


@torch.no_grad()
def divergence_cause(estimator, data):
    """The likely cause of a divergence, as advice: the data, the prior's scale or the step size.

    Data and prior samples are checked for non-finite values where they enter, so what is
    left is values so large that float32 losses overflow, or steps too large.
    """
    if data is not None:
        largest = max(float(data.batch(torch.arange(start, min(start + INFERENCE_CHUNK, len(data)),
                                                    device=data.indices.device)).abs().max())
                      for start in range(0, len(data), INFERENCE_CHUNK))
        if not largest < _EXTREME_VALUE:
            return (f"Likely cause: the data: a standardised training value reaches {largest:.3g}; remove "
                    "or clip the extreme rows, or transform the features (a log, say).")
    prior_scale = float(np.abs(estimator.prior_.sample(1000, random_state=0)).max())
    if not prior_scale < _EXTREME_VALUE:
        return (f"Likely cause: the prior: its samples reach {prior_scale:.3g}; rescale the prior to a few "
                "units.")
    return (f"Likely cause: steps too large: lower learning_rate_init (now {estimator.learning_rate_init}) or "
            "use a smaller batch_size.")


class Checkpoint:
    """The training state of an estimator after an epoch, to go back to if the next fails.

    Weights and optimizer moments are copied tensor by tensor; the random generators'
    states, the counters and the histories' lengths are noted.
    """

    _SCALARS = ("n_iter_", "t_", "best_loss_", "best_validation_score_", "_no_improvement_count", "_best_state")

    def __init__(self, estimator):
        self.modules, self.optimizers = {}, {}
        for name, value in vars(estimator).items():
            if isinstance(value, torch.nn.Module):
                self.modules[name] = {k: v.detach().clone() for k, v in value.state_dict().items()}
            elif isinstance(value, torch.optim.Optimizer):
                self.optimizers[name] = {p: {k: v.clone() if torch.is_tensor(v) else copy.copy(v)
                                             for k, v in state.items()} for p, state in value.state.items()}
        self.generator = estimator._generator.get_state()
        self.rng = estimator._rng.get_state()
        self.scalars = {name: getattr(estimator, name) for name in self._SCALARS}
        self.lengths = {name: len(values) for name, values in estimator.loss_history_.items()}
        self.n_curve = len(estimator.loss_curve_)
        self.n_validation = None if estimator.validation_scores_ is None else len(estimator.validation_scores_)

    def restore(self, estimator):
        """Put ``estimator`` back in the state this checkpoint noted."""
        for name, state in self.modules.items():
            getattr(estimator, name).load_state_dict(state)
        for name, state in self.optimizers.items():
            optimizer = getattr(estimator, name)
            optimizer.state.clear()
            optimizer.state.update(state)
        estimator._generator.set_state(self.generator)
        estimator._rng.set_state(self.rng)
        for name, value in self.scalars.items():
            setattr(estimator, name, value)
        estimator.loss_history_ = {name: values[:self.lengths[name]]
                                   for name, values in estimator.loss_history_.items() if name in self.lengths}
        del estimator.loss_curve_[self.n_curve:]
        if self.n_validation is not None:
            del estimator.validation_scores_[self.n_validation:]
