"""
Data larger than memory: training and tuning with dask
======================================================

Both estimators learn from one chunk at a time through ``partial_fit`` (one pass over the
chunk it is given), so a dask array that never fits in memory can be streamed through
them with dask-ml's ``Incremental`` wrapper; ``transform`` then runs block by block with
``map_blocks``. A grid search is spread over a ``dask.distributed`` cluster with joblib's
dask backend. The cluster here is a ``LocalCluster`` started by the script itself (two
worker processes); the same code runs against a real cluster by changing the address.

Needs the optional dependencies: ``pip install sklearn_aae[dask]``.
"""

import warnings

import dask
import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from dask_ml.wrappers import Incremental
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_aae import AdversarialAutoencoder
from sklearn_aae.plotting import plot_embedding

warnings.filterwarnings("ignore", category=ConvergenceWarning)
N_CHUNKS, CHUNK_ROWS, N_FEATURES = 20, 10_000, 20
CENTRES = np.random.default_rng(0).normal(scale=4.0, size=(6, N_FEATURES))


def make_chunk(seed, part):
    """One chunk of a data set that is only ever built chunk by chunk: its rows or labels."""
    X, y = make_blobs(n_samples=CHUNK_ROWS, centers=CENTRES, random_state=seed)
    return X if part == "rows" else y


def lazy_blobs(seeds):
    """Rows and labels of the chunks ``seeds`` as lazy dask arrays, one block per chunk."""
    X = da.concatenate([da.from_delayed(dask.delayed(make_chunk)(seed, "rows"), shape=(CHUNK_ROWS, N_FEATURES),
                                        dtype=float) for seed in seeds])
    y = da.concatenate([da.from_delayed(dask.delayed(make_chunk)(seed, "labels"), shape=(CHUNK_ROWS,), dtype=int)
                        for seed in seeds])
    return X, y


if __name__ == "__main__":
    # Worker processes import this file again, so the cluster starts under the main guard.
    # The with-blocks shut the cluster down even if a step fails.
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
          Client(cluster) as client):
        print(f"dask cluster: {client}")

        # 1. A lazy 200,000 x 20 array: nothing is computed until a block is needed.
        X, y = lazy_blobs(range(N_CHUNKS))
        print(f"X: {X.shape}, {X.numblocks[0]} blocks of {CHUNK_ROWS:,} rows")

        # Incremental calls partial_fit once per block, in order: one pass over the data.
        # Standardisation is fitted on the first block, so shuffle the blocks' contents first
        # if they are sorted.
        model = Incremental(AdversarialAutoencoder(hidden_layer_sizes=(128, 128), random_state=0))
        model.fit(X)
        aae = model.estimator_
        print(f"trained on {aae.t_:,} rows in {aae.n_iter_} partial_fit calls")

        # 2. transform new rows block by block; map_blocks needs the output's chunks
        # (n_components columns). They are new chunks, not X again: computing X's blocks
        # straight after fit reuses task keys the scheduler may still be forgetting, which
        # dask's distributed scheduler can answer with a KeyError (dask/dask#9888).
        X_new, y_new = lazy_blobs([N_CHUNKS])
        Z_new = X_new.map_blocks(aae.transform, chunks=(X_new.chunks[0], (aae.n_components,)), dtype=np.float64)
        Z_new, y_new = dask.compute(Z_new, y_new)

        # 3. Grid search on the cluster: joblib's dask backend sends each fit to a worker.
        digits_X, _ = load_digits(return_X_y=True)
        search = GridSearchCV(AdversarialAutoencoder(max_iter=30, hidden_layer_sizes=(256, 256), random_state=0),
                              {"n_components": [2, 8], "adversarial_weight": [0.1, 1.0]}, cv=3)
        with joblib.parallel_backend("dask"):
            search.fit(digits_X)
        print(f"best parameters {search.best_params_}, reconstruction score {search.best_score_:.3f}")

    fig, (ax_codes, ax_grid) = plt.subplots(1, 2, figsize=(12, 5))
    plot_embedding(Z_new, y=y_new, s=3, ax=ax_codes)
    ax_codes.set_title(f"codes of {len(Z_new):,} new rows\n(model trained block by block on {X.shape[0]:,})")
    # cv_results_ runs over the parameters in name order, the last fastest: rows of
    # adversarial_weight, so transposed to one row per n_components.
    scores = search.cv_results_["mean_test_score"].reshape(2, 2).T
    image = ax_grid.imshow(scores, cmap="viridis")
    ax_grid.set_xticks([0, 1], ["adversarial_weight=0.1", "1.0"])
    ax_grid.set_yticks([0, 1], ["n_components=2", "8"])
    for (i, j), score in np.ndenumerate(scores):
        ax_grid.text(j, i, f"{score:.3f}", ha="center", va="center", color="white")
    ax_grid.set_title("GridSearchCV on the dask cluster:\nmean held-out score (−reconstruction error)")
    fig.colorbar(image, ax=ax_grid)
    fig.tight_layout()
    plt.show()
