"""The clusterer's last step (``n_clusters``): the head's clusters improved on the neighbour graph.

Trained jointly with the autoencoder, the class head settles in a local optimum of its
graph-consistency objective: now and then two groups of the data share one category
while another group is cut in two (on digits: a 3 with a 9, a 1 in three parts), and a
category can end up empty. Spectral clustering's objective tells which of those a
partition would rather not have: the normalized association of the neighbour graph,
``sum_k assoc(k, k) / vol(k)``, the share of each cluster's edge weight that stays
inside it (one minus the normalized cut). After training, :func:`refine_clusters` moves
from a partition by pairs of moves that keep ``n_clusters``: cut one cluster in two
along its graph's Fiedler vector and merge two others (or fill an empty one), for as
long as the association grows. :func:`best_partition` chooses among three partitions:
the head's, so refined, and KMeans's and Ward's agglomerative clustering (with the graph
as its connectivity: merges only along edges, so each cluster is a connected piece of
the graph) of the trained codes laid out along the graph, whichever has the largest
:func:`modularity` on the graph. The layout is the codes after the epochs of umap-learn's
layout optimiser that also refine a placement's training codes
(``NeighborGraph.refine_layout``): the encoder's codes settle the groups' arrangement,
the per-edge steps pull each row to where its own edges put it, and so draw the groups
apart, as in umap-learn's embedding, on which KMeans does better than on the encoder's
codes. The codes, trained on the same graph, often separate the groups better than the
head that was trained beside them, and sometimes worse; KMeans's round clusters suit
codes in blobs, Ward's connected ones codes along a curve (a swiss roll's). Neither is
refined on the graph: on the swiss roll that lowered the accuracy of both.
A :class:`ClusterVote` then gives every row, training or new, the cluster of the
distance-weighted vote of its nearest training rows: the training rows' clusters
(``labels_``) and a new row's (``predict``) come from the same vote, scored alike. The
class head, whose predictions of new rows lag behind the chosen clusters (its read-out
is linear in the encoder's features), is fitted to the same clusters by
:func:`fit_head`, for the model's own use: decoding a row with its cluster.
"""

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from scipy import sparse
from scipy.sparse.linalg import ArpackNoConvergence, eigsh, lobpcg
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

# Cut points tried along a cluster's Fiedler vector, as quantiles: a cut that leaves
# fewer than a twentieth of the cluster on one side is never tried, so the refinement
# splits groups, not stray rows.
_SPLIT_QUANTILES = np.linspace(0.25, 0.75, 11)
# Clusters up to this many rows get an exact (dense) eigendecomposition; larger ones
# scipy's iterative one.
_DENSE_EIGEN_MAX_ROWS = 1000
# Restarts of ARPACK on a large cluster, and LOBPCG's iterations when it does not
# converge (_best_split): scipy's default of ten restarts per row would spend minutes
# on a cluster whose graph is in pieces.
_ARPACK_MAX_ITERATIONS = 1000
_LOBPCG_MAX_ITERATIONS = 200
# ARPACK's relative accuracy of the eigenvalues. Its default, machine precision, spent
# thousands of iterations on a cluster of ten thousand rows, whose eigenvalues crowd
# near 1; the vector only orders the rows for the cuts tried, and each cut's gain is
# then measured exactly, so a rougher vector costs at most a slightly worse cut.
_ARPACK_TOLERANCE = 1e-4
# L-BFGS iterations of the head's read-out fit; from the trained head it converges in a
# few dozen.
_HEAD_FIT_ITERATIONS = 100
# Copies of the training rows with the fit's input noise added that the read-out is also
# fitted on.
_HEAD_FIT_NOISY_COPIES = 2
# Training rows the read-out is fitted on at most: a linear read-out of a few dozen
# classes is settled by far fewer rows, and every L-BFGS iteration passes over all of
# them (the longest step after training on large data before this cap).
_HEAD_FIT_MAX_ROWS = 20_000
# KMeans restarts of the codes' partition, scikit-learn's former default: on a 2-D code
# they cost little next to the fit.
_KMEANS_N_INIT = 10
# Rows Ward's clustering of the codes runs on at most (ward_partition): with the graph's
# edges as its connectivity its cost grows about as the square of the rows (seconds at
# 10,000 rows in 50 features, minutes at 100,000); the other rows are voted into its clusters.
_WARD_MAX_ROWS = 5000
# Training rows whose clusters a row's cluster is voted from (ClusterVote): the graph's
# own neighbourhood size.
CLUSTER_VOTE_NEIGHBORS = 15


def neighbor_graph(X, n_neighbors):
    """Symmetric 0/1 graph of each row's ``n_neighbors`` nearest rows by exact search (CSR, no self-loops)."""
    n_neighbors = min(n_neighbors, X.shape[0])
    return connectivity_graph(NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors(X, return_distance=False))


def connectivity_graph(indices):
    """Symmetric 0/1 graph of neighbour lists (CSR, no self-loops).

    Parameters
    ----------
    indices : ndarray of shape (n_samples, n_neighbors)
        Each row's neighbours, itself among them (as a search of the rows themselves
        returns them); a negative index, an approximate search's missing neighbour, is
        no edge.

    Returns
    -------
    graph : sparse matrix of shape (n_samples, n_samples)
        1 where either row is among the other's neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae._clustering import connectivity_graph
    >>> connectivity_graph(np.array([[0, 1], [1, 0], [2, 1]])).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    n_samples = indices.shape[0]
    rows = np.repeat(np.arange(n_samples), indices.shape[1])
    columns = np.asarray(indices).ravel()
    edge = (columns >= 0) & (columns != rows)
    graph = sparse.csr_matrix((np.ones(int(edge.sum())), (rows[edge], columns[edge])), shape=(n_samples, n_samples))
    graph = graph.maximum(graph.T).tocsr()
    graph.data[:] = 1.0  # a neighbour listed twice is one edge
    return graph


def _association(graph, labels, n_clusters):
    """Edge weight inside each cluster and each cluster's volume (total degree)."""
    members = sparse.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)),
                                shape=(len(labels), n_clusters))
    between = (members.T @ graph @ members).toarray()  # (n_clusters, n_clusters)
    return between, between.sum(axis=1)


def normalized_association(graph, labels, n_clusters):
    """``sum_k assoc(k, k) / vol(k)`` of a partition: ``n_clusters`` when no edge leaves a cluster."""
    between, volume = _association(graph, labels, n_clusters)
    return float(_ratio(np.diag(between), volume).sum())


def _ratio(inside, volume):
    # An empty cluster, or one with no edges, keeps none of its (absent) edges.
    return np.divide(inside, volume, out=np.zeros_like(np.asarray(inside, dtype=float)), where=volume > 0)


def _best_split(graph, degree, rows):
    """The cut of cluster ``rows`` along its Fiedler vector that keeps most association.

    Returns the gain in normalized association and the rows of the part that leaves.
    """
    if len(rows) < 4:
        return -np.inf, None
    sub = graph[rows][:, rows]
    d = np.asarray(sub.sum(axis=1)).ravel() + 1e-12
    scaled = sparse.diags(1 / np.sqrt(d)) @ sub @ sparse.diags(1 / np.sqrt(d))
    if len(rows) <= _DENSE_EIGEN_MAX_ROWS:
        _, vectors = np.linalg.eigh(scaled.toarray())
        fiedler = vectors[:, -2]
    else:
        # A fixed start, as scikit-learn's spectral_embedding gives ARPACK: its own random
        # start moves on with every call in the process, and flips the vectors' signs,
        # which would swap cluster numbers between fits of the same random_state.
        start = np.random.RandomState(0).uniform(-1, 1, len(rows))
        try:
            values, vectors = eigsh(scaled, k=2, which="LA", v0=start, maxiter=_ARPACK_MAX_ITERATIONS,
                                   tol=_ARPACK_TOLERANCE)
        except ArpackNoConvergence:
            # Eigenvalue 1 many times over (the cluster's graph in pieces, rows whose
            # neighbours lie in other clusters): LOBPCG's block finds some of that space,
            # as the dense path would; any vector in it gives cuts to score.
            block = np.column_stack([np.sqrt(d), start])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # its accuracy at maxiter
                values, vectors = lobpcg(scaled, block, largest=True, maxiter=_LOBPCG_MAX_ITERATIONS)
        fiedler = vectors[:, np.argmin(values)]
    fiedler = fiedler / np.sqrt(d)
    volume_all = degree[rows].sum()
    inside_all = sub.sum()
    best_gain, best_part = -np.inf, None
    for threshold in np.unique(np.quantile(fiedler, _SPLIT_QUANTILES)):
        part = fiedler > threshold
        if part.all() or not part.any():
            continue
        inside_part = sub[part][:, part].sum()
        inside_rest = sub[~part][:, ~part].sum()
        volume_part = degree[rows[part]].sum()
        gain = (_ratio(inside_part, volume_part) + _ratio(inside_rest, volume_all - volume_part)
                - _ratio(inside_all, volume_all))
        if gain > best_gain:
            best_gain, best_part = gain, rows[part]
    return float(best_gain), best_part


def refine_clusters(graph, labels, n_clusters, max_moves=None):
    """Split-and-merge moves that raise the graph's normalized association.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
        Symmetric neighbour graph of the rows.
    labels : ndarray of shape (n_samples,)
        The starting clusters, ``0 .. n_clusters - 1``.
    n_clusters : int
        Number of clusters, kept by every move.
    max_moves : int or None, default=None
        Most moves made; ``None`` allows ``2 * n_clusters``.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The refined clusters; empty clusters are filled first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn_aae._clustering import neighbor_graph, refine_clusters
    >>> X, y = make_blobs(300, centers=3, random_state=0)
    >>> merged = np.where(y == 2, 1, y)  # two blobs in one cluster, cluster 2 empty
    >>> np.bincount(refine_clusters(neighbor_graph(X, 10), merged, 3)).tolist()
    [100, 100, 100]
    """
    labels = np.asarray(labels).copy()
    degree = np.asarray(graph.sum(axis=1)).ravel()
    max_moves = 2 * n_clusters if max_moves is None else max_moves
    splits = {}
    for _ in range(max_moves):
        between, volume = _association(graph, labels, n_clusters)
        inside = np.diag(between)
        ratios = _ratio(inside, volume)
        for k in range(n_clusters):
            if k not in splits:
                splits[k] = _best_split(graph, degree, np.flatnonzero(labels == k))
        # The cheapest merge of two clusters, other than the one cut: an empty cluster
        # costs nothing, so empty clusters are filled before any group is merged.
        merged = _ratio(inside[:, None] + inside[None, :] + 2 * between, volume[:, None] + volume[None, :])
        loss = ratios[:, None] + ratios[None, :] - merged
        empty = np.flatnonzero(np.bincount(labels, minlength=n_clusters) == 0)
        best = (0.0, None)
        for k, (gain, part) in splits.items():
            if part is None:
                continue
            if empty.size:
                move = (gain, (k, part, empty[0], None))
            else:
                pair_loss = loss.copy()
                pair_loss[k, :] = pair_loss[:, k] = np.inf
                np.fill_diagonal(pair_loss, np.inf)
                b, c = np.unravel_index(np.argmin(pair_loss), pair_loss.shape)
                move = (gain - pair_loss[b, c], (k, part, c, b))
            if move[0] > best[0] + 1e-9:
                best = move
        if best[1] is None:
            break
        k, part, freed, into = best[1]
        if into is not None:
            labels[labels == freed] = into
            splits.pop(into, None)
        labels[part] = freed
        splits.pop(k, None)
        splits.pop(freed, None)
    return labels


def modularity(graph, labels, n_clusters):
    """Newman's modularity of a partition: the share of edge weight inside the clusters,
    less the share a random graph of the same degrees would have there.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn_aae._clustering import modularity, neighbor_graph
    >>> X, y = make_blobs(300, centers=3, random_state=0)
    >>> graph = neighbor_graph(X, 10)
    >>> bool(modularity(graph, y, 3) > modularity(graph, np.arange(300) % 3, 3))
    True
    """
    between, volume = _association(graph, labels, n_clusters)
    total = volume.sum()
    return float(np.trace(between) / total - np.square(volume / total).sum())


def best_partition(graph, head_labels, X, codes, n_clusters, n_neighbors, random_state):
    """Of the head's, KMeans's and Ward's partitions of the rows, the one of largest modularity.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
        Symmetric neighbour graph of the rows.
    head_labels : ndarray of shape (n_samples,)
        The class head's clusters of the rows.
    X : ndarray of shape (n_samples, n_features)
        The rows, as the graph measured them.
    codes : ndarray of shape (n_samples, n_components)
        The rows' codes, which KMeans, and Ward's clustering merging along the graph's
        edges (:func:`ward_partition`), partition into ``n_clusters``: a clusterer's
        trained codes laid out along its neighbour graph (``NeighborGraph.refine_layout``).
    n_clusters : int
        Number of clusters.
    n_neighbors : int
        Neighbours per row of the graph.
    random_state : RandomState
        Seeds KMeans, and Ward's sample of the rows on large data.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The head's partition refined by :func:`refine_clusters`, KMeans's and Ward's:
        the one of largest :func:`modularity` (the first on a tie).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn_aae._clustering import best_partition, neighbor_graph
    >>> X, y = make_blobs(300, centers=3, cluster_std=0.7, random_state=0)
    >>> from sklearn.metrics import adjusted_rand_score
    >>> stuck = np.zeros(300, dtype=int)  # a head that put every row in one cluster
    >>> labels = best_partition(neighbor_graph(X, 10), stuck, X, X, 3, 10, np.random.RandomState(0))
    >>> round(adjusted_rand_score(y, labels), 2)
    0.96
    """
    seed = random_state.randint(np.iinfo(np.int32).max)
    kmeans = KMeans(n_clusters, n_init=_KMEANS_N_INIT, random_state=seed).fit_predict(codes)
    ward = ward_partition(graph, X, codes, n_clusters, n_neighbors, random_state)
    candidates = [refine_clusters(graph, head_labels, n_clusters), kmeans, ward]
    return max(candidates, key=lambda labels: modularity(graph, labels, n_clusters))


def ward_partition(graph, X, codes, n_clusters, n_neighbors, random_state):
    """Ward's agglomerative clustering of the codes, merging only along the graph's edges.

    Above ``_WARD_MAX_ROWS`` rows it clusters a random ``_WARD_MAX_ROWS`` of them, on
    the ``n_neighbors`` graph of their rows ``X``, and each other row takes the cluster
    of the vote of its nearest clustered rows (:class:`ClusterVote`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_swiss_roll
    >>> from sklearn_aae._clustering import neighbor_graph, ward_partition
    >>> X, t = make_swiss_roll(1000, random_state=0)
    >>> codes = np.c_[t, X[:, 1]]  # the roll unrolled
    >>> labels = ward_partition(neighbor_graph(X, 10), X, codes, 4, 10, np.random.RandomState(0))
    >>> bool(np.bincount(labels).min() > 100)
    True
    """
    rows = np.arange(codes.shape[0])
    if rows.size > _WARD_MAX_ROWS:
        rows = np.sort(random_state.choice(rows.size, _WARD_MAX_ROWS, replace=False))
        graph = neighbor_graph(X[rows], n_neighbors)
    with warnings.catch_warnings():
        # A graph in pieces: scikit-learn joins them to finish the tree, which is what is wanted.
        warnings.filterwarnings("ignore", message="the number of connected components", category=UserWarning)
        labels = AgglomerativeClustering(n_clusters, connectivity=graph, linkage="ward").fit_predict(codes[rows])
    if rows.size < codes.shape[0]:
        labels = np.argmax(ClusterVote(X[rows], labels, n_clusters).predict_proba(X), axis=1)
    return labels


def fit_head(estimator, X, labels, random_state):
    """Fit the encoder's class read-out to ``labels`` of the rows ``X`` (in place).

    Only the head's rows of the encoder's last linear layer change, by a multinomial
    logistic regression on the last hidden layer's features that starts from the
    trained head: the style code, the decoder and the discriminators stay as trained.
    Above ``_HEAD_FIT_MAX_ROWS`` rows it is fitted on a random ``_HEAD_FIT_MAX_ROWS``
    of them (drawn from ``random_state``).
    """
    if X.shape[0] > _HEAD_FIT_MAX_ROWS:
        rows = np.sort(random_state.choice(X.shape[0], _HEAD_FIT_MAX_ROWS, replace=False))
        X, labels = X[rows], np.asarray(labels)[rows]
    encoder = estimator.encoder_
    last = encoder.body[-1]
    n_classes = encoder.n_classes

    def hidden(rows):
        captured = {}
        handle = last.register_forward_hook(lambda module, inputs, output: captured.update(h=inputs[0]))
        try:
            encoder.encode(rows, sample=False)
        finally:
            handle.remove()
        return captured["h"]

    with torch.no_grad():
        # The clean rows and noisy copies, noised as in training: a read-out fitted to the
        # training rows alone draws its boundaries too close to them for new rows.
        H = torch.cat([torch.as_tensor(estimator._map_rows(hidden if copy == 0 else
                                                           (lambda rows: hidden(estimator._corrupt(rows))), X),
                                       dtype=torch.float32) for copy in range(1 + _HEAD_FIT_NOISY_COPIES)])
    target = torch.as_tensor(np.tile(labels, 1 + _HEAD_FIT_NOISY_COPIES), dtype=torch.int64)
    weight = last.weight.detach()[-n_classes:].float().cpu().clone().requires_grad_(True)
    bias = last.bias.detach()[-n_classes:].float().cpu().clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=_HEAD_FIT_ITERATIONS, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(H @ weight.T + bias, target)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        last.weight[-n_classes:] = weight.to(last.weight)
        last.bias[-n_classes:] = bias.to(last.bias)


class ClusterVote:
    """The cluster of a row by the distance-weighted vote of its nearest training rows.

    A row gets the cluster of largest weight among its ``n_neighbors`` nearest training
    rows (Euclidean, in the space the neighbour graph was built in), each weighted by
    the inverse of its distance, and the shares of the weight as its probabilities: a
    scikit-learn ``KNeighborsClassifier(weights="distance")``, built again where a saved
    model is opened. A training row is its own nearest row, so it keeps its cluster, and
    a small cluster is not voted away by the larger ones around it (an unweighted vote
    of 15 rows empties any cluster of fewer than 8).

    Keeps the training rows (float32), so memory and saved files grow by
    ``n_samples × n_features × 4`` bytes. A new row's nearest training rows are searched
    as the neighbour graph searched them: up to a few thousand training rows exactly (a
    distance to every one), above by the graph's NN-descent index (``search_index``),
    whose cost grows about as the log of the training rows, where an exact search's
    grows with them. A saved or pickled vote rebuilds that index on its first use.

    Parameters
    ----------
    X_train : ndarray of shape (n_samples, n_features)
        The training rows.
    labels : ndarray of shape (n_samples,)
        Their clusters, ``0 .. n_clusters - 1``.
    n_clusters : int
        Number of clusters (a cluster no training row is in gets no votes).
    n_neighbors : int, default=CLUSTER_VOTE_NEIGHBORS
        Training rows that vote, at most the number of training rows.
    search_index : SearchIndex or None, default=None
        The index of ``X_train`` new rows are searched by
        (:class:`~sklearn_aae._neighbors.SearchIndex`); ``None``: an exact search.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aae._clustering import ClusterVote
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> vote = ClusterVote(X, np.array([0, 0, 1, 1, 1, 1]), 3, n_neighbors=3)
    >>> vote.predict_proba(X).argmax(axis=1).tolist()  # each training row keeps its cluster
    [0, 0, 1, 1, 1, 1]
    >>> vote.predict_proba(np.array([[0.04], [3.0]])).round(2).tolist()
    [[0.87, 0.13, 0.0], [0.0, 1.0, 0.0]]
    """

    # A vote saved before the index existed searches exactly.
    search_index = None

    def __init__(self, X_train, labels, n_clusters, n_neighbors=CLUSTER_VOTE_NEIGHBORS, search_index=None):
        self.X_train = np.ascontiguousarray(X_train, dtype=np.float32)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.n_clusters = n_clusters
        self.n_neighbors = min(n_neighbors, self.X_train.shape[0])
        self.search_index = search_index

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_classifier", None)  # the fitted search, rebuilt where the model is opened
        return state

    def neighbor_proba(self, indices, distances):
        """The vote of training rows whose nearest training rows are known.

        The same arithmetic as :meth:`predict_proba` (scikit-learn's distance weights: a
        row at distance 0 from training rows takes the vote of those alone), from each
        row's neighbour lists instead of a search: the fit's neighbour graph has them
        for every training row.

        Parameters
        ----------
        indices, distances : ndarray of shape (n_rows, n_neighbors)
            Each row's nearest training rows, nearest first, and their distances; the
            first ``n_neighbors`` of them vote (a negative index, a missing neighbour,
            does not).

        Returns
        -------
        proba : ndarray of shape (n_rows, n_clusters)
        """
        indices = np.asarray(indices)[:, :self.n_neighbors]
        distances = np.asarray(distances, dtype=np.float64)[:, :self.n_neighbors]
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        exact = np.isinf(weights)
        on_a_row = exact.any(axis=1)
        weights[on_a_row] = exact[on_a_row]
        weights[indices < 0] = 0.0
        proba = np.zeros((indices.shape[0], self.n_clusters))
        np.add.at(proba, (np.arange(indices.shape[0])[:, None], self.labels[np.maximum(indices, 0)]), weights)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_proba(self, X):
        """Shares of each cluster in the vote of each row of ``X``: (n_rows, n_clusters)."""
        if self.search_index is not None:
            indices, distances = self.search_index.query(np.ascontiguousarray(X, dtype=np.float32),
                                                         self.n_neighbors, self.X_train)
            return self.neighbor_proba(indices, distances)
        classifier = self.__dict__.get("_classifier")
        if classifier is None:
            classifier = KNeighborsClassifier(self.n_neighbors, weights="distance").fit(self.X_train, self.labels)
            self._classifier = classifier
        proba = np.zeros((X.shape[0], self.n_clusters))
        proba[:, classifier.classes_] = classifier.predict_proba(np.asarray(X, dtype=np.float32))
        return proba
