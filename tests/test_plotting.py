"""Each plotting helper on a small fitted model: what it drew, headless (Agg)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from sklearn_aae import AdversarialAutoencoder, GaussianMixturePrior
from sklearn_aae.metrics import heldout_knn_accuracy
from sklearn_aae.plotting import (
    plot_comparison,
    plot_embedding,
    plot_latent_grid,
    plot_loss_curve,
    plot_samples,
)


@pytest.fixture(scope="module")
def digits(digits_split):
    """300 digit images (8 × 8) and their labels."""
    X_train, _, y_train, _ = digits_split
    return X_train[:300].reshape(-1, 8, 8), y_train[:300]


@pytest.fixture(scope="module")
def image_model(make_estimator, digits):
    images, _ = digits
    return make_estimator(AdversarialAutoencoder, max_iter=5, tol=None, early_stopping=True).fit(images)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_embedding_from_estimator_draws_prior_then_codes(image_model, digits):
    images, y = digits
    ax = plot_embedding(image_model, images, y=y, n_prior_samples=500)
    prior_points, codes = ax.collections
    assert prior_points.get_offsets().shape == (500, 2)
    np.testing.assert_allclose(codes.get_offsets(), image_model.transform(images))
    np.testing.assert_array_equal(codes.get_array(), y)  # coloured by label


def test_plot_embedding_from_codes(image_model):
    Z = np.random.RandomState(0).normal(size=(40, 2))
    fig, ax = plt.subplots()
    assert plot_embedding(Z, ax=ax) is ax and len(ax.collections) == 1  # no prior by default
    ax = plot_embedding(Z, prior=GaussianMixturePrior(n_components=2), n_prior_samples=50)
    assert [c.get_offsets().shape[0] for c in ax.collections] == [50, 40]
    samples = np.zeros((7, 2))
    assert plot_embedding(Z, prior=samples).collections[0].get_offsets().shape == (7, 2)


@pytest.mark.parametrize("source, kwargs, match", [
    ("model", {}, "X is needed"),
    (np.zeros((5, 3)), {}, "2-D codes"),
    (np.zeros((5, 2)), dict(prior=True), "prior=True needs a fitted estimator"),
], ids=["model-without-X", "3-d-codes", "prior-without-model"])
def test_plot_embedding_errors(image_model, source, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_embedding(image_model if isinstance(source, str) else source, **kwargs)


def test_plot_samples_tiles_images(image_model):
    images = image_model.sample(10, random_state=0)  # (10, 8, 8)
    grid = plot_samples(images, n_cols=5, pad=2).images[0].get_array()
    assert grid.shape == (2 * 8 + 2, 5 * 8 + 4 * 2)
    np.testing.assert_allclose(grid[:8, :8], images[0])
    np.testing.assert_allclose(grid[10:18, 10:18], images[6])  # row 1, column 1
    assert np.ma.getmaskarray(grid)[8, 0]  # the padding is blank (NaN, masked by matplotlib)
    flat = plot_samples(images.reshape(10, 64)).images[0].get_array()  # square rows: 8x8
    assert flat.shape == (3 * 9 - 1, 4 * 9 - 1)  # ceil(sqrt(10)) = 4 columns, so 3 rows
    with pytest.raises(ValueError, match="not square"):
        plot_samples(np.zeros((3, 10)))
    assert plot_samples(np.zeros((3, 10)), image_shape=(2, 5)).images[0].get_array().shape == (5, 11)


def test_plot_loss_curve_has_one_line_per_loss(image_model):
    ax = plot_loss_curve(image_model)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["reconstruction", "discriminator", "generator", "validation reconstruction"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), image_model.loss_history_["reconstruction"])
    np.testing.assert_allclose(ax.get_lines()[3].get_ydata(), -np.asarray(image_model.validation_scores_))
    with pytest.raises(ValueError, match="fitted estimator"):
        plot_loss_curve(AdversarialAutoencoder())


def test_plot_latent_grid_decodes_a_grid(image_model):
    ax = plot_latent_grid(image_model, n_per_side=3, extent=(-1, 1, -2, 2), cmap="viridis")
    grid = ax.images[0].get_array()
    assert grid.shape == (3 * 9 - 1, 3 * 9 - 1)
    top_left = image_model.inverse_transform([[-1.0, 2.0]])[0]  # high y first, as on a y-axis
    np.testing.assert_allclose(grid[:8, :8], top_left, rtol=1e-6)
    with pytest.raises(ValueError, match="n_components=2"):
        plot_latent_grid(AdversarialAutoencoder(n_components=3))


def test_plot_comparison_scores_each_panel(make_estimator, digits):
    images, y = digits
    X = images.reshape(len(images), -1)
    models = {"PCA": PCA(2), "t-SNE": TSNE(2, perplexity=10, random_state=0),
              "AAE": make_estimator(AdversarialAutoencoder, max_iter=3, tol=None)}
    fig, axes, scores = plot_comparison(models, X[:200], y[:200], X_test=X[200:], y_test=y[200:])
    assert len(axes) == 3 and len(fig.axes) == 3
    assert all(len(ax.collections[0].get_offsets()) == 100 for ax in axes)
    assert "(all rows)" in axes[1].get_title() and "(all rows)" not in axes[0].get_title()
    pca = PCA(2).fit(X[:200])
    assert scores["PCA"]["knn_accuracy"] == heldout_knn_accuracy(pca.transform(X[:200]), y[:200],
                                                                pca.transform(X[200:]), y[200:])
    assert 0 < scores["AAE"]["trustworthiness"] <= 1
    with pytest.raises(ValueError, match="need as many axes"):
        plot_comparison(models, X, y, axes=[axes[0]])
