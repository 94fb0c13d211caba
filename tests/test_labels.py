"""Labels through fit(X, y): prior placement, conditional decoding, the class head, clustering."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import KNeighborsClassifier

from sklearn_aae import ALAE, AdversarialAutoencoder, GaussianMixturePrior


@pytest.fixture(scope="module")
def overlapping_blobs():
    """600 rows of 8 features in 4 classes that touch (cluster_std 1.5): a class is not
    obvious from the code unless the model puts it there."""
    return make_blobs(n_samples=600, n_features=8, centers=4, cluster_std=1.5, random_state=0)


@pytest.fixture(scope="module")
def make_label_aae(make_estimator):
    # Smaller batches and a faster rate than the suite's defaults: more updates per
    # epoch for the label machinery; every epoch counts (no tol).
    return functools.partial(make_estimator, AdversarialAutoencoder, batch_size=32, learning_rate_init=2e-3,
                             tol=None)


@pytest.fixture(scope="module")
def judge(overlapping_blobs):
    """A classifier of real rows, to tell which class a generated row belongs to."""
    return KNeighborsClassifier(5).fit(*overlapping_blobs)


def _placement(model, Z, y):
    """Share of codes whose nearest class-labelled prior sample is of their own class."""
    n_classes = len(model.classes_)
    labels = np.repeat(np.arange(n_classes), 300)
    regions = KNeighborsClassifier(1).fit(model.prior_.sample(len(labels), y=labels, random_state=0), labels)
    return np.mean(regions.predict(Z) == np.searchsorted(model.classes_, y))


@pytest.mark.slow
@pytest.mark.parametrize("prior", ["gaussian_mixture", "swiss_roll"])
def test_prior_mode_places_each_class_in_its_region(make_label_aae, overlapping_blobs, prior):
    X, y = overlapping_blobs
    model = make_label_aae(prior=prior, max_iter=50).fit(X, y)
    assert model.label_mode_ == "prior"
    assert model.prior_.n_classes == 4  # adapted from the default 10 regions
    assert _placement(model, model.transform(X), y) > 0.9


@pytest.mark.slow
def test_prior_mode_with_unlabeled_rows(make_label_aae, overlapping_blobs, judge):
    X, y = overlapping_blobs
    y_partial = np.where(np.random.RandomState(0).rand(len(y)) < 0.5, -1, y)
    model = make_label_aae(prior="gaussian_mixture", max_iter=50).fit(X, y_partial)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    assert _placement(model, model.transform(X), y) > 0.9
    assert np.mean(judge.predict(model.sample(100, y=2, random_state=0)) == 2) > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("label_mode", ["conditional", "categorical"])
def test_sample_generates_the_requested_class(make_label_aae, overlapping_blobs, judge, label_mode):
    X, y = overlapping_blobs
    # A stronger discriminator keeps the class out of the code, so the label decides it.
    model = make_label_aae(label_mode=label_mode, max_iter=25, adversarial_weight=1.0,
                     discriminator_layer_sizes=(64, 64)).fit(X, y)
    for k in model.classes_:
        assert np.mean(judge.predict(model.sample(50, y=k, random_state=0)) == k) > 0.9
    per_row = model.sample(4, y=[0, 1, 2, 3], random_state=0)
    assert per_row.shape == (4, 8)
    assert model.sample(5, random_state=0).shape == (5, 8)  # random classes without y


@pytest.mark.slow
def test_conditional_codes_carry_no_class(make_label_aae, overlapping_blobs):
    """The decoder gets the class, so the code needs none: classes overlap in code space."""
    X, y = overlapping_blobs
    # float32 pins the arithmetic: the margins are about the label mode, not precision
    # (bfloat16 autocast on CPUs that have it trains to other outcomes at a fixed seed).
    conditional = make_label_aae(label_mode="conditional", max_iter=50, adversarial_weight=3.0,
                                 discriminator_layer_sizes=(64, 64), precision="float32").fit(X, y)
    plain = make_label_aae(max_iter=50, precision="float32").fit(X)

    def knn_accuracy(Z):
        return KNeighborsClassifier(5).fit(Z[::2], y[::2]).score(Z[1::2], y[1::2])

    assert knn_accuracy(plain.transform(X)) > 0.9
    assert knn_accuracy(conditional.transform(X)) < 0.8


@pytest.mark.slow
def test_categorical_semi_supervised_predict(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)  # 10 % labels
    model = make_label_aae(label_mode="categorical", max_iter=20).fit(X, y_partial)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(model.predict(X) == model.classes_[proba.argmax(axis=1)])
    assert np.mean(model.predict(X) == y) > 0.9
    assert model.transform(X).shape == (len(X), 2)  # the style code
    assert {"class_discriminator", "classification"} <= set(model.loss_history_)


@pytest.mark.slow
def test_n_clusters_clusters_without_labels(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    model = make_label_aae(n_clusters=4, max_iter=25).fit(X)
    clusters = model.predict(X)
    np.testing.assert_array_equal(model.classes_, np.arange(4))
    assert set(clusters) <= set(range(4))
    assert adjusted_rand_score(y, clusters) > 0.7
    assert model.sample(3, y=1, random_state=0).shape == (3, 8)


def test_a_clusterer_ignores_y(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    # Like KMeans.
    with_y = make_label_aae(n_clusters=4, max_iter=2).fit(X, y)
    without_y = make_label_aae(n_clusters=4, max_iter=2).fit(X)
    np.testing.assert_array_equal(with_y.predict_proba(X), without_y.predict_proba(X))


def test_string_labels(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    names = np.array(["ant", "bee", "cat", "dog"], dtype=object)[y]
    names[::3] = -1  # unlabeled, as for SelfTrainingClassifier
    model = make_label_aae(label_mode="categorical", max_iter=2).fit(X, names)
    assert model.classes_.tolist() == ["ant", "bee", "cat", "dog"]
    assert set(model.predict(X[:20])) <= {"ant", "bee", "cat", "dog"}
    assert model.sample(2, y="cat").shape == (2, 8)
    prior_mode = make_label_aae(prior="swiss_roll", max_iter=2).fit(X, names.astype(str))
    assert prior_mode.classes_.tolist() == ["ant", "bee", "cat", "dog"]  # '-1' marks unlabeled too


@pytest.mark.parametrize("label_mode", ["prior", "conditional", "categorical"])
def test_without_labels_nothing_changes(make_label_aae, overlapping_blobs, label_mode):
    X, y = overlapping_blobs
    reference = make_label_aae(prior="gaussian_mixture", max_iter=2).fit(X).transform(X)
    for labels in [None, np.full(len(y), -1)]:
        model = make_label_aae(prior="gaussian_mixture", label_mode=label_mode, max_iter=2)
        np.testing.assert_array_equal(model.fit(X, labels).transform(X), reference)
        assert model.label_mode_ is None and not hasattr(model, "classes_")
        assert not hasattr(model, "predict")


def test_pickle_keeps_the_labels(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    model = make_label_aae(label_mode="categorical", max_iter=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.sample(3, y=1, random_state=0), model.sample(3, y=1, random_state=0))


def test_partial_fit_ignores_labels(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    model = make_label_aae(label_mode="conditional", max_iter=1).fit(X, y)
    model.partial_fit(X[:50], np.full(50, 7))  # unlabeled rows for the fitted label model
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    assert make_label_aae(label_mode="conditional").partial_fit(X, y).label_mode_ is None
    refit = make_label_aae(label_mode="conditional", warm_start=True, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[7\] not seen in the first fit"):
        refit.fit(X[:10], np.full(10, 7))


@pytest.mark.parametrize("params, labels, match", [
    (dict(label_mode="conditional"), lambda y: y + 0.5, "Unknown label type"),
    (dict(prior=GaussianMixturePrior(n_modes=3)), lambda y: y, "only 3 class regions"),
], ids=["float-labels", "more-classes-than-regions"])
def test_bad_labels_at_fit(make_label_aae, overlapping_blobs, params, labels, match):
    X, y = overlapping_blobs
    with pytest.raises(ValueError, match=match):
        make_label_aae(max_iter=1, **params).fit(X, labels(y))


@pytest.fixture(scope="module")
def label_models(make_estimator, make_label_aae, overlapping_blobs):
    """One-epoch models: fitted without labels, with a conditional decoder, and an ALAE
    given labels (which it ignores)."""
    X, y = overlapping_blobs
    return {"plain": make_label_aae(max_iter=1).fit(X),
            "conditional": make_label_aae(label_mode="conditional", max_iter=1).fit(X, y),
            "alae": make_estimator(ALAE, max_iter=1).fit(X, y)}


@pytest.mark.parametrize("model, kwargs, match", [
    ("plain", dict(n_samples=2, y=0), "fitted without labels, so sample"),
    ("conditional", dict(n_samples=2, y=9), r"labels \[9\] that are not among the fitted classes_"),
    ("conditional", dict(n_samples=3, y=[0, 1]), "one label or an array of 3 labels"),
    ("alae", dict(n_samples=2, y=0), "ALAE was fitted without labels"),
], ids=["no-labels", "unknown-label", "wrong-length", "alae"])
def test_bad_labels_at_sample(label_models, model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_models[model].sample(**kwargs)


def test_predict_needs_a_class_head(label_models, overlapping_blobs):
    X, _ = overlapping_blobs
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as error:
        label_models["plain"].predict(X)
    assert "no class head to predict with" in str(error.value.__cause__)
    assert not hasattr(label_models["conditional"], "predict_proba")


def test_labels_a_prior_without_regions_cannot_use_are_ignored(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    with pytest.warns(UserWarning, match="y is ignored: label_mode='prior'"):
        ignored = make_label_aae(prior="gaussian", max_iter=1).fit(X, y)
    assert ignored.label_mode_ is None and not hasattr(ignored, "classes_")


def test_prior_samples_by_class_in_classes_order(make_label_aae, overlapping_blobs):
    X, y = overlapping_blobs
    model = make_label_aae(prior="gaussian_mixture", max_iter=1).fit(X, y + 10)
    Z = model.prior_.sample(200, y=np.full(200, 2), random_state=0)
    angle = np.arctan2(Z[:, 1], Z[:, 0]) % (2 * np.pi)
    # Class 12 is the third of classes_ = [10, 11, 12, 13]: the component at angle π.
    assert np.median(angle) == pytest.approx(np.pi, abs=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.sample(2, y=12).shape == (2, 8)


@pytest.mark.slow
def test_class_head_is_smoothed_along_the_neighbour_graph(make_label_aae):
    # With n_neighbors and a class head, the class probabilities of the two ends of the
    # graph's edges are pulled together: their disagreement (loss_history_
    # ['neighbor_classes']) ends lower than with neighbor_class_weight=0.
    X, y = make_circles(n_samples=800, noise=0.05, factor=0.5, random_state=0)
    X, y = X[:400], y[:400]
    rng = np.random.RandomState(0)
    y_partial = np.full(len(y), -1)
    for c in (0, 1):
        y_partial[rng.choice(np.flatnonzero(y == c), 3, replace=False)] = c
    disagreement = {}
    for weight in (0.0, 30.0):
        model = make_label_aae(label_mode="categorical", n_components=2, n_neighbors=10, neighbor_class_weight=weight,
                         classification_weight=3.0, max_iter=60).fit(X, y_partial)
        history = model.loss_history_["neighbor_classes"]
        assert len(history) == 60
        disagreement[weight] = np.mean(history[-10:])
    # Measured 0.65 at this seed since minibatches are made of graph edges (0.6 before).
    assert disagreement[30.0] < 0.8 * disagreement[0.0]


@pytest.fixture
def graph_sizes(monkeypatch):
    """The n_neighbors of each neighbour graph the fits of a test build, in order."""
    import sklearn_aae._base as base_module

    sizes, real = [], base_module.NeighborTerm

    def recording(*args, n_neighbors, **kwargs):
        sizes.append(n_neighbors)
        return real(*args, n_neighbors=n_neighbors, **kwargs)

    monkeypatch.setattr(base_module, "NeighborTerm", recording)
    return sizes


@pytest.mark.parametrize("params, with_labels, expected", [
    (dict(label_mode="conditional"), True, []),  # the code carries the style only: no graph
    (dict(label_mode="conditional"), False, [15]),  # without labels, the unlabelled model's graph
    (dict(label_mode="prior", prior="gaussian_mixture"), True, [15]),
    (dict(label_mode="categorical"), True, [15]),
])
def test_auto_neighbours_leave_the_graph_out_of_conditional_fits(overlapping_blobs, graph_sizes, params,
                                                                 with_labels, expected):
    X, y = overlapping_blobs
    model = AdversarialAutoencoder(**params, hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    assert model.get_params()["n_neighbors"] == "auto"
    model.fit(X, y if with_labels else None)
    assert graph_sizes == expected
    assert model.transform_mode_ == ("neighbors" if expected else "encoder")
    assert (model._placement is None) == (not expected)


def test_a_conditional_fit_keeps_the_graph_it_is_given(overlapping_blobs, graph_sizes):
    X, y = overlapping_blobs
    model = AdversarialAutoencoder(label_mode="conditional", n_neighbors=15, hidden_layer_sizes=(16,), max_iter=1,
                                   random_state=0).fit(X, y)
    assert graph_sizes == [15] and model.transform_mode_ == "neighbors"


def test_placing_a_conditional_fit_without_its_graph_is_refused(overlapping_blobs):
    X, y = overlapping_blobs
    model = AdversarialAutoencoder(label_mode="conditional", transform_mode="neighbors", hidden_layer_sizes=(16,),
                                   max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="n_neighbors='auto' leaves out for label_mode='conditional'"):
        model.fit(X, y)
    assert not hasattr(model, "prior_") and not hasattr(model, "transform_mode_")  # nothing half-fitted
    assert model.fit(X).transform_mode_ == "neighbors"  # without labels the graph is there to place by
