"""Domain constraints in training: what the user asks, how it is read, and its check on the returned network.

``train(..., constraints=[...])``, the estimators' ``constraints=`` and ``mipnet train --constraint FILE.json``
take these (one hidden layer, dense nets; the MILP rows are :mod:`.constraint_rows`). Notation: the network
f(x) = w0 x + c + sum_j v_j ReLU(W_j x + b_j) on standardised inputs x (K outputs, v_kj; w0 the linear term of
:mod:`.linear_term`, 0 without it); B_w the weight box.

* :class:`ExcludeFeatures` ``(features)``: W[j, i] = 0 for every unit j and w0_ki = 0, for each named input i
  (protected attributes: the network does not read them at all). A text column one-hot encoded into ``col=level``
  columns is excluded by its name ``col`` (every level); some of its levels without the others are refused (the
  others would still read the attribute).
* :class:`WeightSign` ``(feature, sign)``, sign s = +1 / -1: every path from input i to an output has sign s,
  s v_kj W[j, i] >= 0 for all k, j, and s w0_ki >= 0. Linear in the weights with the output weights' signs:
  sign class (v_j = p_j - q_j): s W[j, i] >= -B_w (1 - p_j) and s W[j, i] <= B_w (1 - q_j); other classes: a
  binary sigma_kj with -V (1 - sigma_kj) <= v_kj <= V sigma_kj, -B_w (1 - sigma_kj) <= s W[j, i] <= B_w sigma_kj
  (V the bound of |v_kj|). **This is sufficient for monotonicity**: each term v_kj ReLU(W_j x + b_j) is
  non-decreasing in s x_i (ReLU is non-decreasing and v_kj W[j, i] has sign s), and so is w0_ki x_i, so f_k
  is monotone (non-decreasing for s = +1, non-increasing for s = -1) in feature i over all of R^d, for one
  hidden layer in every class. (A plain sign on the first layer, s W[:, i] >= 0, would suffice only with
  non-negative output weights; the path sign needs no such restriction and costs no more binaries in the sign
  class.) Not necessary: a network can be monotone through cancellations these rows exclude.
* :class:`FeatureBudget` ``(k)``: at most k inputs used: z_i binary per input, |W[j, i]| <= B_w z_i,
  |w0_ki| <= B_w z_i, sum_i z_i <= k.
* :class:`OutputOrder` ``(x_a, x_b, delta)``: f(x_a) >= f(x_b) + delta (one output: the binary logit or the
  regression prediction, in the target's units), raw feature values. Both points are encoded as extra rows of
  the MILP with their own ReLU binaries (like training rows, without a loss), so the row is exact.
* :class:`ParityBound` ``(group, delta)``: |positive rate in group A - positive rate in group B| <= delta on
  the training rows (binary classification). ``group``: a feature (rows with a nonzero value are A, the others
  B) or a mask with one boolean per training row (True: A). One binary pi_n per row of the two groups, the
  prediction indicator: pi_n = 1 => f(x_n) >= eps, pi_n = 0 => f(x_n) <= -eps (big-M with the row's output
  bounds, eps = :data:`PREDICTION_EPS`), and -delta <= (1/|A|) sum_A pi_n - (1/|B|) sum_B pi_n <= delta. Exact
  for the 0-1 predictions (class 1 iff f > 0) of every network whose outputs on these rows avoid (-eps, eps):
  the MILP leaves out the networks with an output within eps of the decision boundary on a group row (so that
  rounding in the forward pass cannot flip a prediction the MILP counted).

Each constraint is checked with numpy on the returned network (raw features in) and recorded in the
certificate's formulation (``domain_constraints``: what was asked, ``holds`` and the measured value). The formulation's
``config`` records them as the MILP sees them (:class:`Resolved`: feature indices, standardised points, the
output delta in standardised units, the rows' groups), so that the re-check rebuilds the same MILP.

**JSON format** (``--constraint FILE.json``): a list of objects, each with ``kind``::

    [{"kind": "exclude", "features": ["race", "sex"]},
     {"kind": "sign", "feature": "priors_count", "sign": 1},
     {"kind": "budget", "k": 3},
     {"kind": "order", "x_a": {"age": 30, "priors_count": 5, ...}, "x_b": [..one value per feature..],
      "delta": 0.5},
     {"kind": "parity", "group": "sex", "delta": 0.1}]

Points are objects naming every feature or lists in the column order (one-hot columns by their encoded names,
``column=level``). The certificate records each constraint's text as :func:`canonical_text` writes it from the
recorded numbers and the feature names, so that the re-check can rebuild it. Bad constraints (unknown kind or
feature, k < 1, delta < 0, NaN, a sign not +-1) fail before any work with one line (:class:`ConstraintError`; the
command line exits 2).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DataError, UnsupportedError
from ..layers import Weighted

#: the gap of the prediction indicators (:class:`ParityBound`): pi_n = 1 needs f(x_n) >= eps, pi_n = 0 f <= -eps
PREDICTION_EPS = 1e-5
#: an order constraint's points may lie at most this many standard deviations from the training data's mean
MAX_STANDARDISED = 1e3
#: the least nonzero delta of an order constraint in the standardised target's units (the solver's tolerances)
MIN_SCALED_DELTA = 1e-5
#: tolerance of the numpy checks of the output constraints (the solvers' feasibility tolerance)
CHECK_TOL = 1e-6
KINDS = ("exclude", "sign", "budget", "order", "parity")


class ConstraintError(DataError):
    """A domain constraint that cannot be used (one line; the command line exits 2)."""


def unreachable_order(most: float | None, delta: float, over: str) -> None:
    """:class:`ConstraintError` ("infeasible") when f(x_a) - f(x_b) is at most ``most`` ``over`` a set of models
    (an interval bound over weight boxes) and that is below the order's ``delta``: no solve can meet it (a delta of
    1e20, HiGHS's infinity, dropped the row and read as a time-out)."""
    if most is not None and most < delta - 1e-9 * max(1.0, abs(delta), abs(most)):  # (round-off: never at the edge)
        raise ConstraintError(
            f"infeasible: f(x_a) - f(x_b) is at most {most:.6g} for {over}, below the order constraint's delta "
            f"{delta:.6g} (as the MILP sees it); relax one of them"
        )


def _delta(delta: Any, what: str) -> float:
    if isinstance(delta, bool):
        raise ConstraintError(f"{what}: delta must be a number >= 0, got {delta!r}")
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise ConstraintError(f"{what}: delta must be a number >= 0, got {delta!r}") from None
    if not math.isfinite(d) or d < 0:
        raise ConstraintError(f"{what}: delta must be a finite number >= 0, got {delta!r}")
    return d


def _feature(f: Any, what: str) -> str | int:
    if isinstance(f, bool) or not isinstance(f, (str, int, np.integer)):
        raise ConstraintError(f"{what}: a feature is a column name or index, got {f!r}")
    return f if isinstance(f, str) else int(f)


@dataclass(frozen=True)
class ExcludeFeatures:
    """Weight 0 everywhere on these inputs (module docstring)."""

    features: tuple[str | int, ...]

    def __post_init__(self) -> None:
        if isinstance(self.features, (str, int, np.integer)):
            feats: tuple[Any, ...] = (self.features,)
        elif isinstance(self.features, (list, tuple, np.ndarray)):
            feats = tuple(self.features)
        else:
            raise ConstraintError(f"ExcludeFeatures: features is a feature or a list of them, got {self.features!r}")
        if not feats:
            raise ConstraintError("ExcludeFeatures: name at least one feature")
        object.__setattr__(self, "features", tuple(_feature(f, "ExcludeFeatures") for f in feats))


@dataclass(frozen=True)
class WeightSign:
    """Every path from ``feature`` to the output has sign ``sign`` (+1 / -1): monotone (module docstring)."""

    feature: str | int
    sign: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature", _feature(self.feature, "WeightSign"))
        if isinstance(self.sign, bool) or self.sign not in (1, -1):
            raise ConstraintError(f"WeightSign: sign must be +1 or -1, got {self.sign!r}")
        object.__setattr__(self, "sign", int(self.sign))


@dataclass(frozen=True)
class FeatureBudget:
    """At most ``k`` inputs used (module docstring)."""

    k: int

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or int(self.k) < 1:
            raise ConstraintError(f"FeatureBudget: k must be an integer >= 1, got {self.k!r}")
        object.__setattr__(self, "k", int(self.k))


@dataclass(frozen=True)
class OutputOrder:
    """f(x_a) >= f(x_b) + delta at two points of raw feature values (module docstring)."""

    x_a: Any
    x_b: Any
    delta: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", _delta(self.delta, "OutputOrder"))
        for name in ("x_a", "x_b"):
            v = getattr(self, name)
            if isinstance(v, Mapping):
                object.__setattr__(self, name, dict(v))
            else:
                try:
                    arr = np.asarray(v, dtype=np.float64)
                except (TypeError, ValueError):
                    raise ConstraintError(f"OutputOrder: {name} must be numbers (or a feature -> value map)") from None
                if arr.ndim != 1:  # (a nested list was flattened into a point of other values)
                    raise ConstraintError(f"OutputOrder: {name} must be a flat list, one number per feature")
                if not np.all(np.isfinite(arr)):
                    raise ConstraintError(f"OutputOrder: {name} contains NaN or inf")
                object.__setattr__(self, name, tuple(float(a) for a in arr))


@dataclass(frozen=True)
class ParityBound:
    """|positive rate in group A - in group B| <= delta on the training rows (module docstring)."""

    group: Any
    delta: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", _delta(self.delta, "ParityBound"))
        g = self.group
        if isinstance(g, (str, int, np.integer)) and not isinstance(g, bool):
            object.__setattr__(self, "group", _feature(g, "ParityBound"))
        else:
            try:
                mask = np.asarray(g).ravel()
            except (TypeError, ValueError):
                raise ConstraintError("ParityBound: group is a feature or one boolean per training row") from None
            if mask.dtype != bool and not np.all(np.isin(mask, (0, 1))):
                raise ConstraintError("ParityBound: a group mask holds booleans (or 0/1), one per training row")
            object.__setattr__(self, "group", tuple(bool(v) for v in mask))


Constraint = ExcludeFeatures | WeightSign | FeatureBudget | OutputOrder | ParityBound


@dataclass(frozen=True)
class Resolved:
    """A constraint as the MILP sees it: feature indices, standardised points (``x_a``, ``x_b``) and output
    delta (standardised for regression), the rows' groups (1: A, 0: B); ``text`` and the raw points
    (``raw_a``, ``raw_b``, ``raw_delta``) for the record and the numpy check."""

    kind: str
    text: str = ""
    features: tuple[int, ...] = ()
    sign: int = 0
    k: int = 0
    x_a: tuple[float, ...] = ()
    x_b: tuple[float, ...] = ()
    raw_a: tuple[float, ...] = ()
    raw_b: tuple[float, ...] = ()
    delta: float = 0.0
    raw_delta: float = 0.0
    groups: tuple[int, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def read_resolved(c: Any) -> Resolved:
    """A :class:`Resolved` from itself or its dict (a certificate's recorded formulation)."""
    if isinstance(c, Resolved):
        return c
    if not isinstance(c, Mapping) or c.get("kind") not in KINDS:
        raise ConstraintError(f"a recorded constraint must be an object with a kind in {KINDS}, got {c!r}")
    known = Resolved.__dataclass_fields__
    d: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in c.items() if k in known}

    def whole(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def real(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)

    bad: list[str] = [k for k in ("sign", "k") if k in d and not whole(d[k])]
    bad += [k for k in ("delta", "raw_delta") if k in d and not real(d[k])]
    bad += [k for k in ("features", "groups") if k in d and not (isinstance(d[k], tuple) and all(map(whole, d[k])))]
    bad += [
        k for k in ("x_a", "x_b", "raw_a", "raw_b") if k in d and not (isinstance(d[k], tuple) and all(map(real, d[k])))
    ]
    if "text" in d and not isinstance(d["text"], str):
        bad.append("text")
    kind = c.get("kind")
    # what the constraint means, not only its types: a sign of 0 read as "<= 0" by one check and as nothing by
    # another let an edited certificate claim an optimum over a constraint that restricts nothing
    if kind == "sign" and not bad and (d.get("sign") not in (1, -1) or len(d.get("features", ())) != 1):
        bad.append("sign (+1 or -1 on one feature)")
    if kind == "budget" and not bad and int(d.get("k", 0)) < 0:
        bad.append("k (at least 0)")
    if kind == "parity" and not bad and float(d.get("delta", 0.0)) < 0:
        bad.append("delta (at least 0)")
    if kind == "exclude" and not bad and not d.get("features"):
        bad.append("features (at least one)")
    if bad:
        raise ConstraintError(f"a recorded {c.get('kind')} constraint is not readable (its {', '.join(bad)})")
    try:
        return Resolved(**d)
    except TypeError as exc:
        raise ConstraintError(f"a recorded constraint is not readable ({exc})") from None


def parse_constraints(items: Any) -> list[Constraint]:
    """The constraints of the JSON format (module docstring): a list of objects with ``kind``."""
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        raise ConstraintError("constraints: expected a JSON list of objects with a 'kind'")
    out: list[Constraint] = []
    for n, it in enumerate(items):
        if not isinstance(it, Mapping):
            raise ConstraintError(f"constraint {n + 1}: expected an object with a 'kind', got {it!r}")
        kind = it.get("kind")
        args = {k: v for k, v in it.items() if k != "kind"}
        make: Any = {
            "exclude": ExcludeFeatures,
            "sign": WeightSign,
            "budget": FeatureBudget,
            "order": OutputOrder,
            "parity": ParityBound,
        }.get(str(kind))
        if make is None:
            raise ConstraintError(f"constraint {n + 1}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        try:
            out.append(make(**args))
        except TypeError:
            fields = ", ".join(f for f in make.__dataclass_fields__)
            raise ConstraintError(
                f"constraint {n + 1} ({kind}): takes {fields}, got {', '.join(args) or 'none'}"
            ) from None
    return out


def as_constraints(items: Any) -> list[Constraint]:
    """``constraints=`` of :func:`~mipnet.train.train` and the estimators: constraint objects or JSON-style
    dicts (None: none)."""
    if items is None:
        return []
    if isinstance(items, (Mapping, ExcludeFeatures, WeightSign, FeatureBudget, OutputOrder, ParityBound)):
        items = [items]
    out: list[Constraint] = []
    for it in items:
        if isinstance(it, (ExcludeFeatures, WeightSign, FeatureBudget, OutputOrder, ParityBound)):
            out.append(it)
        else:
            out.extend(parse_constraints([it]))
    return out


def _levels(f: str, names: Sequence[str]) -> list[int]:
    """The one-hot columns ``f=level`` that a text column ``f`` was encoded into."""
    return [i for i, n in enumerate(names) if str(n).startswith(f + "=")]


def _excluded(features: Sequence[str | int], names: Sequence[str], groups: Any = None) -> tuple[int, ...]:
    """The inputs excluded features stand for: a one-hot encoded column by its name means all its levels; some
    levels of a column without the others are refused (the others would still read the attribute: excluding
    race=A alone leaves race=B, ... in the model). ``groups``: the domain's one-hot groups, when known (a numeric
    column named "t=1" is no level of anything)."""
    idx: set[int] = set()
    for f in features:
        if isinstance(f, str) and f not in names and _levels(f, names):
            idx.update(_levels(f, names))
        else:
            idx.add(_index(f, names, "ExcludeFeatures"))
    for i in sorted(idx):
        name = str(names[i])
        col = name.split("=")[0]
        if groups is not None:
            lv = next((list(map(int, g)) for g in groups if i in list(map(int, g))), [])
        else:
            lv = _levels(col, names) if "=" in name else []
        if len(lv) > 1 and not set(lv) <= idx:
            raise ConstraintError(
                f"ExcludeFeatures: {name!r} is one level of the one-hot column {col!r}, whose other levels would "
                f"still read it; exclude {col!r} (all its levels)"
            )
    return tuple(sorted(idx))


def _groups(domain: Any, names: Sequence[str], X: np.ndarray) -> list[list[int]]:
    """The one-hot groups: the domain's, or else the columns named ``f=level`` whose training values are all 0 / 1
    (numeric columns named "t=1", "t=2" are no levels of a column "t")."""
    if domain is not None and domain.onehot_groups:
        return [list(map(int, g)) for g in domain.onehot_groups]
    binary = [bool(X.shape[0]) and bool(np.all((X[:, i] == 0) | (X[:, i] == 1))) for i in range(len(names))]
    cols: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if "=" in str(n) and binary[i]:
            cols.setdefault(str(n).split("=")[0], []).append(i)
    return [g for g in cols.values() if len(g) > 1]


def _index(f: str | int, names: Sequence[str], what: str) -> int:
    if isinstance(f, str):
        if f not in names and _levels(f, names):
            lv = [str(names[i]) for i in _levels(f, names)]
            raise ConstraintError(
                f"{what}: {f!r} was one-hot encoded into {', '.join(lv[:4])}{', ...' if len(lv) > 4 else ''}: "
                "name one of these columns"
            )
        if f not in names:
            raise ConstraintError(
                f"{what}: unknown feature {f!r} (features: {', '.join(list(names)[:8])}"
                + (", ..." if len(names) > 8 else "")
                + ")"
            )
        return list(names).index(f)
    if not 0 <= f < len(names):
        raise ConstraintError(f"{what}: feature index {f} is not in 0..{len(names) - 1}")
    return int(f)


def _point(v: Any, names: Sequence[str], what: str) -> np.ndarray:
    if isinstance(v, Mapping):
        missing = [n for n in names if n not in v]
        extra = [k for k in v if k not in names]
        if missing or extra:
            raise ConstraintError(
                f"{what}: the point must name every feature once"
                + (f"; missing {missing[:4]}" if missing else "")
                + (f"; unknown {extra[:4]}" if extra else "")
            )
        try:
            arr = np.array([float(v[n]) for n in names])
        except (TypeError, ValueError):
            raise ConstraintError(f"{what}: point values must be numbers") from None
    else:
        arr = np.asarray(v, dtype=np.float64)
    if arr.shape != (len(names),):
        raise ConstraintError(f"{what}: a point has one value per feature ({len(names)}), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ConstraintError(f"{what}: a point contains NaN or inf")
    return arr


def _point_in_domain(pt: np.ndarray, domain: Any, names: Sequence[str], what: str) -> None:
    """An order point must be an input of the model: in its domain's box, integer features whole, exactly one 1
    (the rest 0) per one-hot group (a point with no category or two was accepted silently)."""
    if domain is None:
        return
    lo, hi = np.asarray(domain.lower, dtype=np.float64), np.asarray(domain.upper, dtype=np.float64)
    out = np.flatnonzero((pt < lo) | (pt > hi))
    if out.size:
        i = int(out[0])
        raise ConstraintError(
            f"{what}: {names[i]} = {pt[i]:g} is outside the model's input domain [{lo[i]:g}, {hi[i]:g}]"
        )
    ii = np.asarray(domain.integer, dtype=bool)
    bad = np.flatnonzero(ii & (pt != np.round(pt)))
    if bad.size:
        raise ConstraintError(f"{what}: {names[int(bad[0])]} is an integer feature, not {pt[int(bad[0])]:g}")
    for g in domain.onehot_groups:
        v = pt[np.asarray(g, dtype=int)]
        if not (np.all((v == 0.0) | (v == 1.0)) and v.sum() == 1.0):
            cols = [names[i] for i in g]
            raise ConstraintError(f"{what}: the one-hot columns {cols[:4]} must hold exactly one 1 (the rest 0)")


def canonical_text(r: Resolved, names: Sequence[str]) -> str:
    """The constraint's one-line text, written from the recorded numbers and the model's feature names alone (every
    value exact, ``repr``): the certificate's ``text``, so that a re-check can rebuild it and refute a text that
    claims another constraint than the one the numbers encode."""
    nm = [str(n) for n in names]

    def point(v: Sequence[float]) -> str:
        return "{" + ", ".join(f"{n!r}: {float(a)!r}" for n, a in zip(nm, v)) + "}"

    if r.kind == "exclude":
        return f"ExcludeFeatures(features={tuple(nm[i] for i in r.features)!r})"
    if r.kind == "sign":
        return f"WeightSign(feature={nm[r.features[0]]!r}, sign={r.sign})"
    if r.kind == "budget":
        return f"FeatureBudget(k={r.k})"
    if r.kind == "order":
        return f"OutputOrder(x_a={point(r.raw_a)}, x_b={point(r.raw_b)}, delta={float(r.raw_delta)!r})"
    if r.features:  # parity over a feature's nonzero rows
        return f"ParityBound(group={nm[r.features[0]]!r}, delta={float(r.raw_delta)!r})"
    return f"ParityBound(group=mask with {sum(r.groups)} of {len(r.groups)} rows in A, delta={float(r.raw_delta)!r})"


def describe(c: Constraint) -> str:
    """The constraint in one line (a mask: its group sizes)."""
    if isinstance(c, ParityBound) and isinstance(c.group, tuple):
        a = sum(c.group)
        return f"ParityBound(group=mask with {a} of {len(c.group)} rows in A, delta={c.delta:g})"
    return repr(c)


def resolve(
    constraints: Sequence[Constraint],
    names: Sequence[str],
    X: np.ndarray,
    mu: np.ndarray,
    sd: np.ndarray,
    *,
    y_scale: float,
    task: str,
    n_classes: int,
    domain: Any = None,
) -> tuple[Resolved, ...]:
    """The user's constraints as the MILP sees them (:class:`Resolved`), every name and shape checked; an order
    constraint's points in ``domain`` (the model's input domain: its box, whole integers, one 1 per one-hot group)
    and within :data:`MAX_STANDARDISED` standard deviations of the data, its delta above the solver's resolution."""
    out: list[Resolved] = []
    one_output = task == "regress" or n_classes == 2
    for c in constraints:
        text = describe(c)
        what = type(c).__name__
        if isinstance(c, ExcludeFeatures):
            out.append(Resolved("exclude", text, features=_excluded(c.features, names, _groups(domain, names, X))))
        elif isinstance(c, WeightSign):
            out.append(Resolved("sign", text, features=(_index(c.feature, names, what),), sign=c.sign))
        elif isinstance(c, FeatureBudget):
            out.append(Resolved("budget", text, k=min(c.k, len(names))))
        elif isinstance(c, OutputOrder):
            if not one_output:
                raise UnsupportedError("OutputOrder compares one output (binary classification or regression)")
            a, b = _point(c.x_a, names, what), _point(c.x_b, names, what)
            for label, pt in (("x_a", a), ("x_b", b)):
                _point_in_domain(pt, domain, names, f"{what}: {label}")
                far = np.abs((pt - mu) / sd)
                if far.max() > MAX_STANDARDISED:  # (a point at 1e9 made big-M values of 1e9: a false "optimal")
                    i = int(np.argmax(far))
                    raise ConstraintError(
                        f"{what}: {label}'s {names[i]} = {pt[i]:g} lies {far[i]:.3g} standard deviations from the "
                        f"training data's mean (at most {MAX_STANDARDISED:g}): the MILP cannot resolve it"
                    )
            if 0 < c.delta / y_scale < MIN_SCALED_DELTA:
                raise ConstraintError(
                    f"{what}: delta = {c.delta:g} is {c.delta / y_scale:.3g} in the standardised target's units, below "
                    f"the solver's resolution ({MIN_SCALED_DELTA:g}): use a larger delta or 0"
                )
            if np.array_equal(a, b) and c.delta > 0:
                raise ConstraintError(
                    f"OutputOrder: x_a and x_b are the same point, so f(x_a) - f(x_b) = 0 < delta = {c.delta:g} "
                    "for every network (infeasible)"
                )
            out.append(
                Resolved(
                    "order",
                    text,
                    x_a=tuple((a - mu) / sd),
                    x_b=tuple((b - mu) / sd),
                    raw_a=tuple(a),
                    raw_b=tuple(b),
                    delta=c.delta / y_scale,
                    raw_delta=c.delta,
                )
            )
        elif isinstance(c, ParityBound):
            if task != "classify" or n_classes != 2:
                raise UnsupportedError("ParityBound bounds positive-prediction rates: binary classification only")
            if isinstance(c.group, tuple):
                if len(c.group) != X.shape[0]:
                    raise ConstraintError(
                        f"ParityBound: the mask has {len(c.group)} entries, the training data {X.shape[0]} rows"
                    )
                g = np.asarray(c.group, dtype=bool)
                feat: tuple[int, ...] = ()
            else:
                feat = (_index(c.group, names, what),)
                g = X[:, feat[0]] != 0
            if g.all() or not g.any():
                raise ConstraintError("ParityBound: both groups need at least one training row")
            out.append(
                Resolved(
                    "parity", text, features=feat, delta=c.delta, raw_delta=c.delta, groups=tuple(int(v) for v in g)
                )
            )
        else:
            raise ConstraintError(f"not a domain constraint: {c!r}")
    return tuple(replace(r, text=canonical_text(r, names)) for r in out)


# ---------------------------------------------------------------------- the check on the returned network
def _layers(net: Any) -> tuple[np.ndarray, np.ndarray]:
    dense = [l for l in net.layers if isinstance(l, Weighted) and l.unit_name == "neurons"]
    if len(dense) != 2:
        raise UnsupportedError("domain constraints are checked on networks with one hidden layer")
    return np.asarray(dense[0].weight, dtype=np.float64), np.asarray(dense[1].weight, dtype=np.float64)


def _scale_signs(net: Any) -> tuple[np.ndarray, float]:
    """The signs of the elementwise scalings before the first weighted layer (one per raw feature) and after the
    last (the first output's): a negative input or output scale reverses a feature's direction."""
    idx = [k for k, layer in enumerate(net.layers) if isinstance(layer, Weighted)]
    s_in, s_out = np.ones(net.n_inputs), 1.0
    for k, layer in enumerate(net.layers):
        scale = getattr(layer, "scale", None) if layer.kind == "Normalize" else None
        if scale is not None and k < idx[0]:
            s_in = s_in * np.sign(np.broadcast_to(np.asarray(scale, dtype=np.float64), (net.n_inputs,)))
        elif scale is not None and k > idx[-1]:
            s_out *= float(np.sign(np.asarray(scale, dtype=np.float64).ravel()[0]))
    return s_in, s_out


def check_constraints(net: Any, resolved: Sequence[Resolved], X: np.ndarray) -> list[dict[str, Any]]:
    """Each constraint measured with numpy on ``net`` (raw features in; ``X`` the raw training rows):
    ``{"constraint", "kind", "holds", "measured", "required"}``. A sign is measured from the raw feature to the
    output: the paths' weights times the signs of the input and output scalings (a forged negative scale reversed
    the direction, and the re-check without data printed the sign as holding)."""
    W, V = _layers(net)
    s_in, s_out = _scale_signs(net)
    out: list[dict[str, Any]] = []
    for r in resolved:
        rec: dict[str, Any] = {"constraint": r.text, "kind": r.kind}
        if r.kind == "exclude":
            m = float(np.abs(W[:, list(r.features)]).max()) if W.size else 0.0
            rec.update(measured=m, required="max |weight| on the features = 0", holds=m == 0.0)
        elif r.kind == "sign":
            i = r.features[0]
            paths = r.sign * s_out * s_in[i] * V * W[:, i][None, :]
            m = float(paths.min()) if paths.size else 0.0
            rec.update(measured=m, required="min over paths of sign * v * w >= 0", holds=m >= 0.0)
        elif r.kind == "budget":
            used = int(np.count_nonzero(np.any(W != 0, axis=0)))
            rec.update(measured=used, required=f"inputs used <= {r.k}", holds=used <= r.k)
        elif r.kind == "order":
            f = net.forward(np.array([r.raw_a, r.raw_b]))[:, 0]
            m = float(f[0] - f[1])
            rec.update(
                measured=m,
                required=f"f(x_a) - f(x_b) >= {r.raw_delta:g}",
                holds=m >= r.raw_delta - CHECK_TOL * max(1.0, abs(r.raw_delta)),
            )
        else:  # parity
            g = np.asarray(r.groups, dtype=bool)
            pos = net.predict_index(net.forward(np.asarray(X, dtype=np.float64))) == 1
            m = float(abs(pos[g].mean() - pos[~g].mean()))
            band = f"every group row's output outside (-{PREDICTION_EPS:g}, {PREDICTION_EPS:g})"  # the MILP's class
            rec.update(
                measured=m, required=f"|rate A - rate B| <= {r.raw_delta:g}; {band}", holds=m <= r.raw_delta + 1e-12
            )
        rec["holds"] = bool(rec["holds"])
        out.append(rec)
    return out


__all__ = [
    "ExcludeFeatures",
    "WeightSign",
    "FeatureBudget",
    "OutputOrder",
    "ParityBound",
    "Constraint",
    "Resolved",
    "ConstraintError",
    "parse_constraints",
    "as_constraints",
    "resolve",
    "read_resolved",
    "check_constraints",
    "describe",
    "canonical_text",
    "PREDICTION_EPS",
    "KINDS",
]
