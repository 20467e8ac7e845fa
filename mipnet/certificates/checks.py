"""Re-check a certificate without trusting the solver that produced it: the generic machinery.

This module holds what every kind shares (the report and its checks, the time budget, the fresh-solve
driver, the integrity, data-hash, row-binding and aggregate checks) and :func:`recheck`, which runs the
integrity and model checks and then the kind's own re-check, found through the registry of
:mod:`mipnet.certificates.format` (each kind's re-check lives in its module: :mod:`.training`,
:mod:`.robustness`, :mod:`.monotonicity`, :mod:`.resilience`).

The seal of a certificate is a plain content hash: anyone who edits the file can recompute it, so it only
shows accidental or naive edits. Every claim is therefore re-derived from the model file (and the data):
a witness through the numpy forward pass, a proved claim ("holds", a bound) by a **fresh solve** of a model
built afresh from the model file, within the re-check's time limit. A claim that could not be re-proved
(time limit, no data, unsupported) is reported, and the verdict is then ``partial``, never ``ok``.

Checks, in order (each one ``pass``, ``fail``, ``undecided`` = not re-proved, or ``skip`` with a detail):

1. **Integrity**: the seal matches; the answer is self-consistent (aggregate verdict = verdicts of its
   items; gap = (incumbent - bound) / |incumbent|; bound <= incumbent; a status ``optimal`` has a bound
   and a closed gap; the parts of the file that repeat a fact agree).
2. **Model**: ``Network.fingerprint()`` of the model given equals the certificate's model hash;
   **data** (when given): the hash of the rows and labels equals the recorded one, and every certified
   sample equals its data row (row index + SHA-256 of the row's own values); without a data file the
   binding is reported as not checked. A model mismatch stops here.
3. **Witnesses, through the numpy forward pass** (no solver), by the kind's re-check: a counterexample,
   witness pair or recorded value must do what the certificate says on this model (each kind module's
   docstring states exactly what: :mod:`.training`, :mod:`.robustness`, :mod:`.monotonicity`,
   :mod:`.resilience`).
4. **Re-proof by a fresh solve** (:func:`_reprove`; one shared time limit for the whole re-check, split
   evenly over the claims left): every proved claim (a ``holds``, a resilience value, a training bound) is
   solved again on a model built afresh from the model file, as the kind's module says. The solver is the
   other installed one (HiGHS <-> SCIP) when ``second_solver="auto"``, else the certificate's own solver on
   a model built afresh. A fresh solve that finds a counterexample (checked by the forward pass) or a
   network/witness below a claimed bound fails the claim.

``RecheckReport.status`` is ``ok`` (every check passed or was skipped, every claim re-proved), ``failed``
(some check failed: :meth:`RecheckReport.problems` says which) or ``partial`` (nothing failed, some claims
were not re-proved: :meth:`RecheckReport.not_reproved`). Exit codes: 0 ok, 1 failed, 3 partial.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import CertificateFieldError, DataError, MipnetError
from ..network import Network
from .format import CertificateFile, _aggregate, jsonable, kind, number

#: relative tolerance of numeric comparisons (forward pass vs recorded values)
TOL = 1e-6
#: relative tolerance of a re-proved bound (the solvers stop at a relative gap of about 1e-6)
BOUND_TOL = 1e-5
#: how far (relative; absolute below 1) a re-derived training bound may fall below the claimed one and still confirm
#: it: twice the solvers' relative MIP gap of 1e-6 (BOUND_TOL's absolute 1e-5 let a bound 7.8e-6 above the true
#: optimum of an objective of 0.29 re-check OK)
REPROVE_TOL = 2e-6
#: a claim gets no solve when less than this many seconds of the re-check's time limit are left
MIN_SOLVE_SECONDS = 0.05
OUTCOMES = ("pass", "fail", "undecided", "skip")
EXIT_CODES = {"ok": 0, "failed": 1, "partial": 3}
CATEGORIES = {
    "integrity": "tampered: the file was edited or is inconsistent",
    "model": "certificate for another model",
    "data": "the data do not match",
    "witness": "false claim: a witness or bound does not hold for this model",
    "objective": "the training objective does not match",
    "solver": "false claim: a fresh solve refutes it",
    "evidence": "not proved by its own evidence: the recorded proof re-derives a weaker claim",
    "note": "note",
}


@dataclass
class Check:
    name: str
    category: str
    outcome: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "category": self.category, "outcome": self.outcome, "detail": self.detail}


@dataclass
class RecheckReport:
    kind: str
    title: str
    claimed: str
    checks: list[Check] = field(default_factory=list)
    second_solver: str | None = None  #: the solver that re-proved the claims (None: none re-proved)
    time_limit: float | None = None

    def add(self, name: str, category: str, ok: bool | None, detail: str = "") -> Check:
        outcome = "undecided" if ok is None else ("pass" if bool(ok) else "fail")
        c = Check(name, category, outcome, detail)
        self.checks.append(c)
        return c

    def skip(self, name: str, category: str, detail: str) -> None:
        self.checks.append(Check(name, category, "skip", detail))

    @property
    def status(self) -> str:
        if any(c.outcome == "fail" for c in self.checks):
            return "failed"
        if any(c.outcome == "undecided" for c in self.checks):
            return "partial"
        return "ok"

    def not_reproved(self) -> list[Check]:
        """The claims that were neither refuted nor re-proved (time limit, no data, unsupported)."""
        return [c for c in self.checks if c.outcome == "undecided"]

    def problems(self) -> list[str]:
        """The distinct reasons of the failed checks, e.g. ['tampered', 'certificate for another model']."""
        out: list[str] = []
        for c in self.checks:
            if c.outcome == "fail" and CATEGORIES[c.category] not in out:
                out.append(CATEGORIES[c.category])
        return out

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def verdict(self) -> str:
        """'OK', 'FAILED (reasons)' or 'PARTIAL: n claims not re-proved'."""
        if self.status == "failed":
            return "FAILED (" + "; ".join(self.problems()) + ")"
        if self.status == "partial":
            n = len(self.not_reproved())
            return f"PARTIAL: {n} claim{'s' if n != 1 else ''} not re-proved (the UNDECIDED lines say why)"
        return "OK"

    def lines(self) -> list[str]:
        out = [f"certificate: {self.title}", f"claimed: {self.claimed}"]
        for c in self.checks:
            out.append(f"  [{c.outcome.upper():9s}] {c.name}" + (f": {c.detail}" if c.detail else ""))
        out.append(f"re-check: {self.verdict()}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "claimed": self.claimed,
            "status": self.status,
            "problems": self.problems(),
            "not_reproved": len(self.not_reproved()),
            "second_solver": self.second_solver,
            "time_limit": self.time_limit,
            "checks": [c.to_dict() for c in self.checks],
        }


# ============================================================================ helpers
def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def other_solver(name: str) -> str | None:
    """The second solver to re-solve with: SCIP for HiGHS (and Gurobi), HiGHS for SCIP; None if absent."""
    from .. import solve as _solve

    avail = _solve.available_solvers()
    for cand in ("scip", "highs") if name != "scip" else ("highs",):
        if cand != name and cand in avail:
            return cand
    return None


def reproving_solver(cert_solver: str, second_solver: str | None = "auto") -> str:
    """The solver of the fresh solves: "auto" = the other installed solver, else the certificate's own
    (installed) solver on a model built afresh; None = no second solver (the certificate's own); a name."""
    from .. import solve as _solve

    if second_solver not in (None, "auto"):
        return str(second_solver)
    if second_solver == "auto":
        other = other_solver(cert_solver)
        if other is not None:
            return other
    return cert_solver if cert_solver in _solve.available_solvers() else "highs"


@dataclass
class _Budget:
    """One time limit for the whole re-check, shared evenly among the claims still to re-prove."""

    seconds: float
    start: float = field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)

    def share(self, n_left: int) -> float | None:
        rem = self.left()
        return None if rem < MIN_SOLVE_SECONDS else rem / max(1, n_left)


@dataclass
class _Ctx:
    solver: str | None  #: the re-proving solver; None = re-proof switched off
    budget: _Budget
    samples: int


def _reprove(
    rep: RecheckReport,
    ctx: _Ctx,
    claims: Sequence[tuple[str, Any]],
    prove: Callable[[Any, str, float], tuple[bool | None, str]],
) -> None:
    """Re-prove each claim (name, payload) by ``prove(payload, solver, seconds)`` -> (verdict, detail)."""
    for n, (name, payload) in enumerate(claims):
        if ctx.solver is None:
            rep.add(name, "solver", None, "not re-proved (re-proof switched off)")
            continue
        t = ctx.budget.share(len(claims) - n)
        if t is None:
            rep.add(
                name,
                "solver",
                None,
                f"not re-proved: the re-check's time limit ({ctx.budget.seconds:g} s) is used up (raise it)",
            )
            continue
        try:
            ok, detail = prove(payload, ctx.solver, t)
        except MipnetError as exc:
            ok, detail = None, f"not re-proved: {exc}"
        rep.add(name, "solver", ok, detail)


def _array(v: Any, n: int | None = None, what: str = "a point") -> np.ndarray:
    try:
        a = np.asarray([number(x) for x in v], dtype=np.float64)
    except (TypeError, MipnetError):
        raise CertificateFieldError(f"the certificate's {what} is not a list of numbers") from None
    if not np.all(np.isfinite(a)):  # (a point of the model's input: never NaN or inf)
        raise CertificateFieldError(f"the certificate's {what} contains NaN or inf")
    if n is not None and a.size != n:
        raise CertificateFieldError(f"the certificate's {what} has {a.size} values, the model takes {n}")
    return a


def _samples(cert: CertificateFile, net: Network) -> np.ndarray:
    S = cert.question.get("samples")
    if not isinstance(S, list) or not S:
        raise CertificateFieldError("the certificate does not record the points it is about")
    return np.vstack([_array(row, net.n_inputs, "sample") for row in S])


def _claimed(cert: CertificateFile) -> str:
    a = cert.answer
    parts = [str(a.get("status"))]
    for k in ("incumbent", "bound", "gap"):
        if a.get(k) is not None:
            try:
                parts.append(f"{k} {number(a[k]):.6g}")
            except CertificateFieldError:  # refuted by the checks below; the claim is shown as written
                parts.append(f"{k} {a[k]!r}")
    return ", ".join(parts)


# ============================================================================ the re-check
def recheck(
    cert: CertificateFile,
    net: Network,
    data: Any = None,
    *,
    second_solver: str | None = "auto",
    time_limit: float = 60.0,
    samples: int = 2000,
    reprove: bool = True,
) -> RecheckReport:
    """Re-check ``cert`` against ``net`` (and ``data``: ``(X, y)``, or a DataFrame with the model's feature
    columns and, for training certificates, the target column named in the certificate).

    ``second_solver``: the solver of the fresh solves that re-prove the claims: "auto" (the other installed
    solver, else the certificate's own on a model built afresh), None (the certificate's own solver on a
    model built afresh) or a solver name. ``time_limit``: seconds for the whole re-check (shared by its
    solves); ``samples``: random secants of a monotonicity check. ``reprove=False`` checks witnesses only:
    the proved claims are then reported as not re-proved (status ``partial``).
    """
    checker = kind(cert.kind).recheck  # an unknown kind is a CertificateError
    budget = _Budget(float(time_limit))
    rep = RecheckReport(cert.kind, cert.title(), _claimed(cert), time_limit=float(time_limit))
    # 1. integrity
    if cert.seal is None:
        rep.add("content seal", "integrity", False, "the certificate carries no seal")
    else:
        rep.add(
            "content seal",
            "integrity",
            cert.sealed(),
            "matches the content (a plain hash: anyone can recompute it, so every claim is re-derived below)"
            if cert.sealed()
            else "does not match: the file was edited after it was written",
        )
    # 2. model, data
    fp = net.fingerprint()
    if fp != cert.model_sha256:
        rep.add(
            "model sha256",
            "model",
            False,
            f"the model's hash {fp[:16]}... differs from the certificate's {cert.model_sha256[:16]}...",
        )
        rep.skip("witnesses and proofs", "witness", "not checked: the certificate is about another model")
        return rep
    rep.add("model sha256", "model", True, fp[:16] + "...")
    Xy = _data_arrays(cert, net, data)
    solver = str(cert.solver.get("name", "highs"))
    prover = reproving_solver(solver, second_solver) if reprove else None
    rep.second_solver = prover
    ctx = _Ctx(prover, budget, samples)
    if cert.kind != "training":  # the claim is over the model's domain: the question must name that set
        qd, md = cert.question.get("domain"), jsonable(net.domain.to_dict())
        rep.add(
            "domain of the question is the model's",
            "integrity",
            qd == md,
            "the set the property was proved on" if qd == md else "the certificate names another input set",
        )
    try:
        checker(rep, cert, net, Xy, ctx)
    except CertificateFieldError as exc:  # an edited or corrupt field: the certificate is refuted, not the command
        rep.add("certificate fields readable", "integrity", False, str(exc))
    except MipnetError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError, AssertionError) as exc:
        # an edited field of another type (classes: null reached an internal assertion: a traceback)
        rep.add("certificate fields readable", "integrity", False, f"a malformed field ({type(exc).__name__}: {exc})")
    if prover is not None and any(c.category == "solver" and c.outcome in ("pass", "fail") for c in rep.checks):
        if prover != solver:
            how = "a second solver"
        elif second_solver is None:
            how = "the same solver on a model built afresh from the model file (no second solver requested)"
        elif second_solver != "auto":
            how = f"the same solver on a model built afresh from the model file (--second-solver {second_solver})"
        else:
            how = "the same solver on a model built afresh from the model file (no second solver installed: " + (
                "pip install pyscipopt)" if prover != "scip" else "pip install highspy)"
            )
        # (a claim proved by bound propagation alone, or by the dual bound's own pricing, used no MILP solver)
        rep.skip("re-proved with", "note", f"{prover}: {how}, where a re-proof needed a MILP solver")
    return rep


def _data_arrays(cert: CertificateFile, net: Network, data: Any) -> tuple[np.ndarray, np.ndarray | None] | None:
    if data is None:
        return None
    if isinstance(data, tuple):
        X, y = data
        return np.atleast_2d(np.asarray(X, dtype=np.float64)), None if y is None else np.asarray(y)
    if hasattr(data, "columns"):
        from ..tabular import features_for, non_feature_columns

        X = features_for(net, data)
        target = (cert.data or {}).get("target")
        if target is None:
            extra = non_feature_columns(net, data)
            target = extra[0] if len(extra) == 1 else None
        if cert.kind == "training" and target is None:
            extra = non_feature_columns(net, data)
            raise DataError(
                "the certificate names no target column, and the CSV has "
                + (
                    f"{len(extra)} columns besides the model's features ({', '.join(map(str, extra[:5]))})"
                    if extra
                    else "no column besides the model's features"
                )  # fmt: skip
                + ": give the training CSV with only its target column besides the features"
            )
        if target is not None and target not in data.columns:
            if cert.kind == "training":
                raise DataError(f"the data lack the target column {target!r} named in the certificate")
            target = None
        y = data[target].to_numpy() if target is not None else None
        return X, y
    return np.atleast_2d(np.asarray(data, dtype=np.float64)), None


def data_matches(cert: CertificateFile, X: np.ndarray, y: Sequence[Any] | None) -> bool:
    """True when ``(X, y)`` are the rows the certificate's data hash records (its row selection applied): the data
    check of :func:`recheck` would pass. (The audit re-checks a model's training certificate with its data only then:
    held-out data would fail a re-check that is not about them.)"""
    if y is None:
        return False
    rep = RecheckReport(cert.kind, "", "")
    try:
        _check_data_hash(rep, cert, np.atleast_2d(np.asarray(X, dtype=np.float64)), np.asarray(y, dtype=object))
    except (ValueError, TypeError, MipnetError):
        return False
    return bool(rep.checks) and rep.checks[-1].outcome == "pass"


def _check_data_hash(rep: RecheckReport, cert: CertificateFile, X: np.ndarray, y: np.ndarray | None) -> None:
    from ..train.objective_check import data_hash

    rec = cert.data or {}
    if not rec.get("sha256"):
        rep.skip("data sha256", "data", "the certificate records no data hash")
        return
    if rec.get("labels") and y is None:
        rep.skip("data sha256", "data", "not checked: the hash covers the labels, the data have no target column")
        return
    labels = y if rec.get("labels") and y is not None else np.asarray([], dtype=object)  # y: checked above
    rows = rec.get("rows")
    if isinstance(rows, list) and rows and X.shape[0] != len(rows):
        if max(rows) >= X.shape[0] or min(rows) < 0:
            rep.add(
                "data sha256", "data", False, f"the data have {X.shape[0]} rows, the certificate uses row {max(rows)}"
            )
            return
        X = X[rows]
        labels = labels[rows] if len(labels) else labels
    h = data_hash(X, labels)
    if h != rec["sha256"] and data_hash(X, labels, legacy=True) == rec["sha256"]:
        h = rec["sha256"]  # hashed before whole floats were written as integers (the same data)
    rep.add(
        "data sha256",
        "data",
        h == rec["sha256"],
        h[:16] + "..."
        if h == rec["sha256"]
        else f"the data's hash {h[:16]}... differs from the certificate's {str(rec['sha256'])[:16]}...",
    )


def _check_row_binding(
    rep: RecheckReport,
    cert: CertificateFile,
    S: np.ndarray,
    items: Sequence[dict[str, Any]],
    positions: Sequence[int],
    Xy: Any,
) -> None:
    """Each certified sample S[positions[i]] is row ``data_row`` of the data file: the recorded hash of the
    row's values matches the sample and (with the data) the file's row."""
    from ..train.objective_check import data_hash, row_hash

    name = "each sample bound to its data row"
    rec = cert.data or {}
    rows = rec.get("rows")
    if not any("data_row" in it for it in items):
        if rows is None:
            rep.skip(name, "data", "not checked: the certificate does not name the samples' data rows")
            return
        # the rows are named but the items' bindings are gone (deleted: a violated row's sample was swapped for a
        # robust one's and re-checked OK): the samples themselves must be those rows of the data
        if Xy is None:
            rep.add(name, "data", None, "not checked: the items name no rows and no data file was given")
            return
        X = Xy[0]
        wrong = [
            f"sample {p}"
            for p in positions
            if not (isinstance(rows, list) and p < len(rows) and isinstance(rows[p], int) and 0 <= rows[p] < len(X))
            or row_hash(X[rows[p]]) != row_hash(S[p])
        ]
        rep.add(name, "data", not wrong, "; ".join(wrong[:5]) or f"{len(items)} samples equal the named rows")
        return
    bad = []
    for it, p in zip(items, positions):
        r, h = it.get("data_row"), it.get("data_row_sha256")
        if not isinstance(r, int) or isinstance(r, bool) or h != row_hash(S[p]):
            bad.append(f"sample {p}")
        elif isinstance(rows, list) and (p >= len(rows) or rows[p] != r):
            bad.append(f"sample {p} (row {r} not in the row list)")
    if not rec.get("labels") and rec.get("sha256") and data_hash(S, np.asarray([], dtype=object)) != rec["sha256"]:
        bad.append("the data hash is not the hash of the certified samples")
    rep.add(
        "samples match their recorded row hashes",
        "integrity",
        not bad,
        "; ".join(bad[:5]) if bad else f"{len(items)} samples",
    )
    if Xy is None:  # the certificate names data rows: without the file that claim is not re-checked (partial)
        rep.add(name, "data", None, "not checked: no data file given (mipnet recheck CERT MODEL DATA.csv)")
        return
    X = Xy[0]
    wrong = []
    for it, p in zip(items, positions):
        r = it.get("data_row")
        if not isinstance(r, int) or not 0 <= r < X.shape[0]:
            wrong.append(f"sample {p}: row {r} is not in the data ({X.shape[0]} rows)")
        elif row_hash(X[r]) != row_hash(S[p]) and not (X.shape[0] == len(items) and row_hash(X[p]) == row_hash(S[p])):
            wrong.append(f"sample {p}: the data's row {r} has other values")
    rep.add(
        name,
        "data",
        not wrong,
        "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else "")
        if wrong
        else f"{len(items)} samples equal their rows of the data",
    )


def _check_summary(rep: RecheckReport, cert: CertificateFile, items: Sequence[Any], **expected: Any) -> None:
    """The answer's summary figures restate its items (each keyword: the answer's key and the value recomputed from
    the items; numbers to 1e-9 relative, None = absent), and the result record, the verifier's own output kept in
    the file, agrees with them: per item its verdict, bound and Phi where both hold one, else its overall status."""
    a, bad = cert.answer, []
    for k, v in expected.items():
        got = a.get(k)
        if v is None or got is None:
            ok = v is None and got is None
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            g = number(got)
            ok = g is not None and _close(g, float(v), 1e-9)
        else:
            ok = got == v
        if not ok:
            bad.append(f"answer {k} {got!r}, the items give {v!r}")
    res = cert.result
    if isinstance(res, list):
        if len(res) != len(items):
            bad.append(f"the result record has {len(res)} entries for {len(items)} items")
        for i, (r, it) in enumerate(zip(res, items)):
            for key in ("verdict", "bound", "phi"):
                if not (isinstance(r, dict) and isinstance(it, dict)) or r.get(key) is None or it.get(key) is None:
                    continue  # (a record without the figure claims nothing about it)
                if r[key] != it[key]:
                    bad.append(f"item {i}: {key} {it[key]!r}, the result record {r[key]!r}")
    elif isinstance(res, dict):
        if "status" in res and res["status"] != a.get("status"):
            bad.append(f"status {a.get('status')!r}, the result record {res['status']!r}")
        per = res.get("features")  # (monotonicity: one record per feature, its status the item's verdict)
        if isinstance(per, list):
            if len(per) != len(items):
                bad.append(f"the result record has {len(per)} features for {len(items)} items")
            pairs = [("status", "verdict")] + [(k, k) for k in ("feature", "direction", "bound", "min_derivative")]
            for i, (r, it) in enumerate(zip(per, items)):
                if not (isinstance(r, dict) and isinstance(it, dict)):
                    continue
                for rk, ik in pairs:
                    if None not in (r.get(rk), it.get(ik)) and r[rk] != it[ik]:
                        bad.append(f"item {i}: {ik} {it[ik]!r}, the result record's {rk} {r[rk]!r}")
    rep.add("answer restates its items and the result record", "integrity", not bad, "; ".join(bad[:4]))


#: the verdict words a certificate of a property may use (any other word, "Holds", "proved", "holds ", is an edit)
VERDICT_WORDS = ("holds", "violated", "unknown")


def _check_aggregate(rep: RecheckReport, cert: CertificateFile, verdicts: Sequence[str]) -> None:
    """The certificate's verdict is the aggregate of its items', and every verdict is one of :data:`VERDICT_WORDS`
    (the aggregate reads "not violated, not unknown" as holds: an unknown word must not pass as holds)."""
    words = [str(cert.status), *(str(v) for v in verdicts)]
    odd = sorted({w for w in words if w not in VERDICT_WORDS})
    if odd or not verdicts:
        rep.add(
            "verdict words",
            "integrity",
            False,
            f"verdicts {', '.join(repr(w) for w in odd)} (one of {', '.join(VERDICT_WORDS)})"
            if odd
            else "a certificate of a property without its items",
        )
    agg = _aggregate(list(verdicts))
    rep.add(
        "verdict consistent with its items",
        "integrity",
        agg == cert.status,
        f"items give {agg!r}, the certificate says {cert.status!r}" if agg != cert.status else agg,
    )


__all__ = [
    "VERDICT_WORDS",
    "Check",
    "RecheckReport",
    "recheck",
    "data_matches",
    "other_solver",
    "reproving_solver",
    "EXIT_CODES",
    "OUTCOMES",
    "CATEGORIES",
    "TOL",
    "BOUND_TOL",
    "REPROVE_TOL",
    "MIN_SOLVE_SECONDS",
]
