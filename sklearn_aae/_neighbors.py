"""UMAP's fuzzy neighbour graph and its cross-entropy loss on codes (parametric UMAP).

The graph and the curve ``φ(d) = 1 / (1 + a d^{2b})`` come from umap-learn itself
(``fuzzy_simplicial_set``, ``find_ab_params``); this module only keeps the graph as flat
edge tensors, draws minibatches of edges from it and computes the loss of Sainburg,
McInnes & Gentner (2021) over every head-tail pair of a minibatch of edges.
:class:`NeighborTerm` is the one object an estimator calls for its ``n_neighbors``
option; the placement of new rows by the same loss is in ``_placement.py``.
"""

import contextlib
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

# The paper's terms (reconstruction, the prior's discriminator and the encoder's loss
# against it, a class head's discriminator) are means over rows, and a minibatch of the
# plain model's size estimates them well; the graph's loss is over pairs of rows and needs
# the larger minibatches of edges that batch_size='auto' gives on large data. From a
# minibatch of edge end points they read an evenly spaced share of about this many rows,
# which saves the decoder's and the discriminators' passes over the rest.
_PAPER_TERM_ROWS = 256
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
    indices, distances, _ = neighbor_search(X, n_neighbors, random_state)
    return indices, distances


def neighbor_search(X, n_neighbors, random_state):
    """:func:`nearest_neighbors`, and the search index that found them: ``(indices,
    distances, index)``, ``index`` being ``None`` for the exact search of a few thousand
    rows, else a :class:`SearchIndex` that finds the nearest of these rows to new ones."""
    if X.shape[0] <= _EXACT_KNN_MAX_ROWS:
        distances, indices = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors(X)
        return indices, distances, None
    index = SearchIndex(n_neighbors, random_state.randint(np.iinfo(np.int32).max))
    indices, distances = index.build(X)
    return indices, distances, index


# umap-learn's transform searches its NN-descent index for new rows at this accuracy
# (pynndescent's epsilon: the larger, the more of the index is searched).
_SEARCH_EPSILON = 0.12


class SearchIndex:
    """umap-learn's NN-descent index (pynndescent's ``NNDescent``) of a set of rows, as its
    ``nearest_neighbors`` builds it: the rows' own neighbour lists, and the nearest rows to
    new ones by ``query``, at the cost of a search of a small part of the rows.

    The index is built with a seed of its own (``seed``) on one thread, so the same rows
    always give the same index: it is not pickled or saved (it is not plain arrays), and
    whoever holds the rows rebuilds it (:meth:`query` with ``rows``) after loading.

    Parameters
    ----------
    n_neighbors : int
        Neighbours per row the index is built with, counting the row itself.
    seed : int
        Seeds the index's random projection trees and NN-descent.
    """

    def __init__(self, n_neighbors, seed):
        self.n_neighbors = n_neighbors
        self.seed = int(seed)
        self._index = None

    def build(self, rows):
        """Builds the index of ``rows``; each row's nearest rows, as (indices, distances)."""
        with _torch_threads_kept():
            indices, distances, self._index = import_umap().nearest_neighbors(
                rows, self.n_neighbors, "euclidean", {}, False, self.seed, low_memory=True, n_jobs=1)
        return indices, distances

    def query(self, X, k, rows):
        """The ``k`` nearest of the indexed ``rows`` to each row of ``X`` (float32), nearest
        first, as (indices, distances) arrays; the index is rebuilt from ``rows`` first if
        it was pickled or saved."""
        if self._index is None:
            self.build(rows)
        with _torch_threads_kept():
            return self._index.query(X, k, epsilon=_SEARCH_EPSILON)

    def __getstate__(self):
        return {"n_neighbors": self.n_neighbors, "seed": self.seed, "_index": None}


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
    keep_neighbor_lists : bool, default=False
        Keep each row's neighbours and their distances on the graph (``knn_indices``,
        ``knn_distances``) for a clusterer's steps after training.
    keep_search_index : bool, default=False
        Keep the graph's ``search_index`` for a placement of new rows, or a clusterer's
        vote, after training.
    """

    def __init__(self, X, data, *, n_neighbors, min_dist, code_scale, random_state, progress=None,
                 keep_neighbor_lists=False, keep_search_index=False):
        if len(data) < 2:
            raise ValueError("n_neighbors needs at least 2 training rows to build a neighbour graph.")
        indices = data.indices.cpu().numpy()
        rows = X if len(indices) == X.shape[0] else X[indices]
        self.graph = NeighborGraph(rows, n_neighbors, min_dist=min_dist, code_scale=code_scale,
                                   negative_sample_rate=_NEGATIVE_SAMPLE_RATE, random_state=random_state,
                                   device=data.indices.device, progress=progress,
                                   keep_neighbor_lists=keep_neighbor_lists, keep_search_index=keep_search_index)

    @staticmethod
    def rows_per_epoch(n_rows, batch_size):
        """Rows in an epoch of :meth:`epoch_order`: whole minibatches of edge end points."""
        n_edges = max(1, batch_size // 2)
        return max(1, -(-n_rows // (2 * n_edges))) * 2 * n_edges

    @staticmethod
    def paper_rows(batch_size):
        """The rows of a minibatch of ``batch_size`` edge end points that the paper's terms
        read: every k-th, so that about ``_PAPER_TERM_ROWS`` are left (all of a minibatch
        of fewer than twice as many).

        The minibatch's edges are drawn at random, so every k-th row is a random share of
        it, heads and tails alike; the graph's loss still reads every row.

        Examples
        --------
        >>> from sklearn_aae._neighbors import NeighborTerm
        >>> NeighborTerm.paper_rows(1024), NeighborTerm.paper_rows(256)
        (slice(None, None, 4), slice(None, None, 1))
        """
        return slice(None, None, max(1, batch_size // _PAPER_TERM_ROWS))

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


# umap-learn's spectral layout runs ARPACK with √n Lanczos vectors of n rows: memory that
# grows as n^1.5, 8 GB at 1,000,000 rows, most of a large fit's peak. From this many rows
# the layout is found by LOBPCG (umap-learn's own alternative, which it picks from 2M rows
# up), whose memory is a few vectors per row and which is faster there too; below it
# ARPACK is as fast or faster (at 30,000 rows the two take the same time). A graph of
# several components is laid out component by component by umap-learn, with ARPACK.
_LOBPCG_MIN_ROWS = 20_000


def _spectral_embedding(X, graph, n_components, random_state):
    """umap-learn's spectral layout of ``graph`` (CSR, one row per row of ``X``), by the
    eigensolver that suits its size."""
    umap_ = import_umap()
    if graph.shape[0] < _LOBPCG_MIN_ROWS:
        return umap_.spectral_layout(X, graph, n_components, random_state)
    return umap_.tswspectral_layout(X, graph, n_components, random_state, method="lobpcg")


# NeighborGraph.refine_layout: umap-learn's epochs over the edges of the training codes
# (it runs 500 from a spectral start; a trained encoder's codes need only a polish), at
# this share of umap-learn's initial step size.
_REFINE_EPOCHS = 100
_REFINE_LEARNING_RATE = 0.1
# The placement's refinement (refinement_schedule): on a few thousand rows held-out
# neighbourhoods kept improving up to about 300 epochs at a share of 0.2-0.3, while a
# stronger polish (umap-learn's own 500 at 1.0) made them worse again. Its cost grows with
# the edges, so the epochs fall as 1 / sqrt(rows), as the encoder's do, to the clusterer's
# 100 at 0.1 from 10,000 rows on; the step size keeps their ratio.
_PLACEMENT_REFINE_SCALE = 10_000
_PLACEMENT_REFINE_MAX_EPOCHS = 300


def refinement_schedule(n_rows):
    """``(epochs, learning_rate)`` of the placement's :meth:`NeighborGraph.refine_layout`
    on ``n_rows`` training rows: ``10,000 / sqrt(n_rows)`` epochs between 100 and 300, at
    a share of umap-learn's step size of a thousandth of the epochs."""
    epochs = int(np.clip(round(_PLACEMENT_REFINE_SCALE / math.sqrt(max(n_rows, 1))), _REFINE_EPOCHS,
                         _PLACEMENT_REFINE_MAX_EPOCHS))
    return epochs, _REFINE_LEARNING_RATE * epochs / _REFINE_EPOCHS


def _same_moments(Z, reference):
    """``Z`` mapped affinely to the mean and covariance of ``reference`` (both (n, d))."""
    def root(covariance, power):
        values, vectors = np.linalg.eigh(np.atleast_2d(covariance))
        values = np.clip(values, values.max() * 1e-12, None) if values.max() > 0 else np.ones_like(values)
        return (vectors * values ** power) @ vectors.T
    whitening = root(np.cov(Z, rowvar=False), -0.5)
    colouring = root(np.cov(reference, rowvar=False), 0.5)
    return (Z - Z.mean(axis=0)) @ whitening @ colouring + reference.mean(axis=0)


class NeighborGraph:
    """The fuzzy k-NN graph of the training rows, as edges to draw minibatches from.

    Its ``search_index`` is the :class:`SearchIndex` its neighbours came from (``None``
    for the exact search of at most ``_EXACT_KNN_MAX_ROWS`` rows, or unless
    ``keep_search_index``), which a placement of new rows among these rows, and a
    clusterer's vote of them, search.

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
    keep_neighbor_lists : bool, default=False
        Keep each row's neighbours, nearest first (itself among them), as ``knn_indices``
        and ``knn_distances``; otherwise they are ``None`` once the graph is built.
    keep_search_index : bool, default=False
        Keep the search index as ``search_index``; otherwise it is ``None`` once the graph
        is built (an NN-descent index holds a copy of the rows).
    """

    def __init__(self, X, n_neighbors, *, min_dist, code_scale, negative_sample_rate, random_state, device,
                 progress=None, keep_neighbor_lists=False, keep_search_index=False):
        umap_ = import_umap()
        n_neighbors = min(n_neighbors, X.shape[0])
        self.n_neighbors = n_neighbors
        # The rows the edges index, as given (a reference): a placement of new rows
        # searches exactly these.
        self.X = X
        with _torch_threads_kept():
            show_phase(progress, f"nearest neighbours of {X.shape[0]:,} rows")
            knn_indices, knn_distances, search_index = neighbor_search(X, n_neighbors, random_state)
            self.search_index = search_index if keep_search_index else None
            # Each row's neighbours: a clusterer's partition and vote of the training rows
            # read them after training (O(n·k) more memory while the fit lasts).
            self.knn_indices, self.knn_distances = (knn_indices, knn_distances) if keep_neighbor_lists else (None, None)
            show_phase(progress, "fuzzy simplicial set")
            # The fuzzy set does not depend on the distances' unit, but umap-learn's search
            # for each row's bandwidth has absolute tolerances: data in units of 1e-30 gave
            # every row the same code. Distances go in units of their median.
            positive = knn_distances[knn_distances > 0]
            if positive.size:
                knn_distances = knn_distances / np.median(positive)
            graph, _, _ = umap_.fuzzy_simplicial_set(X, n_neighbors, random_state, "euclidean",
                                                     knn_indices=knn_indices, knn_dists=knn_distances)
        show_phase(progress, "done")
        graph = graph.tocsr()
        graph.sort_indices()
        # CSR rows: the edges of any set of rows are one gather away (loss on a minibatch).
        self.indptr = torch.as_tensor(graph.indptr.astype(np.int64), device=device)
        self.tail = torch.as_tensor(graph.indices.astype(np.int64), device=device)
        self.head = torch.repeat_interleave(torch.arange(graph.shape[0], device=device),
                                            self.indptr.diff())
        self.weight = torch.as_tensor(graph.data, dtype=torch.float32, device=device)
        # batch_edges' tables: how often each training row is among a minibatch's columns
        # (0 between calls), and where its run starts.
        self._run_copies = torch.zeros(graph.shape[0], dtype=torch.int64, device=device)
        self._run_first = torch.zeros(graph.shape[0], dtype=torch.int64, device=device)
        # Drawing edges with probability ∝ weight (inverse-CDF on the cumulative weights)
        # is what umap-learn's epochs_per_sample schedule does on average.
        self.cumulative_weight = torch.as_tensor(np.cumsum(graph.data, dtype=np.float64), device=device)
        a, b = umap_.find_ab_params(1.0, min_dist)
        self.a, self.b = float(a), float(b)
        self.code_scale = code_scale
        self.negative_sample_rate = negative_sample_rate

    def spectral_layout(self, n_components, random_state):
        """umap-learn's spectral layout of the graph (its own start), each coordinate
        standardised: an array of shape (n_training_rows, n_components).

        A graph of fewer rows than the layout needs eigenvectors gets a random layout; one
        of ``_LOBPCG_MIN_ROWS`` rows or more is laid out by LOBPCG, in memory linear in
        the rows.
        """
        n_rows = self.indptr.shape[0] - 1
        if n_rows <= n_components + 1:
            layout = random_state.normal(size=(n_rows, n_components))
        else:
            matrix = sparse.csr_matrix((self.weight.cpu().numpy(), self.tail.cpu().numpy(),
                                        self.indptr.cpu().numpy()), shape=(n_rows, n_rows))
            with _torch_threads_kept(), warnings.catch_warnings():
                # A graph of several components is laid out by component (umap-learn says
                # so in a warning), which is what a start needs.
                warnings.simplefilter("ignore")
                layout = _spectral_embedding(self.X, matrix, n_components, random_state)
        layout = layout - layout.mean(axis=0)
        spread = layout.std(axis=0)
        return layout / np.where(spread > 0, spread, 1.0)

    def refine_layout(self, codes, random_state, *, epochs=_REFINE_EPOCHS, learning_rate=_REFINE_LEARNING_RATE):
        """The codes of the graph's rows after ``epochs`` epochs of umap-learn's own
        layout optimiser (``optimize_layout_euclidean``) from ``codes``, at
        ``learning_rate`` times its initial step size, with the same mean and covariance
        as ``codes``: an array of the same shape.

        The encoder's codes are laid out by minibatch steps of a network, which settle
        the global arrangement but leave each row a little off the place its own edges
        give it; umap-learn's per-edge steps on the codes themselves, at a small step size,
        correct that locally. The affine map back to the
        codes' mean and covariance keeps them matched to the prior the encoder's codes
        were matched to.
        """
        n_rows = codes.shape[0]
        weight = self.weight.cpu().numpy().astype(np.float64)
        if n_rows <= codes.shape[1] + 1 or weight.size == 0:
            return codes
        # As umap-learn does before its epochs: an edge too weak to be drawn once in the
        # schedule is dropped.
        kept = weight >= weight.max() / epochs
        umap_ = import_umap()
        epochs_per_sample = umap_.make_epochs_per_sample(weight[kept], epochs)
        rng_state = random_state.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3).astype(np.int64)
        layout = np.ascontiguousarray(codes / self.code_scale, dtype=np.float32)
        with _torch_threads_kept():
            layout = umap_.optimize_layout_euclidean(
                layout, layout, self.head.cpu().numpy()[kept].astype(np.int32),
                self.tail.cpu().numpy()[kept].astype(np.int32), epochs, n_rows, epochs_per_sample,
                self.a, self.b, rng_state, 1.0, learning_rate, float(self.negative_sample_rate),
                parallel=False, move_other=True)
        return _same_moments(layout.astype(np.float64) * self.code_scale, np.asarray(codes, dtype=np.float64))

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
        the rows' own edge lists are read, so this costs O(batch · k) whatever the data
        size.
        """
        start = self.indptr[rows]
        degree = self.indptr[rows + 1] - start
        owner = torch.repeat_interleave(torch.arange(rows.shape[0], device=rows.device), degree)
        edge = start[owner] + _offsets(degree)
        # Every copy of each edge's end point among the columns: its run in the sorted
        # columns, looked up by training position in two tables of one entry per row
        # (a binary search of each end point cost several times more).
        sorted_columns, order = torch.sort(columns)
        values, copies_of_value = torch.unique_consecutive(sorted_columns, return_counts=True)
        end_point = self.tail[edge]
        try:
            self._run_copies[values] = copies_of_value
            self._run_first[values] = copies_of_value.cumsum(0) - copies_of_value
            first, copies = self._run_first[end_point], self._run_copies[end_point]
        finally:
            self._run_copies[values] = 0  # absent is 0 copies, for the next minibatch
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
        i, j, weight = self.batch_edges(head, tail)
        # With t = log(a d^{2b}): -log φ(d) = softplus(t), finite and smooth everywhere; the
        # floor on d² only matters for coincident codes. Only the few edges are read.
        squared = (Z_head[i] - Z_tail[j]).square().sum(dim=1).clamp_min(1e-8)
        t = math.log(self.a) + self.b * torch.log(squared)
        attraction = (weight * F.softplus(t)).sum() / weight.sum().clamp_min(1e-12)
        # Every pair (i, j) of different rows in a block of _REPULSION_BLOCK heads and as
        # many tails repels with weight 1 - w_ij, as in UMAP's cross-entropy; a row drawn
        # twice is not its own non-edge. The blocks are one batch of matrices, the last
        # padded with weightless pairs.
        n_edges = Z_head.shape[0]
        n_blocks = -(-n_edges // _REPULSION_BLOCK)
        size = min(n_edges, _REPULSION_BLOCK)
        padding = n_blocks * size - n_edges
        with torch.no_grad():
            block_head = F.pad(head, (0, padding), value=-1).view(n_blocks, size)
            block_tail = F.pad(tail, (0, padding), value=-2).view(n_blocks, size)
            repulsion_weight = ((block_head[:, :, None] != block_tail[:, None, :])
                                & (block_head[:, :, None] >= 0) & (block_tail[:, None, :] >= 0)).float()
            n_pairs = repulsion_weight.sum()
            inside = i // size == j // size
            repulsion_weight.index_put_((i[inside] // size, i[inside] % size, j[inside] % size), -weight[inside],
                                        accumulate=True)
        repulsion = pair_repulsion(F.pad(Z_head, (0, 0, 0, padding)).view(n_blocks, size, -1),
                                   F.pad(Z_tail, (0, 0, 0, padding)).view(n_blocks, size, -1),
                                   repulsion_weight, self.a, self.b)
        return attraction + self.negative_sample_rate * repulsion / n_pairs.clamp_min(1.0)


# Non-edges are the pairs of a head and a tail in the same block of this many edges of a
# minibatch: umap-learn samples 5 per edge, so a block is plenty, and the pairwise term's
# cost then grows with the minibatch, not with its square.
_REPULSION_BLOCK = 128
# umap-learn's repulsive gradient divides by (0.001 + d²) rather than d²: pairs of nearly
# coincident codes would otherwise get gradients without bound.
_REPULSION_EPSILON = 1e-3


def pair_repulsion(Z_head, Z_tail, weight, a, b):
    """``Σ_ij weight_ij · -log(1 - φ(d_ij))`` over every pair of a head and a tail code.

    ``d_ij² + 0.001`` stands for ``d_ij²`` (umap-learn's guard against coincident codes).
    The same value as autograd would give on the broadcast differences, computed with
    matrix products and a handful of passes over the (heads, tails) matrix, forward and
    backward: the pairwise term is most of the cost of a minibatch of edges.

    Parameters
    ----------
    Z_head : Tensor of shape (n_heads, n_components) or (n_blocks, n_heads, n_components)
        Codes (in units of the curve φ) of the edges' heads; with a leading dimension,
        blocks of heads, each paired with its own block of tails.
    Z_tail : Tensor of shape (n_tails, n_components) or (n_blocks, n_tails, n_components)
        Codes of the tails.
    weight : Tensor of shape (n_heads, n_tails) or (n_blocks, n_heads, n_tails)
        Repulsion weight of each (head, tail) pair; not differentiated.
    a, b : float
        The curve φ(d) = 1 / (1 + a d^{2b}).

    Returns
    -------
    loss : Tensor of shape ()
        The sum over every pair (of every block).
    """
    if Z_head.dim() == 2:
        return _PairRepulsion.apply(Z_head[None], Z_tail[None], weight[None], a, b)
    return _PairRepulsion.apply(Z_head, Z_tail, weight, a, b)


class _PairRepulsion(torch.autograd.Function):
    # Blocks of heads and tails, (n_blocks, n, n_components); pairs within a block only.
    @staticmethod
    def forward(ctx, Z_head, Z_tail, weight, a, b):
        with torch.autocast(Z_head.device.type, enabled=False):
            head, tail = Z_head.float(), Z_tail.float()
            # d² = |h|² + |t|² - 2 h·t, floored at 0 against rounding; then + epsilon.
            squared = torch.baddbmm(head.square().sum(2)[:, :, None] + tail.square().sum(2)[:, None, :], head,
                                    tail.transpose(1, 2), alpha=-2.0)
            squared.clamp_min_(0.0).add_(_REPULSION_EPSILON)
            u = squared.pow(b).mul_(a)  # a d^{2b}; -log(1 - φ) = log(1 + 1 / u)
            value = torch.dot(weight.flatten(), torch.log1p(u.reciprocal()).flatten())
            # d/d(d²) of log(1 + 1/u) is -b / (d² (1 + u)): the pair's gradient coefficient.
            coefficient = weight.div(u.add_(1.0).mul_(squared)).mul_(-b)
        ctx.save_for_backward(head, tail, coefficient)
        ctx.dtypes = Z_head.dtype, Z_tail.dtype
        return value

    @staticmethod
    def backward(ctx, grad):
        head, tail, coefficient = ctx.saved_tensors
        with torch.autocast(head.device.type, enabled=False):
            coefficient = coefficient * (2.0 * grad)
            # ∂/∂h_i Σ_j c_ij |h_i - t_j|² = 2 Σ_j c_ij (h_i - t_j), as two matrix products.
            grad_head = coefficient.sum(2)[:, :, None] * head - torch.bmm(coefficient, tail)
            grad_tail = coefficient.sum(1)[:, :, None] * tail - torch.bmm(coefficient.transpose(1, 2), head)
        return grad_head.to(ctx.dtypes[0]), grad_tail.to(ctx.dtypes[1]), None, None, None


@contextlib.contextmanager
def _torch_threads_kept():
    """Runs umap-learn's numba kernels with torch's thread count put back afterwards.

    numba's OpenMP layer, which umap-learn's parallel kernels start, resets the OpenMP
    thread count that torch shares with it: after a graph built with OMP_NUM_THREADS=1,
    torch trained on two threads, and ten times slower on a busy two-core machine.
    """
    torch_threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)


def show_phase(progress, name):
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
