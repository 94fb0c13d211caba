"""Placement of new rows among fixed training codes (``transform_mode='neighbors'``).

umap-learn's ``transform`` in torch: each new row starts at the membership-weighted mean
of its nearest training rows' codes and moves by a few Adam steps of the neighbour
graph's loss (``_neighbors.py``), the training codes staying fixed.
"""

import math

import numpy as np
import torch

from ._neighbors import SearchIndex, import_umap

# Elements of one block of query-to-training distances: bounds transform's memory.
_DISTANCE_BLOCK = 1 << 24
# Rows with entries beyond this, or all below its inverse, are rescaled before distances
# are taken (see __init__).
_LARGEST_UNSCALED = 2.0 ** 60


class NeighborPlacement:
    """Places new rows among fixed training codes the way umap-learn's ``transform`` does.

    Each new row gets its ``n_neighbors`` nearest training rows with umap-learn's
    membership strengths
    (``smooth_knn_dist``, as its ``transform`` computes them), starts at the
    membership-weighted mean of their codes (its ``init_graph_transform``) and moves by
    a few Adam steps of UMAP's cross-entropy: pulled towards those codes, pushed from
    ``negative_sample_rate`` random training codes, the training codes staying fixed.
    Every row is placed on its own, with the same random training codes at each step
    for all rows, so a row's code does not depend on the other rows it comes with.

    The nearest rows are found as umap-learn's ``transform`` finds them: up to a few
    thousand training rows exactly (a distance to every training row, in torch on the
    model's device), above by a search of the NN-descent index the neighbour graph was
    built with (a :class:`~sklearn_aae._neighbors.SearchIndex`, on the CPU), whose cost
    grows about as the log of the training rows.

    Keeps the training rows (float32), so memory and pickles grow by
    ``n_samples × n_features × 4`` bytes, and with an index its neighbour lists in
    memory; a pickled or saved model rebuilds the index on its first ``transform``
    (the cost of the neighbour graph's search).

    Parameters
    ----------
    X_train : ndarray of shape (n_samples, n_features)
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
    steps : int, default=20
        Adam steps per placement. Few suffice: the start is already the neighbours'
        weighted mean.
    learning_rate : float, default=0.1
        Size of the steps as a share of the spread of each row's neighbours' codes, so
        that a row in a tight cluster is not thrown out of it (a fixed step is).
    search_index : SearchIndex or None, default=None
        The index of ``X_train`` new rows are searched by; ``None``: an exact search.
    """

    # A placement pickled or saved before the index existed searches exactly.
    search_index = None

    def __init__(self, X_train, codes, *, n_neighbors, a, b, code_scale, negative_sample_rate, steps=20,
                 learning_rate=0.1, search_index=None):
        # Distances are taken in float32, whose squares overflow past about 1e19 and vanish
        # below about 1e-19: rows that large or that small are measured in a unit of a power
        # of two, which rescales them exactly.
        largest = float(max(X_train.max(initial=0.0), -X_train.min(initial=0.0)))  # no temporary of X's size
        in_range = largest == 0.0 or 1.0 / _LARGEST_UNSCALED <= largest <= _LARGEST_UNSCALED
        self.unit = 1.0 if in_range else 2.0 ** math.floor(math.log2(largest))
        self.X_train = np.ascontiguousarray(self._in_unit(X_train), dtype=np.float32)
        self.codes = np.ascontiguousarray(np.asarray(codes) / code_scale, dtype=np.float32)
        self.n_neighbors = min(n_neighbors, self.X_train.shape[0])
        self.a, self.b = a, b
        self.code_scale = code_scale
        self.negative_sample_rate = negative_sample_rate
        self.steps = steps
        self.learning_rate = learning_rate
        # The index searches the rows in the unit they are kept in: one built on rows in
        # another unit is built again on these (on first use).
        if search_index is not None and self.unit != 1.0:
            search_index = SearchIndex(search_index.n_neighbors, search_index.seed)
        self.search_index = search_index

    @classmethod
    def from_graph(cls, graph, codes):
        """Placement among the rows of a :class:`~sklearn_aae._neighbors.NeighborGraph`,
        whose codes are ``codes``, by the graph's own loss."""
        return cls(graph.X, codes, n_neighbors=graph.n_neighbors, a=graph.a, b=graph.b,
                   code_scale=graph.code_scale, negative_sample_rate=graph.negative_sample_rate,
                   search_index=graph.search_index)

    def _in_unit(self, X):
        # Ordinary rows are used as they are: no float64 copy on the way to float32.
        return X if self.unit == 1.0 else np.asarray(X) / self.unit

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_on_device", None)  # a device copy is rebuilt where the model is opened
        return state

    def _tensors(self, device):
        """The training rows, their codes and squared norms on ``device``, kept between
        calls: on a GPU, copying the rows over for every small batch would dominate. With
        a search index the rows are searched on the CPU: only the codes go to the device
        (the rows and norms are ``None``)."""
        cached = self.__dict__.get("_on_device")
        if cached is None or cached[0] != device:
            X_train = None if self.search_index is not None else torch.as_tensor(self.X_train, device=device)
            cached = (device, X_train, torch.as_tensor(self.codes, device=device),
                      None if X_train is None else X_train.square().sum(1))
            self._on_device = cached
        return cached[1:]

    @torch.no_grad()
    def transform(self, X, device, chunk_size):
        """Codes of the rows ``X`` (ndarray), ``chunk_size`` rows at a time; float64 out."""
        X_train, codes, squared_norms = self._tensors(device)
        # Drawn once per call, shared by all rows: transform is deterministic and a row's
        # code does not depend on its chunk.
        far = torch.randint(0, codes.shape[0], (self.steps, self.negative_sample_rate),
                            generator=torch.Generator().manual_seed(0))
        far_codes = codes[far.to(device)].transpose(1, 2)[:, :, None, :].double()  # (steps, n_components, 1, m)
        out = np.empty((X.shape[0], codes.shape[1]))
        for start in range(0, X.shape[0], chunk_size):
            rows = np.ascontiguousarray(self._in_unit(X[start:start + chunk_size]), dtype=np.float32)
            if self.search_index is None:
                distances, nearest = self._nearest(torch.as_tensor(rows, device=device), X_train, squared_norms)
            else:
                nearest, distances = self.search_index.query(rows, self.n_neighbors, self.X_train)
                distances, nearest = (torch.as_tensor(distances, device=device),
                                      torch.as_tensor(nearest.astype(np.int64), device=device))
            Z = self._optimise(codes, distances, nearest, far_codes)
            out[start:start + rows.shape[0]] = Z.cpu().numpy() * self.code_scale
        return out

    def _nearest(self, X, X_train, squared_norms):
        """Distances (ascending) and indices of each row's nearest training rows."""
        block = max(1, _DISTANCE_BLOCK // X_train.shape[0])
        # ‖x - r‖² - ‖x‖² = ‖r‖² - 2 x·r ranks the training rows for x in one matrix product.
        nearest = torch.cat([torch.addmm(squared_norms, X[start:start + block], X_train.T, alpha=-2)
                             .topk(self.n_neighbors, largest=False)[1] for start in range(0, X.shape[0], block)])
        # That form loses small distances to cancellation (a row's distance to its own
        # copy comes out near 1e-3, not 0, and depends on the batch), and the memberships
        # hinge on them: the chosen neighbours' distances are taken directly.
        distances = (X[:, None, :] - X_train[nearest]).norm(dim=2)
        distances, order = distances.sort(dim=1)
        return distances, nearest.gather(1, order)

    def memberships(self, distances):
        """umap-learn's membership strengths of each row's neighbours, from their
        distances (ascending, one row per new row), as its ``transform`` computes them."""
        umap_ = import_umap()
        # local_connectivity 0: what umap-learn's transform uses for new rows (its
        # local_connectivity - 1), so a row's nearest neighbour does not get membership 1.
        sigmas, rhos = umap_.smooth_knn_dist(distances.cpu().numpy(), float(self.n_neighbors),
                                            local_connectivity=0.0)
        sigmas = torch.as_tensor(sigmas, dtype=distances.dtype, device=distances.device)
        rhos = torch.as_tensor(rhos, dtype=distances.dtype, device=distances.device)
        return torch.exp(-(distances - rhos[:, None]).clamp_min(0) / sigmas[:, None])

    def _optimise(self, codes, distances, nearest, far_codes):
        """Codes (graph units) of rows with these neighbours, after the Adam steps against
        the fixed training codes, the random ones at each step being ``far_codes``
        (float64)."""
        # In float64: torch computes exp, log and sigmoid one way in the vector lanes and
        # another in the leftover elements, so in float32 a row's code could move by a unit
        # in the last place with its position in the chunk.
        weight = self.memberships(distances.double())
        total = weight.sum(1)
        # Coordinates first, (n_components, n_rows, references): the sums over the few
        # coordinates are then sums of whole slices, which is what makes the steps cheap.
        near = codes[nearest].double().permute(2, 0, 1)
        Z = (weight * near).sum(2, keepdim=True) / total[:, None]  # (n_components, n_rows, 1)
        # Adam's steps have the size of its learning rate, whatever the gradient: the rate
        # follows each row's neighbourhood, the spread of its neighbours' codes, so a row
        # in a tight cluster is not thrown out of it.
        spread = ((weight * (near - Z).square().sum(0)).sum(1) / total).sqrt()
        step_scale = (self.learning_rate * spread)[:, None]
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
