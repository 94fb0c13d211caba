"""The epoch loop: epochs and rows counted, warm starts, tol, early stopping, progress,
divergence and Ctrl-C, with MLPRegressor's vocabulary and rules."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


def test_warm_start_and_partial_fit_continue(Estimator, make_estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=3, warm_start=True).fit(X)
    encoder = est.encoder_
    est.fit(X)
    assert est.n_iter_ == 6 and est.encoder_ is encoder and len(est.loss_curve_) == 6
    stream = make_estimator(Estimator)
    for chunk in np.array_split(X, 3):
        stream.partial_fit(chunk)
    assert stream.n_iter_ == 3 and stream.t_ == 300
    # Cold start resets.
    cold = make_estimator(Estimator, max_iter=3).fit(X)
    cold.fit(X)
    assert cold.n_iter_ == 3 and len(cold.loss_curve_) == 3


def test_tol_stops_training_and_max_iter_warns(Estimator, make_estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=50, tol=1e6, n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X)
    # As in MLPRegressor: the first epoch sets the best loss, then it takes
    # n_iter_no_change + 1 epochs without a tol improvement to stop.
    assert est.n_iter_ == 4
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        make_estimator(Estimator, max_iter=2, tol=0.0).fit(X)


def test_early_stopping_tracks_and_restores_best(Estimator, make_estimator, blobs):
    X, _ = blobs
    est = make_estimator(Estimator, max_iter=40, early_stopping=True, validation_fraction=0.2,
                         n_iter_no_change=3, tol=0.0)
    est.fit(X)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # The held-out rows: 20 % of the rows, each once.
    held_out = est._validation_indices
    assert len(held_out) == 60 and len(np.unique(held_out)) == 60
    # The restored weights are the best epoch's: the held-out rows score exactly that.
    assert est.score(X[held_out]) == pytest.approx(est.best_validation_score_, rel=1e-5)


def test_verbose_progress_bar(Estimator, make_estimator, blobs, capsys):
    X, _ = blobs
    make_estimator(Estimator, max_iter=2).fit(X)
    assert capsys.readouterr().err == ""  # silent unless verbose
    make_estimator(Estimator, max_iter=2, verbose=True).fit(X)
    err = capsys.readouterr().err
    # One tick per training row: 2 epochs of 300 rows, with the rate and the epoch count.
    assert Estimator.__name__ in err and "600/600" in err and "rows/s" in err
    assert "epoch=2" in err and "reconstruction=" in err


def test_non_finite_prior_samples_are_blamed_on_the_prior(Estimator, make_estimator, blobs):
    # Caught at the first draw, not later as a divergence with advice on the learning rate.
    X, _ = blobs

    def broken_prior(n_samples, random_state):
        return np.full((n_samples, 2), np.nan)

    with pytest.raises(ValueError, match="The prior callable .*broken_prior returned samples with NaN"):
        make_estimator(Estimator, prior=broken_prior).fit(X)


def test_keyboard_interrupt_keeps_the_finished_epochs(Estimator, make_estimator, blobs):
    X, _ = blobs

    class CountingPrior:
        """A Gaussian prior (a callable one) that presses Ctrl-C at its ``stop_at``-th draw."""

        def __init__(self, stop_at=None):
            self.calls, self.stop_at = 0, stop_at

        def __call__(self, n_samples, random_state):
            self.calls += 1
            if self.calls == self.stop_at:
                raise KeyboardInterrupt
            return random_state.normal(size=(n_samples, 2))

    # The draws two whole epochs take; the next one comes before the third epoch's first
    # update, which needs prior codes.
    two_epochs = CountingPrior()
    finished = make_estimator(Estimator, max_iter=2, tol=None, prior=two_epochs).fit(X)
    est = make_estimator(Estimator, max_iter=10, tol=None, prior=CountingPrior(stop_at=two_epochs.calls + 1))
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    np.testing.assert_array_equal(est.transform(X), finished.transform(X))
