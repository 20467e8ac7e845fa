"""scikit-learn estimators that train by MILP: :class:`MIPNetClassifier`, :class:`MIPNetRegressor`.

They follow scikit-learn's conventions: the constructor only stores its parameters; ``fit`` sets
``network_`` (the pruned :class:`~mipnet.Network`, raw features in), ``network_full_``,
``certificate_``, ``n_features_in_``, ``feature_names_in_`` (for frames with string column names) and,
for the classifier, ``classes_``. Input: numpy arrays or pandas frames; non-numeric frame columns
(object, category, string) are one-hot encoded over the levels seen in ``fit`` (an unseen level at
predict time is an error) and the one-hot block becomes a one-hot group of the network's domain.

Parameters are checked at ``fit`` against ``_parameter_constraints`` (scikit-learn's parameter validation): a
bad value fails before any training with an ``InvalidParameterError`` naming the parameter
(:class:`ParameterError`, also a :class:`~mipnet.errors.DataError`). ``init`` ("gradient" | "none") chooses the
MILP's start; its former name ``warm_start`` still works with a FutureWarning (scikit-learn's ``warm_start``
means reusing the previous fit, which these estimators do not do).
"""

from __future__ import annotations

import functools
import math
import warnings
from numbers import Integral, Real
from typing import Any, Callable

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Hidden, Interval, InvalidParameterError, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..deadline import Deadline
from ..domain import Domain
from ..errors import BoundWarning, DataError, SolverError
from ..solve import MAX_SEED, console_progress, solver_interface
from .config import MAX_BOX
from .constraints import ParityBound, as_constraints
from .estimator_docs import _ATTRIBUTES, _PARAMETERS, _doc  # noqa: F401  (the classes' docstrings)
from .formulation import CLASSIFY_LOSSES, HYPOTHESES, REGRESS_LOSSES, TrainConfig
from .penalty_cv import DEFAULT_L1_GRID
from .trainer import train


def _all_or_nothing(fit: Callable[..., Any]) -> Callable[..., Any]:
    """A fit that fails leaves the estimator as it was (fitted before: the earlier model; new: not fitted). The
    encoding (classes, one-hot levels) was set before the training failed: a refit on new levels that ran out of
    time kept the old network and read a new level's column as an old one's, predicting silently wrong classes."""

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


class InputError(DataError, ValueError):
    """Invalid estimator input (also a ValueError, as scikit-learn expects)."""


class ParameterError(InputError, InvalidParameterError):
    """A constructor parameter out of its range, found at ``fit``: scikit-learn's
    :class:`~sklearn.utils._param_validation.InvalidParameterError` (a ValueError and a TypeError) that is also
    a :class:`~mipnet.errors.DataError` (one line on the command line). The message names the parameter:
    "The 'time_limit' parameter of MIPNetClassifier must be ... Got -1 instead."."""


class SolverNames(StrOptions):
    """Constraint: the name of a solver mipnet can run (highs, gurobi, scip or an installed Pyomo solver), the
    names ``--solver`` accepts (:func:`mipnet.solve.solver_interface`)."""

    def __init__(self) -> None:
        super().__init__({"highs", "gurobi", "scip"})

    def is_satisfied_by(self, val: Any) -> bool:
        if not isinstance(val, str) or not val.strip():
            return False
        try:
            solver_interface(val)
        except SolverError:
            return False
        return True

    def __str__(self) -> str:
        return "the name of an installed solver ('highs', 'gurobi', 'scip' or a Pyomo solver)"


#: non-negative finite reals, [0, inf)
_NONNEG = Interval(Real, 0, None, closed="left")
#: positive finite reals, (0, inf)
_POSITIVE = Interval(Real, 0, None, closed="neither")
#: the estimators' ``init`` values, and what the deprecated ``warm_start`` meant
INITS = ("gradient", "none")


def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _categorical_columns(X: Any) -> list[Any]:
    """The frame's text / category columns (one-hot encoded). A date or time column is an error: it was one-hot
    encoded one level per timestamp, and the CSV the model was fitted on no longer read back."""
    import pandas as pd

    timed = [  # (by the dtypes: a repeated column name makes X[c] a frame)
        c
        for c, dt in X.dtypes.items()
        if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt)
        or isinstance(dt, pd.PeriodDtype)
    ]  # fmt: skip
    if timed:
        raise InputError(
            f"column {timed[0]!r} holds dates or times: convert it to numbers (e.g. days since a date) or to text"
        )
    return [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))]


def _require_y(est: Any, y: Any) -> None:
    if y is None:
        raise InputError(f"{type(est).__name__} requires y to be passed, but the target y is None")


def _subsampled(constraints: list[Any], rows: np.ndarray | None, n_rows: int) -> list[Any]:
    """A parity mask given for every row of X, restricted to the subsample trained on (``max_samples``)."""
    if rows is None:
        return constraints
    out = []
    for c in constraints:
        if isinstance(c, ParityBound) and isinstance(c.group, tuple) and len(c.group) == n_rows:
            c = ParityBound(tuple(np.asarray(c.group)[rows]), c.delta)
        out.append(c)
    return out


def _encoded_groups(X: np.ndarray, names: list[str], known: list[list[int]]) -> list[list[int]]:
    """One-hot groups already encoded in the data: columns named ``column=level`` (as ``mipnet datasets`` exports
    them), 0 / 1 on every training row, exactly one 1 per row among them, two or more, in no group yet. (A model
    trained on such an export had no group: robustness "violated" with a witness of three races at once.)"""
    taken = {i for g in known for i in g}
    cols: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if "=" in n and i not in taken and bool(np.all((X[:, i] == 0) | (X[:, i] == 1))):
            cols.setdefault(n.split("=")[0], []).append(i)
    return [g for g in cols.values() if len(g) >= 2 and X.shape[0] > 0 and bool(np.all(X[:, g].sum(axis=1) == 1))]


class _MIPNetBase(BaseEstimator):
    _task = "classify"

    #: every constructor parameter's admissible values, checked at ``fit`` (scikit-learn's parameter validation;
    #: a bad value is a :class:`ParameterError` naming the parameter)
    _parameter_constraints: dict[str, list[Any]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "hypothesis": [StrOptions(set(HYPOTHESES))],
        "loss": [StrOptions(set(CLASSIFY_LOSSES) | set(REGRESS_LOSSES))],
        "margin": [_NONNEG],
        "l1": [_NONNEG, StrOptions({"cv"})],
        "l2": [_NONNEG],
        "l0": [_NONNEG],
        "neuron_penalty": [_NONNEG],
        "layer_penalty": [_NONNEG],
        "max_nonzeros": [Interval(Integral, 0, None, closed="left"), None],
        "max_neurons": [Interval(Integral, 0, None, closed="left"), None],
        "weight_bound": [Interval(Real, 0, MAX_BOX, closed="right")],
        "bias_bound": [Interval(Real, 0, MAX_BOX, closed="right")],
        "levels": [Interval(Integral, 1, None, closed="left")],
        "scale": [_POSITIVE],
        "solver": [SolverNames()],
        # +inf: no limit; a Deadline: the caller's clock (the command line's, started before it read the data)
        "time_limit": [_NONNEG, Hidden(Options(Real, {math.inf})), Hidden(Deadline)],
        "threads": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions(set(INITS))],
        "warm_start": ["boolean", Hidden(StrOptions({"deprecated"}))],
        "lp_heuristic_rounds": [Interval(Integral, 0, None, closed="left")],
        "symmetry_breaking": ["boolean"],
        "tight_bounds": ["boolean"],
        "max_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [Interval(Integral, 0, MAX_SEED, closed="both"), None],
        "verbose": ["verbose"],
        "architecture": [str, list, tuple, None],
        "input_shape": ["array-like", None],
        "downsample": [Interval(Integral, 1, None, closed="left")],
        "channel_penalty": [_NONNEG],
        "max_channels": [Interval(Integral, 0, None, closed="left"), None],
        "sign_patterns": ["boolean"],
        "l1_grid": ["array-like"],
        "cv_folds": [Interval(Integral, 2, None, closed="left")],
        "linear_term": ["boolean"],
        "constraints": [list, tuple, None],
    }

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (3,),
        *,
        hypothesis: str = "auto",
        loss: str = "auto",
        margin: float = 1.0,
        l1: float | str = 0.0,
        l2: float = 0.0,
        l0: float = 0.0,
        neuron_penalty: float = 0.0,
        layer_penalty: float = 0.0,
        max_nonzeros: int | None = None,
        max_neurons: int | None = None,
        weight_bound: float = 1.0,
        bias_bound: float = 1.0,
        levels: int = 1,
        scale: float = 1.0,
        solver: str = "highs",
        time_limit: float = 60.0,
        threads: int | None = None,
        init: str = "gradient",
        warm_start: bool | str = "deprecated",
        lp_heuristic_rounds: int = 10,
        symmetry_breaking: bool = True,
        tight_bounds: bool = True,
        max_samples: int | None = None,
        random_state: int | None = 0,
        verbose: bool = False,
        architecture: Any = None,
        input_shape: tuple[int, ...] | None = None,
        downsample: int = 1,
        channel_penalty: float = 0.0,
        max_channels: int | None = None,
        sign_patterns: bool = False,
        l1_grid: tuple[float, ...] = DEFAULT_L1_GRID,
        cv_folds: int = 5,
        linear_term: bool = False,
        constraints: list[Any] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.linear_term = linear_term
        self.constraints = constraints
        self.l1_grid = l1_grid
        self.cv_folds = cv_folds
        self.sign_patterns = sign_patterns
        self.architecture = architecture
        self.input_shape = input_shape
        self.downsample = downsample
        self.channel_penalty = channel_penalty
        self.max_channels = max_channels
        self.hypothesis = hypothesis
        self.loss = loss
        self.margin = margin
        self.l1 = l1
        self.l2 = l2
        self.l0 = l0
        self.neuron_penalty = neuron_penalty
        self.layer_penalty = layer_penalty
        self.max_nonzeros = max_nonzeros
        self.max_neurons = max_neurons
        self.weight_bound = weight_bound
        self.bias_bound = bias_bound
        self.levels = levels
        self.scale = scale
        self.solver = solver
        self.time_limit = time_limit
        self.threads = threads
        self.init = init
        self.warm_start = warm_start
        self.lp_heuristic_rounds = lp_heuristic_rounds
        self.symmetry_breaking = symmetry_breaking
        self.tight_bounds = tight_bounds
        self.max_samples = max_samples
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def _validate_params(self) -> None:
        """scikit-learn's check of :attr:`_parameter_constraints` (called by ``fit``), its error raised as a
        :class:`ParameterError`."""
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            raise ParameterError(str(exc)) from None
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        items = [sizes] if np.isscalar(sizes) else list(sizes)
        if not items or not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in items):
            # scikit-learn checks the container only: (2.5,) became 2 units
            raise ParameterError(
                f"The 'hidden_layer_sizes' parameter of {name} must be a positive int or a sequence of positive "
                f"ints. Got {sizes!r} instead."
            )
        for key in ("max_samples", "max_nonzeros", "max_neurons", "threads", "levels", "lp_heuristic_rounds"):
            if isinstance(getattr(self, key, None), bool):  # a bool is an Integral to scikit-learn: True was 1
                raise ParameterError(f"The '{key}' parameter of {name} must be an int, not a bool.")

    def _gradient_start(self) -> bool:
        """Whether the fit starts from the gradient-trained net: ``init="gradient"``, or the deprecated
        ``warm_start`` when given (a FutureWarning names ``init``)."""
        if isinstance(self.warm_start, str):  # "deprecated": not given
            return self.init == "gradient"
        new = "gradient" if self.warm_start else "none"
        if self.init != "gradient" and self.init != new:
            raise ParameterError(
                f"warm_start={self.warm_start!r} contradicts init={self.init!r}; "
                "pass init only (warm_start is deprecated)"
            )
        warnings.warn(
            f"warm_start is renamed init (scikit-learn's warm_start means reusing the previous fit) and "
            f"will be removed: pass init={new!r} instead of warm_start={self.warm_start!r}",
            FutureWarning,
            stacklevel=6,  # (the user: ... <- fit <- _all_or_nothing <- the caller)
        )
        return bool(self.warm_start)

    # ------------------------------------------------------------------ inputs
    def _config(self) -> TrainConfig:
        sizes: Any = self.hidden_layer_sizes  # as in scikit-learn: an int or a sequence of ints
        scalar = bool(np.isscalar(sizes))
        hidden = (int(sizes),) if scalar else tuple(int(h) for h in sizes)
        return TrainConfig(
            hidden=hidden,
            hypothesis=self.hypothesis,
            loss=self.loss,
            margin=self.margin,
            l1=0.0 if self._l1_by_cv() else float(self.l1),
            l2=self.l2,
            l0=self.l0,
            neuron_penalty=self.neuron_penalty,
            layer_penalty=self.layer_penalty,
            max_nonzeros=self.max_nonzeros,
            max_neurons=self.max_neurons,
            weight_bound=self.weight_bound,
            bias_bound=self.bias_bound,
            levels=self.levels,
            scale=self.scale,
            tight_bounds=self.tight_bounds,
            symmetry_breaking=self.symmetry_breaking,
            architecture=self.architecture,
            channel_penalty=self.channel_penalty,
            max_channels=self.max_channels,
        )

    def _l1_by_cv(self) -> bool:
        if isinstance(self.l1, str):
            if self.l1 != "cv":
                raise InputError(f"l1 must be a number >= 0 or 'cv' (cross-validation over l1_grid), got {self.l1!r}")
            return True
        return False

    def _encode(self, X: Any, reset: bool) -> np.ndarray:
        """Numeric matrix of ``X`` (categoricals one-hot); on ``reset`` learn columns and levels.

        Images (N, C, H, W) (or (N, H, W)) become flat rows, C-order; with ``architecture`` set, flat
        rows need ``input_shape``.
        """
        if isinstance(X, np.ndarray) and X.ndim > 2:
            Xa = np.asarray(X, dtype=np.float64)
            shape = tuple(int(s) for s in Xa.shape[1:])
            shape = (1,) + shape if len(shape) == 2 else shape
            if reset:
                self.image_shape_: tuple[int, ...] | None = shape
            elif getattr(self, "image_shape_", None) is not None and shape != self.image_shape_:
                raise InputError(f"images of shape {shape}, the estimator was fitted on {self.image_shape_}")
            X = Xa.reshape(Xa.shape[0], -1)
        elif reset:
            self.image_shape_ = tuple(int(s) for s in self.input_shape) if self.input_shape is not None else None
        if _is_frame(X) and (_categorical_columns(X) or (not reset and getattr(self, "categories_", None))):
            return self._encode_frame(X, reset)  # (a fitted categorical column may arrive numeric: 1, 2, 3)
        if reset:
            self.categories_: dict[Any, list[Any]] = {}
        elif getattr(self, "categories_", None):
            raise InputError("the estimator was fitted on a frame with categorical columns; pass a frame")
        Xa = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True)
        if reset:
            self.encoded_names_ = (
                [str(n) for n in self.feature_names_in_]
                if hasattr(self, "feature_names_in_")
                else [f"x{i}" for i in range(Xa.shape[1])]
            )
            self.onehot_groups_: list[list[int]] = []
        return Xa

    def _encode_frame(self, X: Any, reset: bool) -> np.ndarray:
        import pandas as pd

        cols = list(X.columns)
        if len(set(map(repr, cols))) != len(cols):  # X[c] of a repeated name is a frame (a pandas TypeError)
            dup = next(c for c in cols if cols.count(c) > 1)
            raise InputError(f"the frame names the column {dup!r} more than once")
        if reset:
            self.n_features_in_ = len(cols)
            self.columns_in_ = list(cols)  # whatever the names' type: predict's frame must have the same order
            if all(isinstance(c, str) for c in cols):
                self.feature_names_in_ = np.asarray(cols, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            cats = _categorical_columns(X)
            self.categories_ = {c: sorted(pd.unique(X[c].dropna()).tolist(), key=str) for c in cats}
        else:
            check_is_fitted(self)
            if len(cols) != self.n_features_in_:
                raise InputError(
                    f"X has {len(cols)} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            seen = getattr(self, "columns_in_", None)
            if hasattr(self, "feature_names_in_") and list(self.feature_names_in_) != cols:
                raise InputError("the frame's columns differ from those seen in fit")
            if seen is not None and seen != cols:  # (integer names with a text column: a reordered frame read wrong)
                raise InputError(f"the frame's columns {cols[:6]} differ from those seen in fit {seen[:6]}")
        if X.shape[0] == 0:  # (as scikit-learn's check on a numeric frame says it)
            raise InputError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum of 1 is required")
        blocks: list[np.ndarray] = []
        names: list[str] = []
        groups: list[list[int]] = []
        for c in cols:
            if c in self.categories_:
                levels = self.categories_[c]
                col = X[c]
                if col.isna().any():
                    raise InputError(f"column {c!r} has missing values")
                lookup = {lv: i for i, lv in enumerate(levels)}
                codes = np.array([lookup.get(v, -1) for v in col.tolist()])
                if np.any(codes < 0):
                    bad = col[codes < 0].iloc[0]
                    bad = bad.item() if isinstance(bad, np.generic) else bad
                    raise InputError(f"column {c!r} has the level {bad!r} not seen in fit (levels {levels})")
                groups.append(list(range(len(names), len(names) + len(levels))))
                blocks.append((codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64))
                names.extend(f"{c}={lv}" for lv in levels)
            else:
                if np.iscomplexobj(X[c].to_numpy()):  # float64 would keep the real part only
                    raise InputError(f"Complex data not supported: column {c!r} has complex values")
                try:
                    v = X[c].to_numpy(dtype=np.float64)[:, None]
                except (TypeError, ValueError):
                    raise InputError(f"column {c!r} is not numeric") from None
                blocks.append(v)
                names.append(str(c))
        Xa = np.hstack(blocks)
        if not np.all(np.isfinite(Xa)):
            raise InputError("Input X contains NaN or infinity")
        if reset:
            self.encoded_names_ = names
            self.onehot_groups_ = [g for g in groups if len(g) >= 2]
        return Xa

    def _domain(self, X: np.ndarray) -> Domain:
        lo, hi = X.min(axis=0), X.max(axis=0)
        integer = np.all(np.equal(np.mod(X, 1), 0), axis=0)
        names = list(self.encoded_names_)
        if len(set(names)) != len(names):
            encoded = {n for g in self.onehot_groups_ for n in (names[i] for i in g)}
            clash = next((n for n in names if names.count(n) > 1 and n in encoded), None)
            if clash is not None:  # (renamed x0, x1, ... silently: the saved model could not read its own CSV)
                raise InputError(
                    f"a text column's one-hot column {clash!r} has the name of another column: rename one of them"
                )
            names = [f"x{i}" for i in range(len(names))]
        self.onehot_groups_ = self.onehot_groups_ + _encoded_groups(X, names, self.onehot_groups_)
        return Domain(names, lo, hi, integer, self.onehot_groups_)

    def _subsample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The rows trained on and their indices in X (None: every row)."""
        if self.max_samples is None or X.shape[0] <= int(self.max_samples):
            return X, y, None
        rng = np.random.default_rng(self.random_state)
        idx = np.sort(rng.choice(X.shape[0], size=int(self.max_samples), replace=False))
        return X[idx], y[idx], idx

    def _fit(self, X: Any, y: Any, classes: list[Any] | None) -> "_MIPNetBase":
        Xa = self._encode(X, reset=True)
        ya = np.asarray(y)
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = column_or_1d(ya, warn=True)  # (a column vector: DataConversionWarning, as scikit-learn's own)
        if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
            raise InputError(f"y must be a vector with one entry per row of X ({Xa.shape[0]}), got shape {ya.shape}")
        Xs, ys, rows = self._subsample(Xa, ya)
        if classes is not None and rows is not None and len(set(ys.tolist())) < 2:  # (a constant net, "optimal")
            raise InputError(
                f"the {ys.shape[0]}-row subsample (max_samples) holds only the class {ys[0].item()!r}: a classifier "
                "needs 2 classes; raise max_samples (--samples) or change random_state (--seed)"
            )
        log = print if self.verbose else None
        progress = console_progress("  solver ") if self.verbose else None
        conv: dict[str, Any] = {}
        if self.architecture is not None:
            if self.image_shape_ is None:
                raise InputError("a conv architecture needs images (N, C, H, W) or input_shape=(C, H, W)")
            conv = {"input_shape": self.image_shape_, "downsample": int(self.downsample)}
        extra: dict[str, Any] = {}
        if self.linear_term:
            extra["linear"] = True
        if self.constraints:
            extra["constraints"] = _subsampled(as_constraints(self.constraints), rows, Xa.shape[0])
        res = train(
            Xs,
            ys,
            task=self._task,
            config=self._config(),
            domain=self._domain(Xa),
            classes=classes,
            solver=self.solver,
            threads=self.threads,
            # a Deadline: the caller's clock (the command line's, started before it read the data)
            time_limit=self.time_limit if isinstance(self.time_limit, Deadline) else float(self.time_limit),
            warm_start=self._gradient_start(),
            lp_heuristic_rounds=self.lp_heuristic_rounds,
            seed=self.random_state,
            log=log,
            progress=progress,
            sign_patterns=bool(self.sign_patterns),
            l1_grid=tuple(self.l1_grid) if self._l1_by_cv() else None,
            cv_folds=int(self.cv_folds),
            **conv,
            **extra,
        )
        if rows is not None:  # the certificate names the rows, so that it re-checks on the full data file
            res.certificate.rows, res.certificate.source_rows = [int(i) for i in rows], int(Xa.shape[0])
            for net in (res.network, res.network_full):
                net.metadata["certificate"] = res.certificate.to_dict()
        self.network_ = res.network
        self.network_full_ = res.network_full
        self.certificate_ = res.certificate
        # (a regressor's output layer also carries the target's scaling: classifiers only)
        at = output_bias_at_bound(self.network_, float(self.bias_bound)) if self._task == "classify" else None
        self.output_bias_at_bound_ = at
        if at is not None:
            warnings.warn(
                f"the output bias is at its bound ({at:+g}, bias_bound={float(self.bias_bound):g}): the certificate "
                "is for this box, and a larger bias_bound may fit better (an unbalanced target's intercept can "
                "lie beyond it)",
                BoundWarning,
                stacklevel=5,  # (the user's call: _fit <- fit <- fit context <- _all_or_nothing <- the caller)
            )
        self.certificate_check_ = res.check
        self.l1_ = float(res.certificate.coefficients["l1"])
        selection = res.certificate.formulation.get("penalty_selection")
        if selection is not None:
            self.cv_results_ = selection
        elif hasattr(self, "cv_results_"):  # a refit without cross-validation keeps no earlier fit's evidence
            del self.cv_results_
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # a fit within a time limit depends on the machine's speed (which incumbent the solver reached): refits on
        # the same data and seed can differ (scikit-learn's check_fit_idempotent failed)
        tags.non_deterministic = True
        return tags


class MIPNetClassifier(ClassifierMixin, _MIPNetBase):
    __doc__ = _doc(
        """A small ReLU network trained by MILP with a certificate (binary: sign class; else quantized).

    The constructor only stores its parameters; ``fit`` checks them (a bad value is a
    :class:`ParameterError`, scikit-learn's InvalidParameterError naming the parameter) and trains.

    ``l1="cv"`` chooses the l1 coefficient from ``l1_grid`` by repeated stratified ``cv_folds``-fold
    cross-validation on the training data (:mod:`mipnet.train.penalty_cv`; binary targets, sign class,
    hinge loss); the choice is ``l1_`` and its evidence ``cv_results_``. The selection's time counts
    against ``time_limit``.

    Conv nets: ``architecture`` (a spec of :mod:`mipnet.train.architecture`, e.g.
    ``"conv4x3-maxpool2-dense8"``) replaces ``hidden_layer_sizes``; X are images (N, C, H, W) or flat
    rows with ``input_shape=(C, H, W)``; ``downsample`` average-pools the images by that factor (folded
    into the saved network as an AvgPool2D layer); ``channel_penalty`` / ``max_channels`` prune channels.
""",
        """    classes_ : ndarray
        The class labels seen in ``fit``.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from mipnet import MIPNetClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 3)
    >>> y = np.array([0, 1, 1, 1] * 3)
    >>> clf = MIPNetClassifier((1,), l1=0.01, time_limit=10).fit(X, y)  # doctest: +SKIP
    >>> clf.predict(X[:4])  # doctest: +SKIP
    array([0, 1, 1, 1])
""",
    )

    _task = "classify"
    _parameter_constraints: dict[str, list[Any]] = {
        **_MIPNetBase._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFY_LOSSES))],
    }

    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "MIPNetClassifier":
        """Train the network by MILP and certify it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images (n_samples, C, H, W)
            Training inputs; non-numeric frame columns are one-hot encoded.
        y : array-like of shape (n_samples,)
            Class labels (at least 2 classes).

        Returns
        -------
        self : MIPNetClassifier
            The fitted estimator.
        """
        _require_y(self, y)
        self._encode(X, reset=True)
        ya = np.asarray(y)
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = column_or_1d(ya, warn=True)  # (a column vector: DataConversionWarning, as scikit-learn's own)
        check_classification_targets(ya)
        self.classes_ = np.unique(ya)
        if self.classes_.size < 2:
            only = np.asarray(self.classes_[0]).item()
            raise InputError(f"the target has only one class ({only!r}); a classifier needs 2 classes")
        return self._fit(X, ya, list(self.classes_))

    def decision_function(self, X: Any) -> np.ndarray:
        """Network outputs: one logit per row (binary) or one per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images
            Inputs, encoded as in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The network's output for each row.
        """
        check_is_fitted(self)
        out = self.network_.forward(self._encode(X, reset=False))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row (the sign of the logit, or the largest output).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images
            Inputs, encoded as in ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Entries of ``classes_``.
        """
        check_is_fitted(self)
        logits = self.network_.forward(self._encode(X, reset=False))
        return self.classes_[self.network_.predict_index(logits)]

    @available_if(lambda est: _fitted_loss(est) == "logistic")
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the logistic loss's model, ``P(classes_[1] | x) = 1 / (1 + exp(-f(x)))``.

        Only with ``loss="logistic"``: the other losses do not fit probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images
            Inputs, encoded as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``.
        """
        p1 = expit(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])


class MIPNetRegressor(RegressorMixin, _MIPNetBase):
    __doc__ = _doc(
        """A small ReLU network regressor trained by MILP (L1 or squared error) with a certificate.

    The constructor only stores its parameters; ``fit`` checks them (a bad value is a
    :class:`ParameterError`, scikit-learn's InvalidParameterError naming the parameter) and trains. The
    network maps its standardised output back to the target's units.
""",
        "",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from mipnet import MIPNetRegressor
    >>> X = np.linspace(-1, 1, 12).reshape(-1, 1)
    >>> reg = MIPNetRegressor((1,), loss="l1", time_limit=10).fit(X, np.maximum(X[:, 0], 0))  # doctest: +SKIP
    >>> reg.predict(X).shape  # doctest: +SKIP
    (12,)
""",
    )

    _task = "regress"
    _parameter_constraints: dict[str, list[Any]] = {
        **_MIPNetBase._parameter_constraints,
        "loss": [StrOptions(set(REGRESS_LOSSES))],
    }

    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "MIPNetRegressor":
        """Train the network by MILP and certify it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images (n_samples, C, H, W)
            Training inputs; non-numeric frame columns are one-hot encoded.
        y : array-like of shape (n_samples,)
            Finite targets.

        Returns
        -------
        self : MIPNetRegressor
            The fitted estimator.
        """
        _require_y(self, y)
        raw = np.asarray(y) if not _is_frame(y) else y.to_numpy()
        if np.iscomplexobj(raw):  # float64 would drop the imaginary part
            raise InputError("Complex data not supported: y has complex values")
        ya = np.asarray(raw, dtype=np.float64)
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = column_or_1d(ya, warn=True)  # (a column vector: DataConversionWarning, as scikit-learn's own)
        if not np.all(np.isfinite(ya)):
            raise InputError("Input y contains NaN or infinity")
        return self._fit(X, ya, None)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted target of each row, in the target's units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame or images
            Inputs, encoded as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The network's output.
        """
        check_is_fitted(self)
        return self.network_.forward(self._encode(X, reset=False))[:, 0]


def output_bias_at_bound(net: Any, bias_bound: float) -> float | None:
    """The output layer's bias when one of its entries sits at +-``bias_bound`` (to 1e-9 relative), else None. The
    output layer's bias is the class's b (the input scaling is folded into the first layer only)."""
    layers = [layer for layer in net.layers if getattr(layer, "bias", None) is not None]
    if len(layers) < 2:  # a single layer's bias carries the input scaling: not the class's b
        return None
    b = np.asarray(layers[-1].bias, dtype=np.float64).ravel()
    hit = np.flatnonzero(np.abs(b) >= bias_bound * (1.0 - 1e-9))
    return float(b[hit[0]]) if hit.size else None


def _fitted_loss(est: Any) -> Any:
    """The loss the fitted model was trained with (its certificate's), else the ``loss`` parameter: probabilities
    come from a model fitted for them (``set_params(loss="logistic")`` after a hinge fit gave some)."""
    cert = getattr(est, "certificate_", None)
    loss = getattr(cert, "loss", None) if cert is not None else None
    return est.loss if loss is None else loss
