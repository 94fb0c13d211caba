"""UMAP's fuzzy neighbour graph and its cross-entropy loss on codes (parametric UMAP).

The graph and the curve ``φ(d) = 1 / (1 + a d^{2b})`` come from umap-learn itself
(``fuzzy_simplicial_set``, ``find_ab_params``); this module only keeps the graph as flat
edge tensors, draws minibatches of edges from it and computes the loss of Sainburg,
McInnes & Gentner (2021) over every head-tail pair of a minibatch of edges.
:class:`NeighborTerm` is the one object an estimator calls for its ``n_neighbors``
option; the placement of new rows by the same loss is in ``_placement.py``.
"""

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors

# Below this many rows the exact k-NN search is cheaper than building an NN-descent index
# (and needs no numba compilation); umap-learn draws its own line at 4,096 too.
_EXACT_KNN_MAX_ROWS = 4096
# The weight of non-edges per edge (umap-learn's negative_sample_rate).
_NEGATIVE_SAMPLE_RATE = 5
# One unit of a umap-learn embedding, in standard deviations of the prior (see
# prior_code_scale).
_CODE_SCALE_PER_PRIOR_STD = 0.3


def import_umap():
    """umap-learn's ``umap.umap_``, or an ImportError that says how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba / tensorflow notices at import
            import umap.umap_
    except ImportError as exc:
        raise ImportError("n_neighbors needs umap-learn for the neighbour graph: "
                          "pip install umap-learn (or sklearn_aae[neighbors])") from exc
    return umap.umap_


def nearest_neighbors(X, n_neighbors, random_state):
    """Indices and distances of each row's ``n_neighbors`` nearest rows, itself first."""
    if X.shape[0] <= _EXACT_KNN_MAX_ROWS:
        distances, indices = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors(X)
        return indices, distances
    indices, distances, _ = import_umap().nearest_neighbors(
        X, n_neighbors, "euclidean", {}, False, random_state, low_memory=True, n_jobs=1)
    return indices, distances


def prior_code_scale(prior):
    """Code distance that counts as one unit of a umap-learn embedding, for codes matched to ``prior``.

    umap-learn's curve for ``min_dist`` assumes embeddings about ten units across, while
    an adversarial autoencoder's codes must fill the prior, a few units across: unscaled,
    the graph's repulsion pushes clusters out of the prior and the two losses fight.
    Scaling by the prior's spread lets both hold.
    """
    Z = prior.sample(1000, random_state=0)
    spread = float(np.sqrt(np.mean(np.var(Z, axis=0))))
    # A prior of one point (a categorical prior with one category) has no spread to follow.
    return _CODE_SCALE_PER_PRIOR_STD * spread if spread > 0 else 1.0


def neighbor_class_consistency(logits_head, logits_tail):
    """Symmetric KL divergence between the class probabilities of the two ends of edges.

    Each side is pulled towards the other's *detached* probabilities, so the gradient is
    that of the cross-entropy against a fixed target (label propagation's update) and
    the loss, ``(KL(p_t || p_h) + KL(p_h || p_t)) / 2`` averaged over the edges, is 0
    when neighbours agree.

    Parameters
    ----------
    logits_head, logits_tail : Tensor of shape (n_edges, n_classes)
        Class logits of the edges' end points.

    Returns
    -------
    loss : Tensor of shape ()
    """
    log_head = torch.log_softmax(logits_head.float(), dim=1)
    log_tail = torch.log_softmax(logits_tail.float(), dim=1)
    # KL(q || p) with q fixed: sum q (log q - log p); its gradient in p is the cross-entropy's.
    head_to_tail = torch.sum(log_tail.detach().exp() * (log_tail.detach() - log_head), dim=1)
    tail_to_head = torch.sum(log_head.detach().exp() * (log_head.detach() - log_tail), dim=1)
    return 0.5 * (head_to_tail + tail_to_head).mean()


class NeighborTerm:
    """The ``n_neighbors`` option during one fit: the graph of the training rows and its losses.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The rows given to the fit, as the caller gave them: distances are taken between
        these, as umap-learn takes them (the networks' per-feature standardisation would
        blow up rarely lit pixels).
    data : TrainingData
        The same fit's training rows as standardised minibatches; the graph is built on
        ``X[data.indices]``.
    n_neighbors : int
        Neighbourhood size, counting the row itself.
    min_dist : float
        How tightly neighbours may pack, as in umap-learn.
    code_scale : float
        The size, in code units, of one unit of a umap-learn embedding.
    random_state : RandomState
        Seeds the approximate neighbour search on large data.
    """

    def __init__(self, X, data, *, n_neighbors, min_dist, code_scale, random_state, progress=None):
        if len(data) < 2:
            raise ValueError("n_neighbors needs at least 2 training rows to build a neighbour graph.")
        indices = data.indices.cpu().numpy()
        rows = X if len(indices) == X.shape[0] else X[indices]
        self.graph = NeighborGraph(rows, n_neighbors, min_dist=min_dist, code_scale=code_scale,
                                   negative_sample_rate=_NEGATIVE_SAMPLE_RATE, random_state=random_state,
                                   device=data.indices.device, progress=progress)

    @staticmethod
    def rows_per_epoch(n_rows, batch_size):
        """Rows in an epoch of :meth:`epoch_order`: whole minibatches of edge end points."""
        n_edges = max(1, batch_size // 2)
        return max(1, -(-n_rows // (2 * n_edges))) * 2 * n_edges

    def epoch_order(self, n_rows, batch_size, generator):
        """Training positions for one epoch of about ``n_rows`` rows, batch by batch.

        Each minibatch is the two end points of ``batch_size // 2`` edges drawn with
        probability ∝ weight: its heads, then its tails. The minibatch that is
        reconstructed and matched to the prior is then also the one the graph loss reads,
        so the graph costs no encoder pass of its own. Rows come up about as often as in a
        shuffled pass: a row's share of the edge weight is close to even in UMAP's graph.
        """
        n_edges = max(1, batch_size // 2)
        n_batches = self.rows_per_epoch(n_rows, batch_size) // (2 * n_edges)
        head, tail = self.graph.sample_edges(n_batches * n_edges, generator)
        return torch.cat([head.view(n_batches, n_edges), tail.view(n_batches, n_edges)], dim=1).flatten()

    def losses(self, Z, logits, positions):
        """UMAP's graph loss on a minibatch made by :meth:`epoch_order`, and with a class
        head the graph consistency of its class probabilities.

        ``Z`` and ``logits`` are the training-mode codes and class logits (or None) of the
        minibatch's rows, whose positions in the training data are ``positions`` (heads,
        then tails). The encoder saw them with the minibatch's input noise, so it learns to
        keep neighbours together for rows near, not only at, the training rows.

        Returns
        -------
        losses : dict of str to Tensor
            'neighbors', and 'neighbor_classes' when ``logits`` is not None.
        """
        losses = {"neighbors": self.graph.loss(Z, positions)}
        if logits is not None:
            losses["neighbor_classes"] = neighbor_class_consistency(*logits.chunk(2))
        return losses


class NeighborGraph:
    """The fuzzy k-NN graph of the training rows, as edges to draw minibatches from.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows; edges index these rows.
    n_neighbors : int
        Neighbourhood size, counting the row itself (as in umap-learn).
    min_dist : float
        The curve φ's parameter, fitted with umap-learn's ``find_ab_params`` (spread 1).
    code_scale : float
        Codes are divided by it before distances are taken: the size, in code units, of
        one unit of a umap-learn embedding.
    negative_sample_rate : int
        Weight of the non-edges' term: how many non-edges each edge meets on average.
    random_state : RandomState
        Seeds the approximate neighbour search on large data.
    device : torch.device
        Where the edge tensors live.
    progress : tqdm or None, default=None
        A progress bar of the build's two phases (the neighbour search, the fuzzy set).
    """

    def __init__(self, X, n_neighbors, *, min_dist, code_scale, negative_sample_rate, random_state, device,
                 progress=None):
        umap_ = import_umap()
        n_neighbors = min(n_neighbors, X.shape[0])
        self.n_neighbors = n_neighbors
        # The rows the edges index, as given (a reference): a placement of new rows
        # searches exactly these.
        self.X = X
        # numba's OpenMP layer, which umap-learn's parallel kernels start, resets the
        # OpenMP thread count that torch shares with it: after a graph built with
        # OMP_NUM_THREADS=1, torch trained on two threads, and ten times slower on a busy
        # two-core machine. torch gets its own setting back.
        torch_threads = torch.get_num_threads()
        try:
            _phase(progress, f"nearest neighbours of {X.shape[0]:,} rows")
            knn_indices, knn_distances = nearest_neighbors(X, n_neighbors, random_state)
            _phase(progress, "fuzzy simplicial set")
            # The fuzzy set does not depend on the distances' unit, but umap-learn's search
            # for each row's bandwidth has absolute tolerances: data in units of 1e-30 gave
            # every row the same code. Distances go in units of their median.
            positive = knn_distances[knn_distances > 0]
            if positive.size:
                knn_distances = knn_distances / np.median(positive)
            graph, _, _ = umap_.fuzzy_simplicial_set(X, n_neighbors, random_state, "euclidean",
                                                     knn_indices=knn_indices, knn_dists=knn_distances)
        finally:
            torch.set_num_threads(torch_threads)
        _phase(progress, "done")
        graph = graph.tocsr()
        graph.sort_indices()
        # CSR rows: the edges of any set of rows are one gather away (loss on a minibatch).
        self.indptr = torch.as_tensor(graph.indptr.astype(np.int64), device=device)
        self.tail = torch.as_tensor(graph.indices.astype(np.int64), device=device)
        self.head = torch.repeat_interleave(torch.arange(graph.shape[0], device=device),
                                            self.indptr.diff())
        self.weight = torch.as_tensor(graph.data, dtype=torch.float32, device=device)
        # Drawing edges with probability ∝ weight (inverse-CDF on the cumulative weights)
        # is what umap-learn's epochs_per_sample schedule does on average.
        self.cumulative_weight = torch.as_tensor(np.cumsum(graph.data, dtype=np.float64), device=device)
        a, b = umap_.find_ab_params(1.0, min_dist)
        self.a, self.b = float(a), float(b)
        self.code_scale = code_scale
        self.negative_sample_rate = negative_sample_rate

    @property
    def n_edges(self):
        return self.head.shape[0]

    def sample_edges(self, n_edges, generator):
        """Positions (head, tail) of ``n_edges`` edges drawn with probability ∝ weight."""
        total = self.cumulative_weight[-1]
        draws = torch.rand(n_edges, generator=generator, device=total.device, dtype=total.dtype) * total
        edges = torch.searchsorted(self.cumulative_weight, draws).clamp_(max=self.n_edges - 1)
        return self.head[edges], self.tail[edges]

    def batch_edges(self, rows, columns):
        """Every graph edge from a row of ``rows`` to one of ``columns``: (i, j, weight).

        ``rows`` and ``columns`` are positions in the training data, i and j index them. A
        position repeated among the columns meets each of its edges once per copy. Only
        the rows' own edge lists are read, so this costs O(batch · k · log batch) whatever
        the data size.
        """
        start = self.indptr[rows]
        degree = self.indptr[rows + 1] - start
        owner = torch.repeat_interleave(torch.arange(rows.shape[0], device=rows.device), degree)
        edge = start[owner] + _offsets(degree)
        # Every copy of each edge's end point among the columns: its run in the sorted columns.
        sorted_columns, order = torch.sort(columns)
        end_point = self.tail[edge]
        first = torch.searchsorted(sorted_columns, end_point)
        copies = torch.searchsorted(sorted_columns, end_point, right=True) - first
        match = torch.repeat_interleave(torch.arange(edge.shape[0], device=rows.device), copies)
        return owner[match], order[first[match] + _offsets(copies)], self.weight[edge[match]]

    def loss(self, Z, positions):
        """UMAP's fuzzy-set cross-entropy over every (head, tail) pair of a minibatch of edges.

        ``Z`` holds the codes of the training rows ``positions``, heads then tails. Each
        graph edge from a head to a tail should be short, ``-log φ(d)``, weighted by its
        membership strength; every pair should be long, ``-log(1 - φ(d))``, weighted by one
        minus its membership and scaled so that each edge meets ``negative_sample_rate``
        non-edges on average, as in umap-learn. Using all pairs of the codes already
        computed, rather than umap-learn's few sampled ones, costs no encoder pass and gives
        a far less noisy gradient: the heads and tails of a minibatch of drawn edges are
        joined by many more graph edges than were drawn.
        """
        Z = Z.float() / self.code_scale
        Z_head, Z_tail = Z.chunk(2)
        head, tail = positions.chunk(2)
        squared = (Z_head[:, None, :] - Z_tail[None, :, :]).pow(2).sum(dim=2)  # (n_edges, n_edges)
        # With t = log(a d^{2b}): -log φ(d) = softplus(t) and -log(1 - φ(d)) = softplus(-t),
        # finite and smooth everywhere; the floor on d² only matters for coincident codes.
        t = math.log(self.a) + self.b * torch.log(squared.clamp_min(1e-8))
        i, j, weight = self.batch_edges(head, tail)
        attraction = (weight * F.softplus(t[i, j])).sum() / weight.sum().clamp_min(1e-12)
        # Every pair (i, j) of different rows repels with weight 1 - w_ij, as in UMAP's
        # cross-entropy; a row drawn twice is not its own non-edge.
        other_row = (head[:, None] != tail[None, :]).float()
        repulsion_weight = other_row.index_put((i, j), -weight, accumulate=True)
        repulsion = (repulsion_weight * F.softplus(-t)).sum() / other_row.sum().clamp_min(1.0)
        return attraction + self.negative_sample_rate * repulsion


def _phase(progress, name):
    """Shows ``name`` as the phase the progress bar is in; the bar counts finished phases."""
    if progress is None:
        return
    if progress.postfix:
        progress.update(1)
    progress.set_postfix_str(name, refresh=True)


def _offsets(counts):
    """0, 1, ..., c - 1 for each count c, concatenated: the position inside each run."""
    return torch.arange(int(counts.sum()), device=counts.device) - torch.repeat_interleave(counts.cumsum(0) - counts,
                                                                                         counts)
