"""UMAP's fuzzy neighbour graph and its cross-entropy loss on codes (parametric UMAP).

The graph and the curve ``φ(d) = 1 / (1 + a d^{2b})`` come from umap-learn itself
(``fuzzy_simplicial_set``, ``find_ab_params``); this module only keeps the graph as flat
edge tensors, draws minibatches of edges from it and computes the loss of Sainburg,
McInnes & Gentner (2021) over every head-tail pair of a minibatch of edges. With
``transform_mode='neighbors'`` it also places new rows among the training codes by the
same loss, as umap-learn's ``transform`` does (:class:`NeighborPlacement`).
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
# Placement of new rows (transform_mode='neighbors'): Adam steps, and their size as a
# share of the spread of each row's neighbours' codes. On held-out digits
# (benchmarks/placement.py, seeds 0-2) 5 to 30 steps at shares 0.1 to 0.3 all gave 5-NN
# 0.964-0.974 / trustworthiness 0.970-0.978. On a second split, kept apart from the one
# issue 7's targets are measured on, 20 and 30 steps at 0.1 tied (0.974 / 0.978), so
# the cheaper one. A fixed step (0.3 in umap-learn's units) did as well on digits but
# threw rows out of tight clusters elsewhere.
_PLACEMENT_STEPS = 20
_PLACEMENT_LEARNING_RATE = 0.1
# Elements of one block of query-to-training distances: bounds transform's memory.
_DISTANCE_BLOCK = 1 << 24


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
        self.n_neighbors = n_neighbors
        # The rows the edges index, as given (a reference): a placement of new rows
        # searches exactly these.
        self.fit_rows = X
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

    def placement(self, codes):
        """A :class:`NeighborPlacement` of new rows among the graph's rows, whose codes are
        ``codes``."""
        return NeighborPlacement(self.fit_rows, codes, n_neighbors=self.n_neighbors, a=self.a, b=self.b,
                                 code_scale=self.code_scale, negative_sample_rate=self.negative_sample_rate)

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


class NeighborPlacement:
    """Places new rows among fixed training codes the way umap-learn's ``transform`` does.

    Each new row gets its ``n_neighbors`` nearest training rows (exact Euclidean search
    in torch, on the model's device) with umap-learn's membership strengths
    (``smooth_knn_dist``, as its ``transform`` computes them), starts at the
    membership-weighted mean of their codes (its ``init_graph_transform``) and moves by
    a few Adam steps of UMAP's cross-entropy: pulled towards those codes, pushed from
    ``negative_sample_rate`` random training codes, the training codes staying fixed.
    Every row is placed on its own, with the same random training codes at each step
    for all rows, so a row's code does not depend on the other rows it comes with.

    Keeps the training rows (float32), so memory and pickles grow by
    ``n_samples × n_features × 4`` bytes; each new row costs a distance to every
    training row.

    Parameters
    ----------
    rows : ndarray of shape (n_samples, n_features)
        The training rows, as the neighbour graph measured them.
    codes : ndarray of shape (n_samples, n_components)
        Their codes.
    n_neighbors : int
        Neighbours per new row, counting a coinciding training row.
    a, b : float
        The curve ``φ(d) = 1 / (1 + a d^{2b})`` of the neighbour graph's loss.
    code_scale : float
        Codes are divided by it before distances are taken, as in the graph's loss.
    negative_sample_rate : int
        Random training codes that push each new row away at each step.
    """

    def __init__(self, rows, codes, *, n_neighbors, a, b, code_scale, negative_sample_rate):
        self.rows = np.ascontiguousarray(rows, dtype=np.float32)
        self.codes = np.ascontiguousarray(np.asarray(codes) / code_scale, dtype=np.float32)
        self.n_neighbors = min(n_neighbors, self.rows.shape[0])
        self.a, self.b = a, b
        self.code_scale = code_scale
        self.negative_sample_rate = negative_sample_rate

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_on_device", None)  # a device copy is rebuilt where the model is opened
        return state

    def _tensors(self, device):
        """The training rows, their codes and squared norms on ``device``, kept between
        calls: on a GPU, copying the rows over for every small batch would dominate."""
        cached = self.__dict__.get("_on_device")
        if cached is None or cached[0] != device:
            rows = torch.as_tensor(self.rows, device=device)
            cached = (device, rows, torch.as_tensor(self.codes, device=device), rows.square().sum(1))
            self._on_device = cached
        return cached[1:]

    @torch.no_grad()
    def transform(self, X, device, chunk_size):
        """Codes of the rows ``X`` (ndarray), ``chunk_size`` rows at a time; float64 out."""
        rows, codes, squared_norms = self._tensors(device)
        # Drawn once per call, shared by all rows: transform is deterministic and a row's
        # code does not depend on its chunk.
        far = torch.randint(0, codes.shape[0], (_PLACEMENT_STEPS, self.negative_sample_rate),
                            generator=torch.Generator().manual_seed(0))
        far_codes = codes[far.to(device)].transpose(1, 2)[:, :, None, :]  # (steps, n_components, 1, m)
        out = np.empty((X.shape[0], codes.shape[1]))
        for start in range(0, X.shape[0], chunk_size):
            chunk = torch.as_tensor(np.asarray(X[start:start + chunk_size], dtype=np.float32), device=device)
            distances, nearest = self._nearest(chunk, rows, squared_norms)
            Z = self._optimise(codes, distances, nearest, far_codes)
            out[start:start + chunk.shape[0]] = Z.cpu().numpy() * self.code_scale
        return out

    def _nearest(self, X, rows, squared_norms):
        """Distances (ascending) and indices of each row's nearest training rows."""
        block = max(1, _DISTANCE_BLOCK // rows.shape[0])
        # ‖x - r‖² - ‖x‖² = ‖r‖² - 2 x·r ranks the training rows for x in one matrix product.
        nearest = torch.cat([torch.addmm(squared_norms, X[start:start + block], rows.T, alpha=-2)
                             .topk(self.n_neighbors, largest=False)[1] for start in range(0, X.shape[0], block)])
        # That form loses small distances to cancellation (a row's distance to its own
        # copy comes out near 1e-3, not 0, and depends on the batch), and the memberships
        # hinge on them: the chosen neighbours' distances are taken directly.
        distances = (X[:, None, :] - rows[nearest]).norm(dim=2)
        distances, order = distances.sort(dim=1)
        return distances, nearest.gather(1, order)

    def memberships(self, distances):
        """umap-learn's membership strengths of each row's neighbours, from their
        distances (ascending, one row per new row), as its ``transform`` computes them."""
        umap_ = _import_umap()
        # local_connectivity 0: what umap-learn's transform uses for new rows (its
        # local_connectivity - 1), so a row's nearest neighbour does not get membership 1.
        sigmas, rhos = umap_.smooth_knn_dist(distances.cpu().numpy(), float(self.n_neighbors),
                                            local_connectivity=0.0)
        sigmas = torch.as_tensor(sigmas, dtype=torch.float32, device=distances.device)
        rhos = torch.as_tensor(rhos, dtype=torch.float32, device=distances.device)
        return torch.exp(-(distances - rhos[:, None]).clamp_min(0) / sigmas[:, None])

    def _optimise(self, codes, distances, nearest, far_codes):
        """Codes (graph units) of rows with these neighbours, after the Adam steps against
        the fixed training codes, the random ones at each step being ``far_codes``."""
        weight = self.memberships(distances)
        total = weight.sum(1)
        # Coordinates first, (n_components, n_rows, references): the sums over the few
        # coordinates are then sums of whole slices, which is what makes the steps cheap.
        near = codes[nearest].permute(2, 0, 1)
        Z = (weight * near).sum(2, keepdim=True) / total[:, None]  # (n_components, n_rows, 1)
        # Adam's steps have the size of its learning rate, whatever the gradient: the rate
        # follows each row's neighbourhood, the spread of its neighbours' codes, so a row
        # in a tight cluster is not thrown out of it.
        spread = ((weight * (near - Z).square().sum(0)).sum(1) / total).sqrt()
        step_scale = (_PLACEMENT_LEARNING_RATE * spread)[:, None]
        # The gradient of -w log φ(d) + (w_total / m) Σ -log(1 - φ(d_far)) is Σ_j c_j (z - e_j)
        # with c_j = 2b (A_j q_j + B_j) / d_j², q = 1 - φ = sigmoid(log(a d^{2b})): A = w and
        # B = 0 for the neighbours; A = w_total / m = -B for the m random codes.
        n_rows, m = weight.shape[0], far_codes.shape[3]
        repulsion = (total / m)[:, None].expand(n_rows, m)
        A = torch.cat([weight, repulsion], 1) * (2 * self.b)
        B = torch.cat([torch.zeros_like(weight), -repulsion], 1) * (2 * self.b)
        references = torch.cat([near, near.new_empty(near.shape[0], n_rows, m)], 2)
        first, second = torch.zeros_like(Z), torch.zeros_like(Z)
        beta1, beta2, log_a = 0.9, 0.999, math.log(self.a)
        for step in range(far_codes.shape[0]):
            references[:, :, self.n_neighbors:] = far_codes[step]
            difference = Z - references
            squared = difference.square().sum(0).clamp_min_(1e-8)
            q = squared.log().mul_(self.b).add_(log_a).sigmoid_()
            coefficient = torch.addcmul(B, q, A).div_(squared)
            gradient = (coefficient * difference).sum(2, keepdim=True)
            # Adam with bias correction, the step decayed linearly to 0 as in umap-learn.
            first.lerp_(gradient, 1 - beta1)
            second.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
            denominator = second.sqrt().div_(math.sqrt(1 - beta2 ** (step + 1))).add_(1e-8)
            decay = (1 - step / far_codes.shape[0]) / (1 - beta1 ** (step + 1))
            Z.addcdiv_(first * step_scale, denominator, value=-decay)
        return Z[:, :, 0].T


def _offsets(counts):
    """0, 1, ..., c - 1 for each count c, concatenated: the position inside each run."""
    return torch.arange(int(counts.sum()), device=counts.device) - torch.repeat_interleave(counts.cumsum(0) - counts,
                                                                                         counts)
