"""The adversarial game's two moves and the reconstruction loss, shared by the label modes."""

import torch
import torch.nn.functional as F


def discriminator_step(discriminator, optimizer, Z_prior, Z, condition=None):
    """One update of ``discriminator``: prior samples are "real", codes are "fake".

    ``condition``, when given, is appended to both (the discriminator then judges a code
    together with its row's label).
    """
    both = torch.cat([Z_prior, Z.detach()])  # (2 * batch, n_components)
    if condition is not None:
        both = torch.cat([both, condition.repeat(2, 1).to(both.dtype)], dim=1)
    logits = discriminator(both)  # (2 * batch, 1)
    n_prior = Z_prior.shape[0]
    loss = F.softplus(-logits[:n_prior]).mean() + F.softplus(logits[n_prior:]).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def generator_loss(discriminator, Z, condition=None):
    """The encoder's non-saturating loss for making ``discriminator`` call ``Z`` real."""
    if condition is not None:
        Z = torch.cat([Z, condition.to(Z.dtype)], dim=1)
    discriminator.requires_grad_(False)
    loss = F.softplus(-discriminator(Z)).mean()
    discriminator.requires_grad_(True)
    return loss


def reconstruction_loss(raw, X, kind):
    """Mean squared error of raw outputs, or ``kind='bce'``: cross-entropy of logits."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(raw, X)
    return F.mse_loss(raw, X)
