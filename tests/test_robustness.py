"""Every public method of both estimators, in every mode, against every kind of input.

The table is data. ``CASES`` lists kinds of input, each with the outcome it should have
in each method it is given to; ``MODES`` lists the estimator configurations. Every case
runs in every mode, so a new case is one line. An outcome is ``OK`` (a finite float64
result of the right shape, images keeping their shape) or ``Raises(error, regex)``, the
regex matching the library's or scikit-learn's own words for the problem, never a raw
numpy, pandas or torch message. ``ByMode`` picks between two outcomes by a property of the
mode, ``XFail`` marks a known failure (strict) and says why.

The inputs of a method come from the case: ``X`` (rows for fit, partial_fit, transform,
score and predict; the same builder turns the fixture's codes into the codes given to
inverse_transform), ``y`` (labels for fit and partial_fit), ``prior`` (the estimator's
prior) and ``sample`` (the arguments of sample). Fits train one epoch from scratch; the
other methods use a model of the mode fitted once per module on a DataFrame, so that
feature names are checked.
"""

import dataclasses
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_blobs
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_aae import ALAE, AdversarialAutoencoder, GaussianPrior, Prior

pytestmark = [
    # A DataFrame-fitted model given an array, and 'y is ignored' in modes without label regions.
    pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning"),
    pytest.mark.filterwarnings("ignore:y is ignored:UserWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning"),
]

TINY = dict(hidden_layer_sizes=(16,), discriminator_layer_sizes=(16,), batch_size=32, max_iter=2, tol=None,
            random_state=0)
N_ROWS, N_FEATURES, N_COMPONENTS = 60, 6, 2
X_BASE, Y_BASE = make_blobs(n_samples=N_ROWS, n_features=N_FEATURES, centers=3, random_state=0)
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]


# ---------------------------------------------------------------------------- outcomes
OK = "OK"


@dataclasses.dataclass(frozen=True)
class Raises:
    error: type
    match: str


@dataclasses.dataclass(frozen=True)
class ByMode:
    """``then`` in the modes whose ``flag`` is true, else ``otherwise``."""

    flag: str
    then: Any
    otherwise: Any = OK

    def resolve(self, mode):
        return self.then if getattr(mode, self.flag) else self.otherwise


@dataclasses.dataclass(frozen=True)
class XFail:
    """A cell that fails today, for ``reason``; ``outcome`` is what it should give."""

    outcome: Any
    reason: str


# ---------------------------------------------------------------------------- modes
@dataclasses.dataclass(frozen=True)
class Mode:
    name: str
    estimator: type
    params: dict
    labels: bool = False  # fitted with y
    reads_y: bool = True  # fit checks y (the AAE's label modes); False: fit ignores y
    classes: bool = False  # sample(y=...) draws a class
    decoder_reads_class: bool = False  # sample() draws a class for the decoder when not given one
    predicts: bool = False  # a class head gives predict
    clusterer: bool = False  # n_clusters=3: fewer rows than clusters are refused
    no_partial_fit: bool = False  # transform_mode='neighbors' refuses partial_fit by design

    def make(self, **params):
        return self.estimator(**{**TINY, **self.params, **params})

    def __str__(self):
        return self.name


MODES = [
    Mode("aae", AdversarialAutoencoder, {}),
    Mode("prior", AdversarialAutoencoder, dict(prior="gaussian_mixture", label_mode="prior"), labels=True,
         classes=True),
    Mode("conditional", AdversarialAutoencoder, dict(label_mode="conditional"), labels=True, classes=True,
         decoder_reads_class=True),
    Mode("categorical", AdversarialAutoencoder, dict(label_mode="categorical"), labels=True, classes=True,
         decoder_reads_class=True, predicts=True),
    Mode("clusters", AdversarialAutoencoder, dict(n_clusters=3), reads_y=False, classes=True,
         decoder_reads_class=True, predicts=True, clusterer=True),
    Mode("neighbors", AdversarialAutoencoder, dict(n_neighbors=5)),
    Mode("neighbors_transform", AdversarialAutoencoder, dict(n_neighbors=5, transform_mode="neighbors"),
         no_partial_fit=True),
    Mode("alae", ALAE, {}, reads_y=False),
    Mode("alae_neighbors", ALAE, dict(n_neighbors=5), reads_y=False),
]
PARTIAL_FIT_REFUSED = Raises(ValueError, r"transform_mode='neighbors' places new rows .* use fit")


# ---------------------------------------------------------------------------- input builders
def frame(A):
    return pd.DataFrame(A, columns=[f"f{i}" for i in range(A.shape[1])])


def with_column(A, values):
    """A DataFrame of ``A`` whose first column is replaced by ``values``."""
    return frame(A).assign(f0=values)


def words(A):
    return np.where(A > np.median(A), "high", "low")


def first_entry(A, value, dtype=None):
    A = np.asarray(A, dtype=dtype).copy()
    A.flat[3] = value
    return A


def nullable(A, dtype):
    df = frame(np.round(A) if dtype == "Int64" else A).astype(dtype)
    df.iloc[1, 0] = pd.NA
    return df


def read_only(A):
    A = A.copy()
    A.setflags(write=False)
    return A


def ragged(A):
    rows = A.tolist()
    return rows[:-1] + [rows[-1][:-1]]


def images(A):
    return np.clip(A * 20 + 128, 0, 255).astype(np.uint8).reshape(len(A), 2, -1)


def wide(A):
    return np.repeat(A, 500, axis=1) + np.random.default_rng(0).normal(size=(A.shape[0], A.shape[1] * 500))


def y_with(value, dtype=None):
    def build(y):
        y = np.asarray(y, dtype=dtype if dtype is not None else (object if isinstance(value, str) else float))
        y = y.copy()
        y[1] = value
        return y
    return build


# ---------------------------------------------------------------------------- priors handed in
def nan_samples(n, rng):
    Z = rng.normal(size=(n, 2))
    Z[0, 0] = np.nan
    return Z


def inf_samples(n, rng):
    Z = rng.normal(size=(n, 2))
    Z[-1, 1] = np.inf
    return Z


def three_columns(n, rng):
    return rng.normal(size=(n, 3))


def one_row_short(n, rng):
    return rng.normal(size=(n - 1, 2))


def string_samples(n, rng):
    return rng.normal(size=(n, 2)).astype(str)


def complex_samples(n, rng):
    return rng.normal(size=(n, 2)) + 1j


def object_samples(n, rng):
    return np.array([[{}, "x"]] * n, dtype=object)


def no_samples(n, rng):
    return None


def list_samples(n, rng):
    return rng.normal(size=(n, 2)).tolist()


def broken_sampler(n, rng):
    return 1 / 0


def one_argument(n):
    return np.zeros((n, 2))


class NanPrior(Prior):
    def _sample(self, n_samples, y, rng):
        return np.full((n_samples, self.n_components), np.nan)


class NoSamplePrior(Prior):
    pass


# ---------------------------------------------------------------------------- the table
X_METHODS = ("fit", "partial_fit", "transform", "inverse_transform", "score", "predict")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    expect: dict  # method -> outcome; the case is crossed with these methods only
    X: Callable = None  # rows (and codes) as this kind of input; None: the float64 rows as they are
    y: Callable = None  # labels given to fit / partial_fit in every mode; None: the mode's own
    prior: Any = None  # the estimator's prior; None: the mode's own
    sample: dict = None  # arguments of sample
    n_rows: int = None  # the case starts from the first n_rows rows of the base data; None: all
    same_codes: bool = False  # a fit on it gives the codes of a fit on the float64 rows


def rows_in(ok=OK, **overrides):
    """Outcomes of the methods that take rows: ``ok`` for all, but ``overrides``."""
    return {method: overrides.get(method, ok) for method in X_METHODS}


def fits(outcome):
    return {"fit": outcome, "partial_fit": outcome}


def refused_everywhere(error, match, codes_match=None):
    """Every method refuses it: rows with ``match``, codes with ``codes_match`` (default: X -> Z)."""
    codes = Raises(error, codes_match if codes_match is not None else match.replace("X", "Z"))
    return rows_in(Raises(error, match), inverse_transform=codes)


def once_fitted(outcome, codes=OK):
    """Fitting on it works; a model fitted on other rows refuses it (codes: ``codes``)."""
    return rows_in(outcome, fit=OK, partial_fit=OK, inverse_transform=codes)


NOT_NUMBERS = refused_everywhere(ValueError, r"X must hold numbers.*could not convert string to float.*Encode")
SPARSE = refused_everywhere(TypeError, r"Sparse data was passed for X, but dense data is required")
OUT_OF_SCALE = Raises(ValueError, r"X has values .* standard deviations from the mean .* out of scale")
CODES_OUT_OF_SCALE = Raises(ValueError, r"Codes reach [\d.]+e\+(29|30), beyond what the float32 networks can decode")
WITHOUT_LABELS = Raises(ValueError, r"fitted without labels, so sample\(\) cannot take y")
UNKNOWN_LABEL = Raises(ValueError, r"sample\(\) got labels \[.*\] that are not among the fitted classes_")
LABEL_COUNT = Raises(ValueError, r"y must be one label or an array of 5 labels")
BAD_N_SAMPLES = Raises(ValueError, r"n_samples must be a positive integer")
BAD_SEED = Raises(ValueError, r"cannot be used to seed a numpy.random.RandomState|Seed must be between 0 and 2\*\*32")
# How numpy, pandas, torch and Python word their own failures: never the start of one of ours.
RAW_MESSAGES = ("could not convert", "setting an array element", "float() argument", "The DType", "mat1 and mat2",
                "'NoneType' object", "boolean value of NA", "sparse array length", "list index out of range")
N_SAMPLES_TRUE = Raises(ValueError, r"n_samples must be a (positive|non-negative) integer, got True")

CASES = [
    # dtypes of arrays
    Case("float64", rows_in(OK), same_codes=True),
    Case("float32", rows_in(OK), X=lambda A: A.astype(np.float32)),
    Case("float16", rows_in(OK), X=lambda A: A.astype(np.float16)),
    Case("bool", rows_in(OK), X=lambda A: A > np.median(A)),
    Case("int64", rows_in(OK), X=lambda A: np.round(A).astype(np.int64)),
    Case("uint8", rows_in(OK), X=lambda A: np.clip(A * 20 + 128, 0, 255).astype(np.uint8)),
    Case("object array of numbers", rows_in(OK), X=lambda A: A.astype(object), same_codes=True),
    Case("numeric strings", rows_in(OK), X=lambda A: A.astype(str)),
    Case("strings", NOT_NUMBERS, X=words),
    Case("object array of strings", NOT_NUMBERS, X=lambda A: words(A).astype(object)),
    Case("object array with a dict", refused_everywhere(TypeError, r"X must hold numbers, but float\(\) argument must "
                                                                  r"be a string or a (real )?number"),
         X=lambda A: first_entry(A, {"a": 1}, dtype=object)),
    Case("complex", refused_everywhere(ValueError, r"Complex data not supported"), X=lambda A: A + 1j),
    Case("NaN", refused_everywhere(ValueError, r"Input X contains NaN"), X=lambda A: first_entry(A, np.nan)),
    Case("infinity", refused_everywhere(ValueError, r"Input X contains infinity"),
         X=lambda A: first_entry(A, np.inf)),
    Case("None in an object array", refused_everywhere(ValueError, r"Input X contains NaN"),
         X=lambda A: first_entry(A, None, dtype=object)),
    # images
    Case("uint8 images (n, 2, 3)", once_fitted(Raises(ValueError, r"X holds images of shape \(2, 3\), but .* "
                                                          r"was fitted on tabular rows"),
                                               codes=Raises(ValueError, r"Found array with dim 3")), X=images),
    Case("images with channels (n, 2, 3, 1)",
         once_fitted(Raises(ValueError, r"X holds images of shape \(2, 3, 1\), but .* was fitted on tabular rows"),
                     codes=Raises(ValueError, r"Found array with dim 4")),
         X=lambda A: A.reshape(len(A), 2, -1, 1)),
    Case("5 dimensions", rows_in(Raises(ValueError, r"X has 5 dimensions"),
                                 inverse_transform=Raises(ValueError, r"Found array with dim 5")),
         X=lambda A: A.reshape(len(A), 2, -1, 1, 1)),
    # pandas
    Case("DataFrame", rows_in(OK), X=frame, same_codes=True),
    Case("DataFrame, integer column names", rows_in(OK), X=pd.DataFrame),
    Case("DataFrame, nullable Int64", rows_in(OK), X=lambda A: frame(np.round(A)).astype("Int64")),
    Case("DataFrame, nullable Int64 with pd.NA", refused_everywhere(ValueError, r"Input X contains NaN"),
         X=lambda A: nullable(A, "Int64")),
    Case("DataFrame, nullable Float64 with pd.NA", refused_everywhere(ValueError, r"Input X contains NaN"),
         X=lambda A: nullable(A, "Float64")),
    Case("DataFrame, object column with pd.NA", refused_everywhere(ValueError, r"Input X contains NaN: a pandas.NA"),
         X=lambda A: with_column(A, pd.Series([pd.NA, *A[1:, 0]], dtype=object))),
    Case("DataFrame, categorical of numbers", rows_in(OK),
         X=lambda A: with_column(A, pd.Categorical(np.round(A[:, 0])))),
    Case("DataFrame, categorical of strings",
         refused_everywhere(ValueError, r"X must hold numbers \(non-numeric columns: 'f0' \(category\)\), but "
                                        r"could not convert string"),
         X=lambda A: with_column(A, pd.Categorical(words(A[:, 0])))),
    Case("DataFrame, column of strings",
         refused_everywhere(ValueError, r"X must hold numbers \(non-numeric columns: 'f0' \((object|str)\)\)"),
         X=lambda A: with_column(A, words(A[:, 0]).astype(object))),
    Case("DataFrame, string dtype", refused_everywhere(ValueError, r"X must hold numbers \(non-numeric columns: 'f0'"),
         X=lambda A: with_column(A, pd.array(words(A[:, 0]), dtype="string"))),
    Case("DataFrame, datetime column",
         refused_everywhere(TypeError, r"X must hold numbers \(non-numeric columns: 'f0' \(datetime64"),
         X=lambda A: with_column(A, pd.date_range("2020-01-01", periods=len(A)))),
    Case("DataFrame, reordered columns",
         once_fitted(Raises(ValueError, r"The feature names should match those that were passed during fit")),
         X=lambda A: frame(A)[frame(A).columns[::-1]]),
    Case("DataFrame, renamed columns",
         once_fitted(Raises(ValueError, r"The feature names should match those that were passed during fit")),
         X=lambda A: frame(A).rename(columns=lambda name: "g" + name)),
    # sparse input: refused, as the user guide says ("call .toarray() first")
    Case("sparse CSR matrix", SPARSE, X=sp.csr_matrix),
    Case("sparse CSC array", SPARSE, X=sp.csc_array),
    # containers and memory layouts
    Case("list of lists", rows_in(OK), X=lambda A: A.tolist(), same_codes=True),
    Case("ragged list", refused_everywhere(ValueError, r"X must be a rectangular array, but its rows have different"),
         X=ragged),
    Case("torch tensor", rows_in(OK), X=torch.from_numpy, same_codes=True),
    Case("1-D array", refused_everywhere(ValueError, r"Expected 2D array, got 1D array"), X=lambda A: A[:, 0]),
    Case("None", refused_everywhere(ValueError, r"Expected 2D array, got scalar array"), X=lambda A: None),
    Case("Fortran order", rows_in(OK), X=np.asfortranarray, same_codes=True),
    Case("strided view", rows_in(OK), X=lambda A: np.repeat(A, 2, axis=0)[::2], same_codes=True),
    Case("read-only", rows_in(OK), X=read_only, same_codes=True),
    Case("a constant column", rows_in(OK), X=lambda A: np.column_stack([np.full(len(A), 3.0), A[:, 1:]])),
    # scales
    Case("values of 1e-30", rows_in(OK), X=lambda A: A * 1e-30),
    Case("values of 1e30", once_fitted(OUT_OF_SCALE, codes=CODES_OUT_OF_SCALE), X=lambda A: A * 1e30),
    Case("float32 values of 1e30", once_fitted(OUT_OF_SCALE, codes=CODES_OUT_OF_SCALE),
         X=lambda A: (A * 1e30).astype(np.float32)),
    Case("values of 1e200", rows_in(OUT_OF_SCALE, inverse_transform=Raises(ValueError, r"Codes reach [\d.]+e\+"),
                                    **fits(Raises(ValueError, r"X has values too large to standardise"))),
         X=lambda A: A * 1e200),
    # numbers of rows and columns
    Case("0 rows", rows_in(Raises(ValueError, r"Found array with 0 sample\(s\)")), n_rows=0),
    Case("1 row", rows_in(OK, **fits(Raises(ValueError, r"1 sample\(s\) .* while a minimum of 2 is required"))),
         n_rows=1),
    Case("2 rows", rows_in(OK, **fits(ByMode("clusterer", Raises(
        ValueError, r"n_clusters=3 exceeds the number of training rows, n_samples=2")))), n_rows=2),
    Case("3 rows", rows_in(OK), n_rows=3),
    Case("3000 columns", once_fitted(Raises(ValueError, r"X has 3000 features, but \w+ is expecting 6 features"),
                                     codes=Raises(ValueError, r"Codes have 1000 columns; .* n_components=2")),
         X=wide),
    # labels (fit checks them in the AAE's label modes; partial_fit, ALAE and n_clusters ignore y)
    Case("y with NaN", {"fit": ByMode("reads_y", Raises(ValueError, r"Input y contains missing values .* "
                                                                    r"mark unlabeled rows with -1")),
                        "partial_fit": OK}, y=y_with(np.nan)),
    Case("y with infinity", {"fit": ByMode("reads_y", Raises(ValueError, r"Input y contains infinity")),
                             "partial_fit": OK}, y=y_with(np.inf)),
    Case("y, nullable Int64 with pd.NA",
         {"fit": ByMode("reads_y", Raises(ValueError, r"Input y contains missing values")), "partial_fit": OK},
         y=lambda y: pd.Series(y, dtype="Int64").mask(np.arange(len(y)) == 1)),
    Case("y, strings with None", {"fit": ByMode("reads_y", Raises(ValueError, r"Input y contains missing values")),
                                  "partial_fit": OK}, y=lambda y: y_with(None)(y.astype(str))),
    Case("y of the wrong length", {"fit": ByMode("reads_y", Raises(ValueError, r"y has 59 labels but X has 60 rows")),
                                   "partial_fit": OK}, y=lambda y: y[:-1]),
    Case("y of two columns", {"fit": ByMode("reads_y", Raises(ValueError, r"y should be a 1d array")),
                              "partial_fit": OK}, y=lambda y: np.column_stack([y, y])),
    Case("y continuous", {"fit": ByMode("reads_y", Raises(ValueError, r"Unknown label type")), "partial_fit": OK},
         y=lambda y: y + 0.5),
    Case("y a column vector", fits(OK), y=lambda y: y[:, None]),
    Case("y strings", fits(OK), y=lambda y: np.array(["a", "b", "c"])[y]),
    Case("y pandas categorical", fits(OK), y=lambda y: pd.Series(pd.Categorical(np.array(["a", "b", "c"])[y]))),
    Case("y with -1 (unlabeled rows)", fits(OK), y=y_with(-1, dtype=int)),
    Case("y all -1", fits(OK), y=lambda y: np.full_like(y, -1)),
    # priors handed in (fit and partial_fit draw from them; the error names the prior)
    Case("prior returns NaN", fits(Raises(ValueError, r"The prior callable nan_samples returned samples with NaN "
                                                      r"or infinity in 1 of \d+ rows")), prior=nan_samples),
    Case("prior returns infinity", fits(Raises(ValueError, r"The prior callable inf_samples returned samples with "
                                                           r"NaN or infinity")), prior=inf_samples),
    Case("prior of the wrong width", fits(Raises(ValueError, r"The prior callable three_columns returned samples of "
                                                             r"shape \(\d+, 3\); expected \(\d+, 2\)")),
         prior=three_columns),
    Case("prior one row short", fits(Raises(ValueError, r"The prior callable one_row_short returned samples of shape")),
         prior=one_row_short),
    Case("prior returns strings", fits(Raises(TypeError, r"The prior callable string_samples returned strings")),
         prior=string_samples),
    Case("prior returns complex", fits(Raises(TypeError, r"The prior callable complex_samples returned complex")),
         prior=complex_samples),
    Case("prior returns objects", fits(Raises(TypeError, r"The prior callable object_samples returned values that "
                                                         r"are not numbers")), prior=object_samples),
    Case("prior returns None", fits(Raises(TypeError, r"The prior callable no_samples returned None")),
         prior=no_samples),
    Case("prior returns lists", fits(OK), prior=list_samples),
    Case("prior raises", fits(Raises(ValueError, r"The prior callable broken_sampler raised ZeroDivisionError")),
         prior=broken_sampler),
    Case("prior takes one argument", fits(Raises(TypeError, r"The prior callable one_argument must take two "
                                                            r"arguments, func\(n_samples, random_state\)")),
         prior=one_argument),
    Case("Prior subclass returns NaN", fits(Raises(ValueError, r"The prior NanPrior returned samples with NaN")),
         prior=NanPrior()),
    Case("Prior subclass without _sample", fits(Raises(TypeError, r"NoSamplePrior must implement _sample")),
         prior=NoSamplePrior()),
    Case("Prior class, not an instance", fits(Raises(TypeError, r"prior=GaussianPrior is a class; pass an instance")),
         prior=GaussianPrior),
    Case("prior of another dimension", fits(Raises(ValueError, r"n_components=3 but the estimator has n_components=2")),
         prior=GaussianPrior(3)),
    Case("unknown prior name", fits(Raises(InvalidParameterError, r"The 'prior' parameter of \w+ must be")),
         prior="laplace"),
    # arguments of sample
    Case("sample(1)", {"sample": OK}, sample=dict(n_samples=1)),
    Case("sample(np.int64(4), random_state=0)", {"sample": OK}, sample=dict(n_samples=np.int64(4), random_state=0)),
    Case("sample(random_state=RandomState)", {"sample": OK},
         sample=dict(n_samples=3, random_state=np.random.RandomState(0))),
    Case("sample(0)", {"sample": BAD_N_SAMPLES}, sample=dict(n_samples=0)),
    Case("sample(-1)", {"sample": BAD_N_SAMPLES}, sample=dict(n_samples=-1)),
    Case("sample(2.5)", {"sample": BAD_N_SAMPLES}, sample=dict(n_samples=2.5)),
    Case("sample('3')", {"sample": BAD_N_SAMPLES}, sample=dict(n_samples="3")),
    Case("sample(None)", {"sample": BAD_N_SAMPLES}, sample=dict(n_samples=None)),
    Case("sample(True)", {"sample": N_SAMPLES_TRUE}, sample=dict(n_samples=True)),
    Case("sample(random_state='seed')", {"sample": BAD_SEED}, sample=dict(n_samples=2, random_state="seed")),
    Case("sample(random_state=-1)", {"sample": BAD_SEED}, sample=dict(n_samples=2, random_state=-1)),
    Case("sample(random_state=2.5)", {"sample": BAD_SEED}, sample=dict(n_samples=2, random_state=2.5)),
    Case("sample(random_state=Generator)", {"sample": BAD_SEED},
         sample=dict(n_samples=2, random_state=np.random.default_rng(0))),
    Case("sample(y=class)", {"sample": ByMode("classes", OK, WITHOUT_LABELS)}, sample=dict(n_samples=5, y=0)),
    Case("sample(y=one per row)", {"sample": ByMode("classes", OK, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y=[0, 1, 2, 0, 1])),
    Case("sample(y=unknown class)", {"sample": ByMode("classes", UNKNOWN_LABEL, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y=99)),
    Case("sample(y=NaN)", {"sample": ByMode("classes", UNKNOWN_LABEL, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y=np.nan)),
    Case("sample(y=string)", {"sample": ByMode("classes", UNKNOWN_LABEL, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y="a")),
    Case("sample(y=wrong length)", {"sample": ByMode("classes", LABEL_COUNT, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y=[0, 1, 2, 0])),
    Case("sample(y=two columns)", {"sample": ByMode("classes", LABEL_COUNT, WITHOUT_LABELS)},
         sample=dict(n_samples=5, y=np.zeros((5, 2), dtype=int))),
]


def outcome_of(case, method, mode):
    outcome = case.expect[method]
    parameter_error = isinstance(outcome, Raises) and issubclass(outcome.error, InvalidParameterError)
    if method == "partial_fit" and mode.no_partial_fit and not parameter_error:
        return PARTIAL_FIT_REFUSED  # parameters are checked first
    return outcome.resolve(mode) if isinstance(outcome, ByMode) else outcome


def cells():
    for case in CASES:
        for method in case.expect:
            for mode in MODES:
                if method == "predict" and not mode.predicts:
                    continue  # test_predict_only_with_a_class_head
                outcome = outcome_of(case, method, mode)
                marks = []
                if isinstance(outcome, XFail):
                    marks = [pytest.mark.xfail(strict=True, reason=outcome.reason)]
                    outcome = outcome.outcome
                yield pytest.param(case, method, mode, outcome, marks=marks, id=f"{case.name}-{method}-{mode}")


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def one_numba_thread():
    """umap-learn's parallel kernels on one thread: on 60 rows, threads only wait for each
    other (a neighbour fit took 2-5x longer with two threads on a busy two-core machine).

    Starting numba's OpenMP layer resets the thread count torch shares with it, so torch's
    is put back.
    """
    try:
        import numba
    except ImportError:
        yield
        return
    torch_threads = torch.get_num_threads()
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    torch.set_num_threads(torch_threads)
    yield
    numba.set_num_threads(threads)
    torch.set_num_threads(torch_threads)


@pytest.fixture(scope="module")
def fitted():
    """The model of each mode, fitted once on a DataFrame of the base rows (labels where the mode has them)."""
    models = {}

    def get(mode):
        if mode.name not in models:
            y = Y_BASE if mode.labels else None
            models[mode.name] = mode.make().fit(pd.DataFrame(X_BASE, columns=COLUMNS), y)
        return models[mode.name]

    return get


@pytest.fixture(scope="module")
def reference_codes():
    """Codes of a one-epoch fit of each mode on the float64 rows, for cases that must give the same."""
    codes = {}

    def get(mode):
        if mode.name not in codes:
            model = mode.make(max_iter=1).fit(X_BASE, Y_BASE if mode.labels else None)
            codes[mode.name] = model.transform(X_BASE)
        return codes[mode.name]

    return get


# ---------------------------------------------------------------------------- checks of OK results
def assert_rows(A, shape):
    assert isinstance(A, np.ndarray) and A.dtype == np.float64, (type(A), getattr(A, "dtype", None))
    assert A.shape == shape, (A.shape, shape)
    assert np.isfinite(A).all()


def assert_fitted_model(model, X, n_rows, feature_shape):
    """A model fitted on ``X`` transforms, reconstructs, samples and scores it, in its shape."""
    Z = model.transform(X)
    assert_rows(Z, (n_rows, N_COMPONENTS))
    if n_rows > 1:
        assert np.ptp(Z, axis=0).max() > 0, "every row got the same code: the model cannot tell them apart"
    assert_rows(model.inverse_transform(Z), (n_rows,) + feature_shape)
    assert_rows(model.sample(3, random_state=0), (3,) + feature_shape)
    assert np.isfinite(model.score(X))


def run_cell(case, method, mode, fitted, reference_codes):
    """Call ``method`` with the case's input in ``mode``; returns a function checking an OK result."""
    X_rows, y_rows = X_BASE[:case.n_rows], Y_BASE[:case.n_rows]
    build = case.X if case.X is not None else (lambda A: A)
    X = build(X_rows)
    if method in ("fit", "partial_fit"):
        params = {} if case.prior is None else {"prior": case.prior}
        model = mode.make(max_iter=1, **params)
        if method == "fit":
            y = case.y(Y_BASE) if case.y is not None else (y_rows if mode.labels else None)
            result = model.fit(X, y)
        else:
            result = model.partial_fit(X, None if case.y is None else case.y(Y_BASE))

        def check():
            assert result is model
            assert_fitted_model(model, X, len(X_rows), np.shape(X)[1:])
            if case.same_codes and method == "fit":
                np.testing.assert_allclose(model.transform(X), reference_codes(mode), rtol=1e-5, atol=1e-5)
        return check
    model = fitted(mode)
    if method == "transform":
        result = model.transform(X)
        return lambda: assert_rows(result, (len(X_rows), N_COMPONENTS))
    if method == "inverse_transform":
        result = model.inverse_transform(build(model.transform(X_BASE)[:case.n_rows]))
        return lambda: assert_rows(result, (len(X_rows), N_FEATURES))
    if method == "score":
        result = model.score(X)

        def check():
            assert isinstance(result, float) and np.isfinite(result), result
        return check
    if method == "predict":
        result = model.predict(X)

        def check():
            assert result.shape == (len(X_rows),)
            assert np.isin(result, model.classes_).all()
        return check
    if method == "sample":
        result = model.sample(**case.sample)

        def check():
            assert_rows(result, (int(case.sample["n_samples"]), N_FEATURES))
            if isinstance(case.sample.get("random_state"), int):
                np.testing.assert_array_equal(result, model.sample(**case.sample))
        return check
    raise AssertionError(f"no runner for {method}")


@pytest.mark.parametrize("case, method, mode, outcome", list(cells()))
def test_input(case, method, mode, outcome, fitted, reference_codes):
    if outcome == OK:
        run_cell(case, method, mode, fitted, reference_codes)()
        return
    with pytest.raises(outcome.error, match=outcome.match) as error:
        run_cell(case, method, mode, fitted, reference_codes)
    assert not str(error.value).startswith(RAW_MESSAGES), f"a message passed on as it is: {error.value}"


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_predict_only_with_a_class_head(mode, fitted):
    assert hasattr(fitted(mode), "predict") == mode.predicts
    assert hasattr(fitted(mode), "predict_proba") == mode.predicts


def test_every_draw_of_the_prior_is_checked():
    class LateNan(Prior):
        calls = 0

        def _sample(self, n_samples, y, rng):
            LateNan.calls += 1
            return np.full((n_samples, self.n_components), np.nan if LateNan.calls > 1 else 0.0)

    prior = LateNan(2)
    assert np.isfinite(prior.sample(4)).all()
    with pytest.raises(ValueError, match=r"The prior LateNan returned samples with NaN or infinity in 4 of 4 rows"):
        prior.sample(4)


def test_a_failing_prior_callable_keeps_its_error_as_the_cause():
    from sklearn_aae.priors import CallablePrior

    with pytest.raises(ValueError, match="broken_sampler raised ZeroDivisionError") as error:
        CallablePrior(broken_sampler, n_components=2).sample(3)
    assert isinstance(error.value.__cause__, ZeroDivisionError)


def test_the_table_crosses_every_method_and_names_each_case_once():
    assert {method for case in CASES for method in case.expect} == set(X_METHODS) | {"sample"}
    assert len({case.name for case in CASES}) == len(CASES)
