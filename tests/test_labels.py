"""Labels through fit(X, y): prior placement, conditional decoding, the class head, clustering."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import KNeighborsClassifier

from sklearn_aae import ALAE, AdversarialAutoencoder, GaussianMixturePrior

FAST = dict(hidden_layer_sizes=(32, 32), discriminator_layer_sizes=(32,), batch_size=32, learning_rate_init=2e-3,
            random_state=0, tol=None)


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=600, n_features=8, centers=4, cluster_std=1.5, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def judge(data):
    """A classifier of real rows, to tell which class a generated row belongs to."""
    return KNeighborsClassifier(5).fit(*data)


def _placement(model, Z, y):
    """Share of codes whose nearest class-labelled prior sample is of their own class."""
    n_classes = len(model.classes_)
    labels = np.repeat(np.arange(n_classes), 300)
    regions = KNeighborsClassifier(1).fit(model.prior_.sample(len(labels), y=labels, random_state=0), labels)
    return np.mean(regions.predict(Z) == np.searchsorted(model.classes_, y))


@pytest.mark.parametrize("prior", ["gaussian_mixture", "swiss_roll"])
def test_prior_mode_places_each_class_in_its_region(data, prior):
    X, y = data
    model = AdversarialAutoencoder(prior=prior, max_iter=50, **FAST).fit(X, y)
    assert model.label_mode_ == "prior"
    assert model.prior_.n_classes == 4  # adapted from the default 10 regions
    assert _placement(model, model.transform(X), y) > 0.9


def test_prior_mode_with_unlabeled_rows(data, judge):
    X, y = data
    y_partial = np.where(np.random.RandomState(0).rand(len(y)) < 0.5, -1, y)
    model = AdversarialAutoencoder(prior="gaussian_mixture", max_iter=50, **FAST).fit(X, y_partial)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    assert _placement(model, model.transform(X), y) > 0.9
    assert np.mean(judge.predict(model.sample(100, y=2, random_state=0)) == 2) > 0.9


@pytest.mark.parametrize("label_mode", ["conditional", "categorical"])
def test_sample_generates_the_requested_class(data, judge, label_mode):
    X, y = data
    # A stronger discriminator keeps the class out of the code, so the label decides it.
    model = AdversarialAutoencoder(label_mode=label_mode, max_iter=50, adversarial_weight=1.0,
                                   **{**FAST, "discriminator_layer_sizes": (64, 64)}).fit(X, y)
    for k in model.classes_:
        assert np.mean(judge.predict(model.sample(50, y=k, random_state=0)) == k) > 0.9
    per_row = model.sample(4, y=[0, 1, 2, 3], random_state=0)
    assert per_row.shape == (4, 8)
    assert model.sample(5, random_state=0).shape == (5, 8)  # random classes without y


def test_conditional_codes_carry_no_class(data):
    """The decoder gets the class, so the code needs none: classes overlap in code space."""
    X, y = data
    conditional = AdversarialAutoencoder(label_mode="conditional", max_iter=50, adversarial_weight=3.0,
                                         **{**FAST, "discriminator_layer_sizes": (64, 64)}).fit(X, y)
    plain = AdversarialAutoencoder(max_iter=50, **FAST).fit(X)

    def knn_accuracy(Z):
        return KNeighborsClassifier(5).fit(Z[::2], y[::2]).score(Z[1::2], y[1::2])

    assert knn_accuracy(plain.transform(X)) > 0.9
    assert knn_accuracy(conditional.transform(X)) < 0.7


def test_categorical_semi_supervised_predict(data):
    X, y = data
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)  # 10 % labels
    model = AdversarialAutoencoder(label_mode="categorical", max_iter=30, **FAST).fit(X, y_partial)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(model.predict(X) == model.classes_[proba.argmax(axis=1)])
    assert np.mean(model.predict(X) == y) > 0.9
    assert model.transform(X).shape == (len(X), 2)  # the style code
    assert {"class_discriminator", "classification"} <= set(model.loss_history_)


def test_n_clusters_clusters_without_labels(data):
    X, y = data
    model = AdversarialAutoencoder(n_clusters=4, max_iter=50, **FAST).fit(X)
    clusters = model.predict(X)
    np.testing.assert_array_equal(model.classes_, np.arange(4))
    assert set(clusters) <= set(range(4))
    assert adjusted_rand_score(y, clusters) > 0.7
    assert model.sample(3, y=1, random_state=0).shape == (3, 8)
    # Like KMeans, a clusterer ignores y.
    with_y = AdversarialAutoencoder(n_clusters=4, max_iter=2, **FAST).fit(X, y)
    without_y = AdversarialAutoencoder(n_clusters=4, max_iter=2, **FAST).fit(X)
    np.testing.assert_array_equal(with_y.predict_proba(X), without_y.predict_proba(X))


def test_string_labels(data):
    X, y = data
    names = np.array(["ant", "bee", "cat", "dog"], dtype=object)[y]
    names[::3] = -1  # unlabeled, as for SelfTrainingClassifier
    model = AdversarialAutoencoder(label_mode="categorical", max_iter=20, **FAST).fit(X, names)
    assert model.classes_.tolist() == ["ant", "bee", "cat", "dog"]
    assert set(model.predict(X[:20])) <= {"ant", "bee", "cat", "dog"}
    assert model.sample(2, y="cat").shape == (2, 8)
    prior_mode = AdversarialAutoencoder(prior="swiss_roll", max_iter=2, **FAST).fit(X, names.astype(str))
    assert prior_mode.classes_.tolist() == ["ant", "bee", "cat", "dog"]  # '-1' marks unlabeled too


def test_without_labels_nothing_changes(data):
    X, y = data
    reference = AdversarialAutoencoder(prior="gaussian_mixture", max_iter=3, **FAST).fit(X).transform(X)
    for label_mode in ["prior", "conditional", "categorical"]:
        for labels in [None, np.full(len(y), -1)]:
            model = AdversarialAutoencoder(prior="gaussian_mixture", label_mode=label_mode, max_iter=3, **FAST)
            np.testing.assert_array_equal(model.fit(X, labels).transform(X), reference)
            assert model.label_mode_ is None and not hasattr(model, "classes_")
            assert not hasattr(model, "predict")


def test_pickle_keeps_the_labels(data):
    X, y = data
    model = AdversarialAutoencoder(label_mode="categorical", max_iter=2, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.sample(3, y=1, random_state=0), model.sample(3, y=1, random_state=0))


def test_partial_fit_ignores_labels(data):
    X, y = data
    model = AdversarialAutoencoder(label_mode="conditional", max_iter=1, **FAST).fit(X, y)
    model.partial_fit(X[:50], np.full(50, 7))  # unlabeled rows for the fitted label model
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    assert AdversarialAutoencoder(label_mode="conditional", **FAST).partial_fit(X, y).label_mode_ is None
    refit = AdversarialAutoencoder(label_mode="conditional", warm_start=True, max_iter=1, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[7\] not seen in the first fit"):
        refit.fit(X[:10], np.full(10, 7))


def test_clear_errors(data):
    X, y = data
    plain = AdversarialAutoencoder(max_iter=1, **FAST).fit(X)
    with pytest.raises(ValueError, match="fitted without labels, so sample"):
        plain.sample(2, y=0)
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as error:
        plain.predict(X)
    assert "no class head to predict with" in str(error.value.__cause__)
    conditional = AdversarialAutoencoder(label_mode="conditional", max_iter=1, **FAST).fit(X, y)
    assert not hasattr(conditional, "predict_proba")
    with pytest.raises(ValueError, match=r"labels \[9\] that are not among the fitted classes_"):
        conditional.sample(2, y=9)
    with pytest.raises(ValueError, match="one label or an array of 3 labels"):
        conditional.sample(3, y=[0, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        AdversarialAutoencoder(label_mode="conditional", max_iter=1, **FAST).fit(X, y + 0.5)
    with pytest.raises(ValueError, match="only 3 class regions"):
        AdversarialAutoencoder(prior=GaussianMixturePrior(n_modes=3), max_iter=1, **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="y is ignored: label_mode='prior'"):
        ignored = AdversarialAutoencoder(prior="gaussian", max_iter=1, **FAST).fit(X, y)
    assert ignored.label_mode_ is None
    alae = ALAE(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X, y)  # ALAE ignores y
    with pytest.raises(ValueError, match="ALAE was fitted without labels"):
        alae.sample(2, y=0)


def test_prior_samples_by_class_in_classes_order(data):
    X, y = data
    model = AdversarialAutoencoder(prior="gaussian_mixture", max_iter=1, **FAST).fit(X, y + 10)
    Z = model.prior_.sample(200, y=np.full(200, 2), random_state=0)
    angle = np.arctan2(Z[:, 1], Z[:, 0]) % (2 * np.pi)
    # Class 12 is the third of classes_ = [10, 11, 12, 13]: the component at angle π.
    assert np.median(angle) == pytest.approx(np.pi, abs=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.sample(2, y=12).shape == (2, 8)


def test_neighbor_class_consistency_is_a_symmetric_kl_with_detached_targets():
    from sklearn_aae._labels import neighbor_class_consistency

    torch = pytest.importorskip("torch")
    logits = torch.randn(5, 3)
    assert neighbor_class_consistency(logits, logits.clone()).item() == pytest.approx(0.0, abs=1e-6)
    head, tail = torch.randn(5, 3, requires_grad=True), torch.randn(5, 3, requires_grad=True)
    loss = neighbor_class_consistency(head, tail)
    p, q = torch.softmax(head, 1), torch.softmax(tail, 1)
    kl = lambda a, b: (a * (a.log() - b.log())).sum(1)  # noqa: E731
    assert loss.item() == pytest.approx((0.5 * (kl(q, p) + kl(p, q))).mean().item(), rel=1e-5)
    loss.backward()
    # Each side's gradient is the cross-entropy's against the other's fixed probabilities.
    expected = (p - q).detach() / (2 * len(head))
    np.testing.assert_allclose(head.grad.numpy(), expected.numpy(), atol=1e-6)


def test_class_head_is_smoothed_along_the_neighbour_graph():
    # With n_neighbors and a class head, the class probabilities of the two ends of the
    # graph's edges are pulled together: their disagreement (loss_history_
    # ['neighbor_classes']) ends far lower than with neighbor_class_weight=0.
    pytest.importorskip("umap")
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=800, noise=0.05, factor=0.5, random_state=0)
    X, y = X[:400], y[:400]
    rng = np.random.RandomState(0)
    y_partial = np.full(len(y), -1)
    for c in (0, 1):
        y_partial[rng.choice(np.flatnonzero(y == c), 3, replace=False)] = c
    disagreement = {}
    for weight in (0.0, 30.0):
        model = AdversarialAutoencoder(label_mode="categorical", n_components=2, n_neighbors=10,
                                       neighbor_class_weight=weight, classification_weight=3.0, max_iter=60,
                                       **FAST).fit(X, y_partial)
        history = model.loss_history_["neighbor_classes"]
        assert len(history) == 60
        disagreement[weight] = np.mean(history[-10:])
    assert disagreement[30.0] < 0.6 * disagreement[0.0]
