"""VNN-LIB properties (the VNN-COMP format) checked by one MILP per input box.

A property declares inputs ``X_0 .. X_{n-1}`` and outputs ``Y_0 .. Y_{m-1}`` (``declare-const``) and
asserts the *unsafe* region: a conjunction of assertions, each built from ``and``, ``or`` and linear
comparisons ``<= >= < > =`` between sums (``+``, ``-``, ``*`` by a constant) of variables and numbers.
The property **holds** when no input satisfying the input constraints yields outputs satisfying the
output constraints (competition tools print "unsat"); it is **violated** when such an input exists
(printed with the counterexample, re-checked by the numpy forward pass).

Every assertion is put in disjunctive normal form; every atom becomes ``a.X + b.Y + c <= 0`` (a
strict ``<`` is relaxed to ``<=``: the MILP's region is then a superset, so ``holds`` stays sound,
and a witness is re-checked strictly). Atoms on a single input variable with no output form the
disjunct's input box; disjuncts with the same box are solved together in one MILP:

    x in box,  y = f(x) (the network encoding, bounds over the box),
    for each disjunct p with binary d_p:  e_a(x, y) <= M_a (1 - d_p)  for every atom a of p,
    sum_p d_p = 1,

with M_a the upper bound of e_a over the box and the output bounds (interval arithmetic over the
encoding's Terms). A single disjunct needs no binary. Feasible -> candidate counterexample;
infeasible for every box -> holds; a time limit -> unknown.

The property defines the input set. Every X_i is a real number (the sort ``Real``): the box is
verified exactly as written, whatever the model's stored input domain says. The domain never cuts
the box, and its integer features and one-hot groups are not imposed (the encoding and its bounds
are built on a copy of the network whose domain is the box itself). A box that leaves the domain,
or a model whose domain has integer features or one-hot groups, gets a warning
(:attr:`VnnResult.warnings`). A box must bound every input on both sides (otherwise the property is
refused as unbounded, before any solving), and every number must be finite (nan, inf and numbers
that overflow a double are refused by the parser).
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..bounds import compute_bounds
from ..deadline import Deadline
from ..domain import Domain
from ..encode import encode_network, input_terms, new_binaries
from ..errors import DataError, ModelFormatError
from ..network import Network
from ..solve import solve

MAX_DISJUNCTS = 4096
#: seconds for a whole property when no time limit is given
DEFAULT_TIME_LIMIT = 60.0
#: ``VnnResult.reason`` when the time limit ends a box undecided (the word printed since the first release)
TIME_LIMIT_REASON = "timeout"
#: tolerance of the forward-pass re-check of a non-strict atom
CHECK_TOL = 1e-6
#: margin by which atoms are tightened when a witness fails the re-check
RETRY_DELTA = 1e-5

_VAR = re.compile(r"^([XY])_(\d+)$")


# ----------------------------------------------------------------------------- property model


@dataclass
class Atom:
    """sum_i a[i] X_i + sum_j b[j] Y_j + c <= 0 (< 0 if strict), coefficients as sparse dicts."""

    a: dict[int, float]
    b: dict[int, float]
    c: float
    strict: bool = False

    def value(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.c + sum(v * x[i] for i, v in self.a.items()) + sum(v * y[j] for j, v in self.b.items())

    def holds_at(self, x: np.ndarray, y: np.ndarray, tol: float = CHECK_TOL) -> bool:
        v = self.value(x, y)
        return v < 0 if self.strict else v <= tol


@dataclass
class Property:
    """Inputs, outputs and the unsafe region as a disjunction of conjunctions of atoms."""

    n_inputs: int
    n_outputs: int
    disjuncts: list[list[Atom]]
    source: str = ""

    def boxes(self) -> list[tuple[np.ndarray, np.ndarray, list[list[Atom]]]]:
        """Group the disjuncts by input box: (lower, upper, [remaining atoms per disjunct])."""
        return [(g.lower, g.upper, g.rest) for g in self.box_groups()]

    def box_groups(self) -> list["BoxGroup"]:
        """Group the disjuncts by input box (bounds, which bounds are strict, remaining atoms, and
        every disjunct whole for the re-check of a witness). Empty boxes are dropped."""
        groups: dict[tuple, BoxGroup] = {}
        for conj in self.disjuncts:
            lo, hi = np.full(self.n_inputs, -np.inf), np.full(self.n_inputs, np.inf)
            slo, shi = np.zeros(self.n_inputs, bool), np.zeros(self.n_inputs, bool)
            rest: list[Atom] = []
            empty = False  # an atom false everywhere
            for at in conj:
                if not at.b and len(at.a) == 1:
                    (i, v), = at.a.items()
                    t = -at.c / v + 0.0  # no -0.0
                    if v > 0 and (t < hi[i] or (t == hi[i] and at.strict)):
                        hi[i], shi[i] = t, at.strict
                    elif v < 0 and (t > lo[i] or (t == lo[i] and at.strict)):
                        lo[i], slo[i] = t, at.strict
                    continue
                if not at.a and not at.b:
                    if at.c > 0 or (at.strict and at.c >= 0):
                        empty = True
                        break
                    continue
                rest.append(at)
            if empty or np.any(lo > hi) or np.any((lo == hi) & (slo | shi)):
                continue  # an empty disjunct
            key = (lo.tobytes(), hi.tobytes(), slo.tobytes(), shi.tobytes())
            if key not in groups:
                groups[key] = BoxGroup(lo, hi, slo, shi, [], [])
            groups[key].rest.append(rest)
            groups[key].whole.append(conj)
        return list(groups.values())


@dataclass
class BoxGroup:
    """Disjuncts sharing one input box: ``lower <= X <= upper`` (``<`` where ``strict_*``), the atoms
    left once the box is taken out (``rest``, one list per disjunct) and the disjuncts whole."""

    lower: np.ndarray
    upper: np.ndarray
    strict_lower: np.ndarray
    strict_upper: np.ndarray
    rest: list[list[Atom]]
    whole: list[list[Atom]]


# ----------------------------------------------------------------------------- parsing


def _tokens(text: str) -> list[str]:
    text = re.sub(r";[^\n]*", " ", text)
    return re.findall(r"\(|\)|[^\s()]+", text)


def _sexprs(tokens: list[str]) -> list[Any]:
    stack: list[list[Any]] = [[]]
    for t in tokens:
        if t == "(":
            stack.append([])
        elif t == ")":
            if len(stack) == 1:
                raise ModelFormatError("unbalanced ')' in the VNN-LIB file")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(t)
    if len(stack) != 1:
        raise ModelFormatError("unbalanced '(' in the VNN-LIB file (missing ')')")
    return stack[0]


def _number(tok: str) -> float | None:
    """The value of a numeral; None for a name. nan, inf and overflowing numerals are input errors."""
    try:
        v = float(tok)
    except ValueError:
        return None
    if not math.isfinite(v):
        raise ModelFormatError(f"the number {tok!r} in the VNN-LIB property is not finite (nan and inf are "
                               "not allowed)")
    return v


class _Parser:
    def __init__(self) -> None:
        self.inputs: set[int] = set()
        self.outputs: set[int] = set()

    def linear(self, e: Any) -> tuple[dict[str, float], float]:
        """A term as ({variable: coefficient}, constant)."""
        if isinstance(e, str):
            v = _number(e)
            if v is not None:
                return {}, v
            if e not in self.declared:
                raise ModelFormatError(f"undeclared variable {e!r} in the VNN-LIB property")
            return {e: 1.0}, 0.0
        if not e or not isinstance(e[0], str):
            raise ModelFormatError(f"malformed term {_show(e)}")
        op, args = e[0], [self.linear(a) for a in e[1:]]
        if op == "+":
            return _add(args, [1.0] * len(args))
        if op == "-":
            if len(args) == 1:
                return _add(args, [-1.0])
            return _add(args, [1.0] + [-1.0] * (len(args) - 1))
        if op == "*":
            coef, var = 1.0, None
            for lin, const in args:
                if lin:
                    if var is not None:
                        raise ModelFormatError(f"nonlinear term {_show(e)} (a product of variables)")
                    var = (lin, const)
                else:
                    coef *= const
            if var is None:
                return {}, coef
            return {k: coef * v for k, v in var[0].items()}, coef * var[1]
        raise ModelFormatError(f"unsupported operator {op!r} in term {_show(e)}")

    def formula(self, e: Any) -> list[list[Atom]]:
        """DNF of a formula: a list of conjunctions (lists of atoms)."""
        if not isinstance(e, list) or not e or not isinstance(e[0], str):
            raise ModelFormatError(f"malformed assertion {_show(e)}")
        op = e[0]
        if op == "and":
            parts = [self.formula(a) for a in e[1:]]
            total = int(np.prod([len(p) for p in parts])) if parts else 1
            if total > MAX_DISJUNCTS:
                raise ModelFormatError(f"the property expands to {total} disjuncts (more than {MAX_DISJUNCTS})")
            return [[a for conj in combo for a in conj] for combo in itertools.product(*parts)]
        if op == "or":
            out = [c for a in e[1:] for c in self.formula(a)]
            if len(out) > MAX_DISJUNCTS:
                raise ModelFormatError(f"the property has more than {MAX_DISJUNCTS} disjuncts")
            return out
        if op in ("<=", ">=", "<", ">", "="):
            if len(e) != 3:
                raise ModelFormatError(f"comparison {_show(e)} needs exactly two operands")
            (la, ca), (lb, cb) = self.linear(e[1]), self.linear(e[2])
            diff, c = _add([(la, ca), (lb, cb)], [1.0, -1.0])  # lhs - rhs
            strict = op in ("<", ">")
            if op in ("<=", "<"):
                return [[self.atom(diff, c, strict)]]
            if op in (">=", ">"):
                return [[self.atom({k: -v for k, v in diff.items()}, -c, strict)]]
            return [[self.atom(diff, c, False), self.atom({k: -v for k, v in diff.items()}, -c, False)]]
        raise ModelFormatError(f"unsupported operator {op!r} in the VNN-LIB property")

    def atom(self, lin: dict[str, float], c: float, strict: bool) -> Atom:
        if not (math.isfinite(c) and all(math.isfinite(v) for v in lin.values())):
            raise ModelFormatError("a coefficient of the VNN-LIB property overflows (is not finite)")
        a: dict[int, float] = {}
        b: dict[int, float] = {}
        for name, v in lin.items():
            if v == 0.0:
                continue
            kind, idx = _VAR.match(name).groups()  # type: ignore[union-attr]
            (a if kind == "X" else b)[int(idx)] = v
        return Atom(a, b, float(c), strict)

    def parse(self, text: str, source: str = "") -> Property:
        exprs = _sexprs(_tokens(text))
        self.declared: set[str] = set()
        conj: list[list[list[Atom]]] = []
        for e in exprs:
            if not isinstance(e, list) or not e:
                raise ModelFormatError(f"unexpected {_show(e)} at the top level of the VNN-LIB file")
            head = e[0]
            if head == "declare-const":
                if len(e) != 3 or not isinstance(e[1], str):
                    raise ModelFormatError(f"malformed declaration {_show(e)}")
                m = _VAR.match(e[1])
                if m is None:
                    raise ModelFormatError(f"variable {e[1]!r}: VNN-LIB variables are named X_i or Y_j")
                if e[2] != "Real":
                    raise ModelFormatError(f"variable {e[1]!r} has unsupported sort {_show(e[2])!r} (VNN-LIB "
                                           "variables are Real)")
                self.declared.add(e[1])
                (self.inputs if m.group(1) == "X" else self.outputs).add(int(m.group(2)))
            elif head == "assert":
                if len(e) != 2:
                    raise ModelFormatError(f"malformed assertion {_show(e)}")
                conj.append(self.formula(e[1]))
            elif head in ("set-logic", "set-info", "set-option", "check-sat", "get-model", "exit"):
                continue
            else:
                raise ModelFormatError(f"unsupported command {head!r} in the VNN-LIB file")
        for kind, idx in (("X", self.inputs), ("Y", self.outputs)):
            if not idx:
                raise ModelFormatError(f"the property declares no {kind}_ variables")
            if sorted(idx) != list(range(len(idx))):
                raise ModelFormatError(f"the {kind}_ variables must be numbered 0..{len(idx) - 1}")
        total = int(np.prod([len(c) for c in conj])) if conj else 1
        if total > MAX_DISJUNCTS:
            raise ModelFormatError(f"the property expands to {total} disjuncts (more than {MAX_DISJUNCTS})")
        disjuncts = [[a for c in combo for a in c] for combo in itertools.product(*conj)]
        return Property(len(self.inputs), len(self.outputs), disjuncts, source)


def _add(terms: list[tuple[dict[str, float], float]], signs: list[float]) -> tuple[dict[str, float], float]:
    out: dict[str, float] = {}
    const = 0.0
    for (lin, c), s in zip(terms, signs):
        const += s * c
        for k, v in lin.items():
            out[k] = out.get(k, 0.0) + s * v
    return out, const


def _show(e: Any) -> str:
    if isinstance(e, list):
        s = "(" + " ".join(_show(a) for a in e) + ")"
    else:
        s = str(e)
    return s if len(s) <= 80 else s[:77] + "..."


def parse_vnnlib(text: str, source: str = "") -> Property:
    """Parse VNN-LIB text into a :class:`Property`."""
    return _Parser().parse(text, source)


def load_vnnlib(path: str | Path) -> Property:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"file not found: {p}")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a readable text file: {exc}") from None
    try:
        return parse_vnnlib(text, str(p))
    except ModelFormatError as exc:
        raise ModelFormatError(f"{p}: {exc}") from None


# ----------------------------------------------------------------------------- checking


@dataclass
class VnnResult:
    """``verdict`` in holds | violated | unknown; ``x``/``y`` the re-checked counterexample."""

    verdict: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    time: float = 0.0
    boxes: int = 0
    n_binaries: int = 0
    reason: str = ""
    statuses: list[str] = field(default_factory=list)
    #: what the verdict should be read with: the box leaves the model's domain, the domain's integer
    #: features / one-hot groups were not imposed (the property's inputs are real)
    warnings: list[str] = field(default_factory=list)

    def counterexample_text(self) -> str:
        """The witness in the competition's format: ((X_0 v) ... (Y_0 v) ...)."""
        if self.x is None or self.y is None:
            return ""
        items = [f"(X_{i} {v!r})" for i, v in enumerate(map(float, self.x))]
        items += [f"(Y_{j} {v!r})" for j, v in enumerate(map(float, self.y))]
        return "(" + "\n ".join(items) + ")"


def _check(prop_disjuncts: list[list[Atom]], x: np.ndarray, y: np.ndarray) -> bool:
    return any(all(a.holds_at(x, y) for a in conj) for conj in prop_disjuncts)


def _atom_upper(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray) -> float:
    u = at.c
    for i, v in at.a.items():
        u += v * (xhi[i] if v > 0 else xlo[i])
    for j, v in at.b.items():
        u += v * (yhi[j] if v > 0 else ylo[j])
    return float(u)


def _time_limit(time_limit: float | Deadline | None, timeout: float | Deadline | None,
                where: str) -> float | Deadline:
    """``time_limit``, or the deprecated keyword ``timeout`` (with a DeprecationWarning; not both)."""
    if timeout is None:
        return DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    if time_limit is not None:
        raise TypeError(f"{where}: give time_limit only (timeout is its deprecated name)")
    warnings.warn(f"{where}(timeout=...) is deprecated: use time_limit=...", DeprecationWarning, stacklevel=3)
    return timeout


def check_property(net: Network, prop: Property, *, solver: str = "highs",
                   time_limit: float | Deadline | None = None, bounds: str = "linear", threads: int | None = None,
                   timeout: float | Deadline | None = None) -> VnnResult:
    """Decide ``prop`` on ``net``: one MILP per distinct input box.

    The box is verified exactly as the property gives it, over the reals (module docstring): the
    model's domain never shrinks it; a box leaving the domain is reported in ``warnings``.
    ``time_limit`` (seconds, or a :class:`~mipnet.deadline.Deadline`; default ``DEFAULT_TIME_LIMIT``) is for
    the whole property: bounds, model building and every MILP of every box count against it.
    ``timeout`` is its deprecated name.
    """
    dl = Deadline.of(_time_limit(time_limit, timeout, "check_property"))
    t0 = time.perf_counter()
    if prop.n_inputs != net.n_inputs:
        raise DataError(f"the property has {prop.n_inputs} inputs X_i, the network takes {net.n_inputs}")
    if prop.n_outputs != net.n_outputs:
        raise DataError(f"the property has {prop.n_outputs} outputs Y_j, the network has {net.n_outputs}")
    groups = prop.box_groups()
    for g in groups:  # every box bounded, before any solving
        open_ = ~(np.isfinite(g.lower) & np.isfinite(g.upper))
        if open_.any():
            bad = int(np.flatnonzero(open_)[0])
            side = "lower and upper" if not (np.isfinite(g.lower[bad]) or np.isfinite(g.upper[bad])) else (
                "lower" if not np.isfinite(g.lower[bad]) else "upper")
            raise DataError(f"the property leaves input X_{bad} unbounded (no {side} bound); VNN-LIB properties "
                            "need a bounded input box")
    res = VnnResult("holds", boxes=len(groups))
    res.warnings = _domain_warnings(net, groups)
    if not groups:
        res.warnings.append("no input satisfies the property's input constraints (every input box is empty): "
                            "it holds vacuously")
    undecided: list[str] = []
    for g in groups:
        for delta in (0.0, RETRY_DELTA):
            if dl.expired():
                undecided.append(TIME_LIMIT_REASON)
                break
            # the retry keeps off the boundary of strict bounds too (a witness there fails the re-check)
            lo = np.where(g.strict_lower, g.lower + delta, g.lower)
            hi = np.where(g.strict_upper, g.upper - delta, g.upper)
            if np.any(lo > hi):
                undecided.append("the only witnesses lie on the boundary of a strict input bound")
                break
            status, x = _solve_box(net, lo, hi, g.rest, solver, dl, bounds, threads, delta, res)
            res.statuses.append(status)
            if status == "infeasible" and delta == 0.0:
                break  # this box is safe
            if x is None:
                undecided.append(TIME_LIMIT_REASON if status != "infeasible" else
                                 "the only witnesses lie on the unsafe region's boundary and fail the re-check")
                break
            y = net.forward(x[None])[0]
            if _check(g.whole, x, y):  # the whole disjunct: the box (strict bounds strictly) and the outputs
                res.verdict, res.x, res.y = "violated", x, y
                res.time = time.perf_counter() - t0
                return res
            if delta > 0:
                undecided.append("the witness fails the forward-pass re-check")
    if undecided:
        res.verdict, res.reason = "unknown", undecided[0]
    res.time = time.perf_counter() - t0
    return res


def _domain_warnings(net: Network, groups: list[BoxGroup]) -> list[str]:
    """Say where the property's input set differs from the model's stored domain (it is verified as given)."""
    d = net.domain
    out = []
    for g in groups:
        below, above = g.lower < d.lower, g.upper > d.upper
        if below.any() or above.any():
            i = int(np.flatnonzero(below | above)[0])
            out.append(f"the property's input box leaves the model's input domain (X_{i} in [{g.lower[i]:g}, "
                       f"{g.upper[i]:g}], domain {d.names[i]!r} in [{d.lower[i]:g}, {d.upper[i]:g}]); "
                       "the box was verified as given")
            break
    if d.integer.any() or d.onehot_groups:
        out.append("the model's domain has integer features or one-hot groups; the property's inputs are real "
                   "numbers and were verified without them")
    return out


def _box_network(net: Network, lo: np.ndarray, hi: np.ndarray) -> Network:
    """``net`` with its domain replaced by the plain real box [lo, hi] (no integers, no one-hot groups), so
    that nothing downstream (bounds, encoding) cuts the box to the stored domain. Layers are shared."""
    box = copy.copy(net)
    box.domain = Domain(net.domain.names, lo, hi)
    return box


def _solve_box(net: Network, lo: np.ndarray, hi: np.ndarray, conjs: list[list[Atom]], solver: str,
               time_limit: float | Deadline, bounds: str, threads: int | None, delta: float,
               res: VnnResult) -> tuple[str, np.ndarray | None]:
    dl = Deadline.of(time_limit)
    bnet = _box_network(net, lo, hi)
    dom = bnet.domain
    bnds = compute_bounds(bnet, lo, hi, method=bounds, deadline=dl.sub(fraction=0.5))
    ylo, yhi = bnds[-1][0].ravel(), bnds[-1][1].ravel()
    # disjuncts that the bounds already rule out are dropped
    live = [c for c in conjs if all(_lower_ok(a, lo, hi, ylo, yhi, delta) for a in c)]
    if not live:
        return "infeasible", None
    m = pyo.ConcreteModel()
    xin = input_terms(m, dom)
    enc = encode_network(m, bnet, xin, bounds=bnds)
    xs, ys = xin.expr.ravel(), enc.outputs.expr.ravel()
    yl, yu = enc.outputs.lower.ravel(), enc.outputs.upper.ravel()
    sel = new_binaries(m, "disj", (len(live),)) if len(live) > 1 else [None]
    m.cons = pyo.ConstraintList()
    for p, conj in enumerate(live):
        sel_p = sel[p]
        for at in conj:
            expr = at.c + sum(v * xs[i] for i, v in at.a.items()) + sum(v * ys[j] for j, v in at.b.items())
            cap = -delta
            if isinstance(expr, (int, float, np.number)):  # constant outputs (every unit stable off)
                if float(expr) <= cap:
                    continue
                if sel_p is None:
                    return "infeasible", None  # the only disjunct is false on the whole box
                m.cons.add(sel_p == 0)
                continue
            if sel_p is None:
                m.cons.add(expr <= cap)
            else:
                big = _atom_upper(at, lo, hi, yl, yu) - cap
                if big <= 0:
                    continue  # satisfied everywhere in the box
                m.cons.add(expr <= cap + big * (1 - sel_p))
    if len(live) > 1:
        m.cons.add(pyo.quicksum(list(sel)) == 1)
    res.n_binaries = max(res.n_binaries, enc.n_binaries() + (len(live) if len(live) > 1 else 0))
    m.obj = pyo.Objective(expr=0.0)
    if dl.expired():
        return "unknown", None
    r = solve(m, solver, time_limit=dl.solver_limit(), threads=threads)
    if r.status == "infeasible":
        return "infeasible", None
    if not r.has_solution:
        return r.status, None
    return r.status, np.clip(xin.values().ravel(), lo, hi)


def _lower_ok(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray, delta: float) -> bool:
    """False if the atom's expression is > -delta everywhere on the box (the disjunct is impossible)."""
    neg = Atom({i: -v for i, v in at.a.items()}, {j: -v for j, v in at.b.items()}, -at.c)
    lower = -_atom_upper(neg, xlo, xhi, ylo, yhi)
    return lower <= -delta if delta > 0 else lower <= 0


def verify_vnnlib(net_path: str | Path, prop_path: str | Path, *, time_limit: float | Deadline | None = None,
                  solver: str = "highs", bounds: str = "linear", timeout: float | Deadline | None = None) -> VnnResult:
    """Load an ONNX (or any supported) network and a VNN-LIB file and decide the property (``time_limit``: for
    the whole, loading included; default ``DEFAULT_TIME_LIMIT``; ``timeout`` is its deprecated name)."""
    from ..io import load_model

    dl = Deadline.of(_time_limit(time_limit, timeout, "verify_vnnlib"))
    net = load_model(net_path)
    prop = load_vnnlib(prop_path)
    return check_property(net, prop, solver=solver, time_limit=dl, bounds=bounds)
