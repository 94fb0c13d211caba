"""What the benchmark scripts share: data splits, timing, seed summaries, tables and JSON.

The standing benchmarks beside this file import it as ``_common`` (a script's own folder
is on ``sys.path``); the experiments in ``experiments/`` put this folder there first.
"""

import argparse
import datetime
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, make_swiss_roll
from sklearn.model_selection import train_test_split

from sklearn_aae.metrics import embedding_scores


def digits_split(random_state=0):
    """load_digits split 70/30, stratified: X_train, X_test, y_train, y_test."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=random_state)


def swiss_roll_split():
    """make_swiss_roll(3000, noise=0.5), its position along the roll cut into 6 classes, split as digits."""
    X, t = make_swiss_roll(n_samples=3000, noise=0.5, random_state=0)
    y = np.digitize(t, np.quantile(t, np.linspace(0, 1, 7)[1:-1]))
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def breast_cancer_split():
    """load_breast_cancer standardised with the training rows' statistics, split as digits."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def expression_split(n_cells=2000, n_genes=1000, n_types=8, random_state=0):
    """Synthetic single-cell expression, log-normalised as scanpy does, split as digits.

    Negative-binomial counts (overdispersion 2) of ``n_types`` cell types of unequal sizes:
    a shared baseline, one marker program per type and one per pair of types (a lineage),
    each touching 5 % of the genes, and a log-normal library size per cell; then counts
    per 10,000 and log1p. The labels are the cell types.
    """
    rng = np.random.RandomState(random_state)
    base = rng.gamma(0.6, 1.0, n_genes)
    programs = rng.lognormal(0, 1, (n_types, n_genes)) * (rng.rand(n_types, n_genes) < 0.05)
    lineages = rng.lognormal(0, 1, (n_types // 2, n_genes)) * (rng.rand(n_types // 2, n_genes) < 0.05)
    y = rng.choice(n_types, n_cells, p=rng.dirichlet(np.full(n_types, 2.0)))
    rate = base * (1 + 3 * programs[y] + 2 * lineages[y // 2])
    library = rng.lognormal(np.log(3000), 0.5, n_cells)
    mean = rate / rate.sum(axis=1, keepdims=True) * library[:, None]
    counts = rng.negative_binomial(2.0, 2.0 / (2.0 + mean))
    X = np.log1p(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) * 1e4)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def signals_split(n_series=2000, length=128, random_state=0):
    """Synthetic 1-D signals of six shapes, split as digits.

    Sine, square, sawtooth, chirp, Gaussian pulse and damped sine, each with a random
    frequency (within its shape's range), phase, amplitude and offset, plus white noise
    of standard deviation 0.3. The labels are the shapes.
    """
    rng = np.random.RandomState(random_state)
    t = np.linspace(0, 1, length)
    y = rng.randint(6, size=n_series)
    frequency = rng.uniform(2, 6, n_series)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)[:, None]
    angle = 2 * np.pi * frequency * t + phase
    shapes = [
        np.sin(angle),
        np.sign(np.sin(angle)),
        2 * ((angle / (2 * np.pi)) % 1) - 1,
        np.sin(2 * np.pi * frequency * t * (1 + 2 * t) + phase),
        2 * np.exp(-((t - rng.uniform(0.2, 0.8, (n_series, 1))) ** 2) / 0.005) - 1,
        np.exp(-3 * t) * np.sin(angle) * 2,
    ]
    X = np.choose(y[:, None], shapes) * rng.uniform(0.5, 1.5, (n_series, 1)) + rng.normal(0, 0.3, (n_series, 1))
    X = X + rng.normal(0, 0.3, X.shape)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


#: The first table's data sets: digits and the roll were tuned on, the rest are held out.
SPLITS = {"digits": digits_split, "swiss roll": swiss_roll_split, "breast cancer": breast_cancer_split,
          "expression (synthetic)": expression_split, "signals (synthetic)": signals_split}


def rows_per_second(transform, X, min_seconds=0.5):
    """Rows/s of ``transform(X)``, called until ``min_seconds`` have passed (one call is too short to time)."""
    n_rows, start = 0, time.perf_counter()
    while True:
        transform(X)
        n_rows += len(X)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return n_rows / elapsed


def warm_umap(X_train, X_test, random_state=0):
    """umap-learn fitted on ``X_train``, and the rows/s of its warm ``transform`` of ``X_test``."""
    import umap

    reducer = umap.UMAP(random_state=random_state).fit(X_train)
    reducer.transform(X_test)  # numba compiles on the first call; time the warm ones
    return reducer, rows_per_second(reducer.transform, X_test)


def evaluate(model, X_train, X_test, y_train, y_test):
    """Fits ``model`` on the training rows and scores its held-out codes (``embedding_scores``).

    Adds the fit seconds (with the training rows' transform), the held-out transform's
    rows/s and the training samples/s (``t_`` per fit second, NaN without ``t_``). A model
    without ``transform`` (t-SNE) embeds training and held-out rows together.
    """
    start = time.perf_counter()
    if hasattr(model, "transform"):
        Z_train = model.fit(X_train).transform(X_train)
        fit_seconds = time.perf_counter() - start
        Z_test = model.transform(X_test)
        speed = rows_per_second(model.transform, X_test)
    else:
        Z = model.fit_transform(np.vstack([X_train, X_test]))
        Z_train, Z_test = Z[:len(X_train)], Z[len(X_train):]
        fit_seconds, speed = time.perf_counter() - start, float("nan")
    scores = embedding_scores(model, X_train, X_test, y_train, y_test, Z_train=Z_train, Z_test=Z_test)
    return dict(scores, fit_seconds=fit_seconds, transform_rows_per_second=speed,
                train_samples_per_second=getattr(model, "t_", np.nan) / fit_seconds)


def summarise(values, fmt=".3f", spread=True):
    """Mean over seeds, with ``± std`` when ``spread`` and there are several; '—' if never measured (NaN)."""
    values = np.asarray(values, dtype=float)
    if np.isnan(values).all():
        return "—"
    text = format(values.mean(), fmt)
    return text + f" ± {format(values.std(), fmt)}" if spread and len(values) > 1 else text


def peak_mib():
    """Peak resident memory of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_child(script, *args):
    """Runs ``script --child ARGS`` in a fresh interpreter, so that its peak memory is its own,
    and returns the JSON object it prints last."""
    out = subprocess.run([sys.executable, str(script), "--child", *map(str, args)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def argument_parser(doc, max_iter=False):
    """An ArgumentParser showing the script's docstring, with ``--json PATH`` (and ``--max-iter N``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH",
                        help="also write the tables, each row's raw values and the machine to PATH as JSON")
    if max_iter:
        parser.add_argument("--max-iter", type=int, help="epochs of every model (default: its own; for smoke runs)")
    return parser


def max_iter_params(max_iter):
    """The estimators' ``max_iter`` parameter, when one is asked for: ``{}`` for their default."""
    return {} if max_iter is None else dict(max_iter=max_iter)


class Report:
    """A benchmark's output: the machine line, then markdown tables printed row by row.

    With ``--json PATH`` the same tables, each row with its raw values, and the machine
    are written to PATH after every row, so a long run that stops leaves what it measured.
    """

    def __init__(self, args, note=""):
        self.path = args.json
        self.data = dict(script=Path(sys.argv[0]).name, argv=sys.argv[1:],
                         date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                         machine=platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                         torch_threads=torch.get_num_threads(), notes=[], tables=[])
        d = self.data
        self.note(f"# {d['script']}, {d['date']}, {d['machine']}, {d['cores']} cores, torch {d['torch']} "
                  f"({d['torch_threads']} threads)" + (f"; {note}" if note else "") + "\n")

    def note(self, text):
        """Prints a line of text between the tables (kept in the JSON's 'notes')."""
        print(text, flush=True)
        self.data["notes"].append(text.strip())
        self._write()

    def table(self, columns, title=None):
        """Starts a table: its title (a heading, when given) and its header."""
        if title:
            print(f"\n### {title}\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        self.data["tables"].append(dict(title=title, columns=list(columns), rows=[]))

    def row(self, cells, **values):
        """Prints a row of ``cells`` and keeps it, with the raw ``values`` behind it, for the JSON."""
        print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)
        self.data["tables"][-1]["rows"].append(dict(cells=[str(cell) for cell in cells], **values))
        self._write()

    def _write(self):
        if self.path:
            Path(self.path).write_text(json.dumps(_plain(self.data), indent=1, ensure_ascii=False) + "\n")


def _plain(value):
    """JSON-ready: numpy values as Python ones, NaN (not measured) as null."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(item) for item in value]
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value
