"""The VNN-LIB format: the property model (atoms, disjuncts, input boxes) and the parser.

A property declares inputs ``X_0 .. X_{n-1}`` and outputs ``Y_0 .. Y_{m-1}`` (``declare-const``, sort ``Real``)
and asserts the *unsafe* region: a conjunction of assertions, each built from ``and``, ``or`` and linear
comparisons ``<= >= < > =`` between sums (``+``, ``-``, ``*`` by a constant) of variables and numbers. Every
assertion is put in disjunctive normal form (at most ``MAX_DISJUNCTS`` disjuncts); every atom becomes
``a.X + b.Y + c <= 0`` (``< 0`` when strict); atoms on a single input variable with no output form the
disjunct's input box, and disjuncts with the same box are grouped (:meth:`Property.box_groups`). nan, inf and
numbers that overflow a double are refused. Deciding a property: :mod:`mipnet.verify.vnnlib`.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, ModelFormatError

MAX_DISJUNCTS = 4096
#: tolerance of the forward-pass re-check of a non-strict atom: none (a witness 1e-6 outside the unsafe region was
#: reported "violated" / "sat" where the property holds; a witness on the boundary is re-checked exactly)
CHECK_TOL = 0.0

_VAR = re.compile(r"^([XY])_(0|[1-9]\d*)$")  # no leading zeros: X_01 is not X_1

# ----------------------------------------------------------------------------- property model


@dataclass
class Atom:
    """sum_i a[i] X_i + sum_j b[j] Y_j + c <= 0 (< 0 if strict), coefficients as sparse dicts.

    ``exact``: the coefficients as written (the property's decimal numerals as rationals, before their rounding to
    a double); None for an atom built from floats, whose floats are then exact. :meth:`holds_at` decides the atom
    at a point in exact arithmetic on these."""

    a: dict[int, float]
    b: dict[int, float]
    c: float
    strict: bool = False
    exact: tuple[dict[int, Fraction], dict[int, Fraction], Fraction] | None = field(
        default=None, compare=False, repr=False
    )

    def value(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.c + sum(v * x[i] for i, v in self.a.items()) + sum(v * y[j] for j, v in self.b.items())

    def holds_at(self, x: np.ndarray, y: np.ndarray, tol: float = CHECK_TOL) -> bool:
        """The atom at the point (x, y) given as floats, decided exactly: in floats where the value lies farther
        from 0 than their round-off (the coefficients' rounding included), else in rational arithmetic on the
        coefficients as written. (In floats alone, 3 X_0 >= 1 held at X_0 = 0.3333333333333333, whose triple
        rounds to 1: a "violated" whose witness lies outside the property's input set.)"""
        v = self.value(x, y)
        if tol != 0.0:  # a caller's own tolerance: the float test it asks for
            return v < tol if self.strict else v <= tol
        terms = [abs(self.c)] + [abs(c * x[i]) for i, c in self.a.items()] + [abs(c * y[j]) for j, c in self.b.items()]
        err = 4.0 * (len(terms) + 2) * _UNIT * math.fsum(terms)
        if not (math.isfinite(v) and math.isfinite(err)):  # a non-finite coordinate, or terms that overflow
            return self._decide(x, y)
        if v < -err:
            return True
        if v > err:
            return False
        return self._decide(x, y)

    def rational(self) -> tuple[dict[int, Fraction], dict[int, Fraction], Fraction]:
        """The coefficients as written, exactly (an atom built from floats: its floats)."""
        if self.exact is not None:
            return self.exact
        return (
            {i: Fraction(v) for i, v in self.a.items()},
            {j: Fraction(v) for j, v in self.b.items()},
            Fraction(self.c),
        )

    def _decide(self, x: np.ndarray, y: np.ndarray) -> bool:
        e = self._exact_value(x, y)
        if e is None:
            return False
        return e < 0 if self.strict else e <= 0

    def _exact_value(self, x: np.ndarray, y: np.ndarray) -> Fraction | None:
        """The atom's left side at (x, y) in rational arithmetic (None at a non-finite coordinate)."""
        a, b, c = self.exact if self.exact is not None else (self.a, self.b, self.c)
        pts = [float(x[i]) for i in a] + [float(y[j]) for j in b]
        if not all(math.isfinite(p) for p in pts):
            return None
        out = Fraction(c)
        for i, v in a.items():
            out += Fraction(v) * Fraction(float(x[i]))
        for j, v in b.items():
            out += Fraction(v) * Fraction(float(y[j]))
        return out


#: the unit round-off of a double
_UNIT = 2.0**-53


def _floats(bounds: list[Fraction | None], side: int, outward: bool) -> np.ndarray:
    """Exact bounds as floats (None: -inf / inf by ``side``, -1 lower, +1 upper): rounded away from the box's
    inside when ``outward``, towards it otherwise (a bound beyond the largest double: an infinite one)."""
    out = np.full(len(bounds), side * np.inf)
    up = (side > 0) == outward  # round up: an outward upper bound or an inward lower one
    for i, q in enumerate(bounds):
        if q is None:
            continue
        try:
            f = float(q)
        except OverflowError:
            f = math.copysign(math.inf, q)
        if math.isfinite(f) and Fraction(f) != q and (Fraction(f) < q) == up:
            f = math.nextafter(f, math.inf if up else -math.inf)
        out[i] = f + 0.0  # no -0.0
    return out


def some_disjunct_holds(disjuncts: list[list[Atom]], x: np.ndarray, y: np.ndarray) -> bool:
    """True if every atom of some disjunct holds at ``(x, y)`` (:meth:`Atom.holds_at`): the one test of a
    counterexample, used by the verdict and by the listing of a witness."""
    return any(all(a.holds_at(x, y) for a in conj) for conj in disjuncts)


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
        n = self.n_inputs
        for conj in self.disjuncts:
            lo_q: list[Fraction | None] = [None] * n  # the bounds as written, exactly (None: no bound)
            hi_q: list[Fraction | None] = [None] * n
            slo, shi = np.zeros(n, bool), np.zeros(n, bool)
            rest: list[Atom] = []
            empty = False  # an atom false everywhere
            for at in conj:
                a, b, c = at.rational()
                if not b and len(a) == 1:
                    ((i, v),) = a.items()
                    t = -c / v
                    if v > 0:
                        old = hi_q[i]
                        if old is None or t < old or (t == old and at.strict):
                            hi_q[i], shi[i] = t, at.strict
                    else:
                        old = lo_q[i]
                        if old is None or t > old or (t == old and at.strict):
                            lo_q[i], slo[i] = t, at.strict
                    continue
                if not a and not b:
                    if c > 0 or (at.strict and c >= 0):
                        empty = True
                        break
                    continue
                rest.append(at)
            if empty or any(
                lq is not None and hq is not None and (lq > hq or (lq == hq and (slo[i] or shi[i])))
                for i, (lq, hq) in enumerate(zip(lo_q, hi_q))
            ):
                continue  # an empty disjunct
            lo, hi = _floats(lo_q, -1, outward=True), _floats(hi_q, 1, outward=True)
            key = (lo.tobytes(), hi.tobytes(), slo.tobytes(), shi.tobytes())
            if key not in groups:
                inner = (_floats(lo_q, -1, outward=False), _floats(hi_q, 1, outward=False))
                groups[key] = BoxGroup(lo, hi, slo, shi, [], [], inner[0], inner[1])
            groups[key].rest.append(rest)
            groups[key].whole.append(conj)
        return list(groups.values())


@dataclass
class BoxGroup:
    """Disjuncts sharing one input box: ``lower <= X <= upper`` (``<`` where ``strict_*``), the atoms
    left once the box is taken out (``rest``, one list per disjunct) and the disjuncts whole.

    The box's faces are the property's numerals as written (rationals): ``lower`` / ``upper`` are rounded outward
    to floats (the box proofs speak of contains every real point of the property's box), ``inner_lower`` /
    ``inner_upper`` inward (every float of that box is in the property's box: where witnesses are put). The two
    differ by at most one float per face (X_0 >= 1/3: 0.3333333333333333 outward, 0.33333333333333337 inward)."""

    lower: np.ndarray
    upper: np.ndarray
    strict_lower: np.ndarray
    strict_upper: np.ndarray
    rest: list[list[Atom]]
    whole: list[list[Atom]]
    inner_lower: np.ndarray = field(default=None)  # type: ignore[arg-type]  # None: lower
    inner_upper: np.ndarray = field(default=None)  # type: ignore[arg-type]  # None: upper

    def __post_init__(self) -> None:
        if self.inner_lower is None:
            self.inner_lower = self.lower
        if self.inner_upper is None:
            self.inner_upper = self.upper

    def place(self, X: np.ndarray) -> np.ndarray:
        """Candidate points moved onto the floats of the box as written (by at most one float at its faces)."""
        return np.clip(X, self.inner_lower, self.inner_upper)


# ----------------------------------------------------------------------------- parsing


def _tokens(text: str) -> list[str]:
    text = re.sub(r";[^\n]*", " ", text)
    return re.findall(r"\(|\)|[^\s()]+", text)


#: the deepest nesting of terms read (the terms are then read recursively; competition files nest a few levels)
MAX_DEPTH = 300


def _sexprs(tokens: list[str]) -> list[Any]:
    stack: list[list[Any]] = [[]]
    for t in tokens:
        if t == "(":
            stack.append([])
            if len(stack) > MAX_DEPTH:
                raise ModelFormatError(f"the VNN-LIB terms are nested too deeply to read (over {MAX_DEPTH} levels)")
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
    """The value of a numeral; None for a name. nan, inf and overflowing numerals are input errors; Python's own
    spellings (``1_000``, surrounding spaces) are not numerals of the format."""
    try:
        v = float(tok)
    except ValueError:
        return None
    if "_" in tok:
        raise ModelFormatError(f"{tok!r} in the VNN-LIB property is not a number (no '_' in numerals)")
    if not tok.isascii():  # Python reads any script's decimal digits (fullwidth, Arabic-Indic) as a number
        raise ModelFormatError(f"{tok!r} in the VNN-LIB property is not a number (numerals are written in ASCII)")
    if not math.isfinite(v):
        raise ModelFormatError(
            f"the number {tok!r} in the VNN-LIB property is not finite (nan and inf are not allowed)"
        )
    if v != 0.0 and abs(v) < sys.float_info.min:  # subnormal: 3e-322 / 1e-322 is not 3 in floating point
        raise ModelFormatError(
            f"the number {tok!r} in the VNN-LIB property is below the smallest normal float (2.2e-308): its ratios "
            "to other numbers are not exact; scale the property"
        )
    if v == 0.0 and any(ch in "123456789" for ch in tok.lower().split("e")[0]):  # underflowed to 0
        raise ModelFormatError(f"the number {tok!r} in the VNN-LIB property underflows to 0; scale the property")
    return v


class _Parser:
    def __init__(self) -> None:
        self.inputs: set[int] = set()
        self.outputs: set[int] = set()

    def linear(self, e: Any) -> tuple[dict[str, Fraction], Fraction]:
        """A term as ({variable: coefficient}, constant), in exact rational arithmetic (the numerals' decimal values;
        rounded once, in :meth:`atom`): 0.1 Y + 0.2 Y - 0.3 Y summed in floats left 5.6e-17 Y, and "0 <= 0" (true
        everywhere) became "Y <= 0" (a false "holds")."""
        if isinstance(e, str):
            v = _number(e)
            if v is not None:
                try:
                    return {}, Fraction(e)
                except (ValueError, ZeroDivisionError):
                    return {}, Fraction(v)
            if e not in self.declared:
                raise ModelFormatError(f"undeclared variable {e!r} in the VNN-LIB property")
            return {e: Fraction(1)}, Fraction(0)
        if not e or not isinstance(e[0], str):
            raise ModelFormatError(f"malformed term {_show(e)}")
        op, args = e[0], [self.linear(a) for a in e[1:]]
        if op in ("+", "-", "*") and not args:  # (an empty sum or product is no term of the format)
            raise ModelFormatError(f"operator {op!r} without operands in term {_show(e)}")
        if op == "+":
            return _add(args, [1] * len(args))
        if op == "-":
            if len(args) == 1:
                return _add(args, [-1])
            return _add(args, [1] + [-1] * (len(args) - 1))
        if op == "*":
            coef, var = Fraction(1), None
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
            total = math.prod(len(p) for p in parts)  # a Python int: 2**64 wrapped to 0 in int64
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
            diff, c = _add([(la, ca), (lb, cb)], [1, -1])  # lhs - rhs
            strict = op in ("<", ">")
            if op in ("<=", "<"):
                return [[self.atom(diff, c, strict)]]
            if op in (">=", ">"):
                return [[self.atom({k: -v for k, v in diff.items()}, -c, strict)]]
            return [[self.atom(diff, c, False), self.atom({k: -v for k, v in diff.items()}, -c, False)]]
        raise ModelFormatError(f"unsupported operator {op!r} in the VNN-LIB property")

    def atom(self, lin: dict[str, Fraction], c: Fraction, strict: bool) -> Atom:
        try:  # the exact sums rounded once (a coefficient that cancels to exactly 0 is dropped)
            cf, lf = float(c), {k: float(v) for k, v in lin.items() if v != 0}
        except OverflowError:
            cf, lf = math.inf, {}
        if not (math.isfinite(cf) and all(math.isfinite(v) for v in lf.values())):
            raise ModelFormatError("a coefficient of the VNN-LIB property overflows (is not finite)")
        a: dict[int, float] = {}
        b: dict[int, float] = {}
        for name, v in lf.items():
            if v == 0.0:  # (a nonzero rational below the smallest float: as before, no term)
                continue
            kind, idx = _VAR.match(name).groups()  # type: ignore[union-attr]
            (a if kind == "X" else b)[int(idx)] = v
        ea: dict[int, Fraction] = {}
        eb: dict[int, Fraction] = {}
        for name, q in lin.items():
            if q != 0:
                kind, idx = _VAR.match(name).groups()  # type: ignore[union-attr]
                (ea if kind == "X" else eb)[int(idx)] = q
        return Atom(a, b, cf, strict, exact=(ea, eb, c))

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
                    raise ModelFormatError(
                        f"variable {e[1]!r} has unsupported sort {_show(e[2])!r} (VNN-LIB variables are Real)"
                    )
                if e[1] in self.declared:
                    raise ModelFormatError(f"variable {e[1]!r} is declared twice in the VNN-LIB file")
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
        total = math.prod(len(c) for c in conj)  # a Python int: 2**64 wrapped to 0 in int64
        if total > MAX_DISJUNCTS:
            raise ModelFormatError(f"the property expands to {total} disjuncts (more than {MAX_DISJUNCTS})")
        disjuncts = [[a for c in combo for a in c] for combo in itertools.product(*conj)]
        return Property(len(self.inputs), len(self.outputs), disjuncts, source)


def _add(terms: list[tuple[dict[str, Fraction], Fraction]], signs: list[int]) -> tuple[dict[str, Fraction], Fraction]:
    out: dict[str, Fraction] = {}
    const = Fraction(0)
    for (lin, c), s in zip(terms, signs):
        const += s * c
        for k, v in lin.items():
            out[k] = out.get(k, Fraction(0)) + s * v
    return out, const


def _show(e: Any) -> str:
    if isinstance(e, list):
        s = "(" + " ".join(_show(a) for a in e) + ")"
    else:
        s = str(e)
    return s if len(s) <= 80 else s[:77] + "..."


def parse_vnnlib(text: str, source: str = "") -> Property:
    """Parse VNN-LIB text into a :class:`Property`."""
    try:
        return _Parser().parse(text, source)
    except RecursionError:  # (terms are read recursively: a few hundred levels are fine, thousands are not)
        raise ModelFormatError("the VNN-LIB terms are nested too deeply to read") from None


def load_vnnlib(path: str | Path) -> Property:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")  # (an editor's byte-order mark is not a token)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a readable text file: {exc}") from None
    try:
        return parse_vnnlib(text, str(p))
    except ModelFormatError as exc:
        raise ModelFormatError(f"{p}: {exc}") from None
