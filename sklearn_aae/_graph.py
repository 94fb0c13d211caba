"""UMAP's fuzzy neighbour graph and its cross-entropy loss on codes (parametric UMAP).

The graph and the curve ``φ(d) = 1 / (1 + a d^{2b})`` come from umap-learn itself
(``fuzzy_simplicial_set``, ``find_ab_params``); this module only keeps the graph as flat
edge tensors, draws minibatches of edges from it and computes the loss of Sainburg,
McInnes & Gentner (2021) over every head-tail pair of a minibatch of edges.
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


def _import_umap():
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
    indices, distances, _ = _import_umap().nearest_neighbors(
        X, n_neighbors, "euclidean", {}, False, random_state, low_memory=True, n_jobs=1)
    return indices, distances


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
    """

    def __init__(self, X, n_neighbors, *, min_dist, code_scale, negative_sample_rate, random_state, device):
        umap_ = _import_umap()
        n_neighbors = min(n_neighbors, X.shape[0])
        # numba's OpenMP layer, which umap-learn's parallel kernels start, resets the
        # OpenMP thread count that torch shares with it: after a graph built with
        # OMP_NUM_THREADS=1, torch trained on two threads, and ten times slower on a busy
        # two-core machine. torch gets its own setting back.
        torch_threads = torch.get_num_threads()
        try:
            knn_indices, knn_distances = nearest_neighbors(X, n_neighbors, random_state)
            graph, _, _ = umap_.fuzzy_simplicial_set(X, n_neighbors, random_state, "euclidean",
                                                     knn_indices=knn_indices, knn_dists=knn_distances)
        finally:
            torch.set_num_threads(torch_threads)
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
        # The estimator attaches its training rows (``batch(positions)`` gives
        # standardised minibatches) for the length of one fit.
        self.rows = None

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
        a far less noisy gradient: on the digits training rows, 512 drawn edges connect
        their heads and tails by about 4,950 graph edges.
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


def _offsets(counts):
    """0, 1, ..., c - 1 for each count c, concatenated: the position inside each run."""
    return torch.arange(int(counts.sum()), device=counts.device) - torch.repeat_interleave(counts.cumsum(0) - counts,
                                                                                         counts)
