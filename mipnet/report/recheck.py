"""Re-check a certificate without trusting the solver that produced it.

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
3. **Witnesses, through the numpy forward pass** (no solver):

   * robustness, ``violated``: the counterexample x' lies in the ball ||x' - x|| <= eps and in the
     domain, and its predicted class differs from the defended class c; ``holds``: no witness is
     recorded, and the proved lower bound b of the worst margin is <= m(x), the margin at x itself.
   * global monotonicity in x_l with sign s: each item's direction is the question's direction for x_l;
     ``violated``: the pair (x, x') lies in the domain, differs in x_l only, x'_l > x_l and
     s (f(x') - f(x)) < 0, with the recorded f values; ``holds``: random secants along x_l satisfy
     s (f(x + h e_l) - f(x)) / h >= bound >= -tol (a secant slope is an average of slopes).
   * individual monotonicity, counterexample x' at x: x'_a <= x_a (increasing a), x'_d >= x_d
     (decreasing d), the rest equal, x' in the domain and f(x') > f(x).
   * resilience, a witness pair (a, b): a in the domain with z_m(a) - max_{i != m} z_i(a) >= ln(alpha),
     b in the domain with at least k classes i != m reaching z_i(b) >= z_m(b), and ||b - a|| = Phi.
   * training: incumbent = sum of the terms; the penalty terms recomputed from the weights; with the
     data (the recorded rows of it, for a subsample), every term and the data hash
     (:func:`mipnet.train.certificate.check_certificate`).

4. **Re-proof by a fresh solve** (one shared time limit for the whole re-check, split evenly over the
   claims left): a robustness ``holds`` (verify_sample), a monotonicity ``holds`` (verify_global /
   verify_individual), a resilience value (the fresh lower bound must reach the claimed one), a training
   bound (the training MILP rebuilt from the recorded formulation and the data, solved again; a bound from
   the dual certificate, ``bound_source`` "dual: ...", is recomputed from its recorded multipliers instead:
   in numpy for the transport plan, with a fresh single-neuron pricing MILP where the record used one). The
   solver is the other installed one (HiGHS <-> SCIP) when ``second_solver="auto"``, else the
   certificate's own solver on a model built afresh. A fresh solve that finds a counterexample (checked
   by the forward pass) or a network/witness below a claimed bound fails the claim.

``RecheckReport.status`` is ``ok`` (every check passed or was skipped, every claim re-proved), ``failed``
(some check failed: :meth:`RecheckReport.problems` says which) or ``partial`` (nothing failed, some claims
were not re-proved: :meth:`RecheckReport.not_reproved`). Exit codes: 0 ok, 1 failed, 3 partial.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, cast

import numpy as np

from ..errors import DataError, MipnetError
from ..network import Network
from .certificates import CertificateFile, number

#: relative tolerance of numeric comparisons (forward pass vs recorded values)
TOL = 1e-6
#: relative tolerance of a re-proved bound (the solvers stop at a relative gap of about 1e-6)
BOUND_TOL = 1e-5
#: a claim gets no solve when less than this many seconds of the re-check's time limit are left
MIN_SOLVE_SECONDS = 0.05
OUTCOMES = ("pass", "fail", "undecided", "skip")
EXIT_CODES = {"ok": 0, "failed": 1, "partial": 3}
CATEGORIES = {"integrity": "tampered: the file was edited or is inconsistent",
              "model": "certificate for another model", "data": "the data do not match",
              "witness": "false claim: a witness or bound does not hold for this model",
              "objective": "the training objective does not match",
              "solver": "false claim: a fresh solve refutes it", "note": "note"}


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
        return {"kind": self.kind, "title": self.title, "claimed": self.claimed, "status": self.status,
                "problems": self.problems(), "not_reproved": len(self.not_reproved()),
                "second_solver": self.second_solver, "time_limit": self.time_limit,
                "checks": [c.to_dict() for c in self.checks]}


# ============================================================================ helpers
def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def other_solver(name: str) -> str | None:
    """The second solver to re-solve with: SCIP for HiGHS (and Gurobi), HiGHS for SCIP; None if absent."""
    from .. import solve as _solve

    avail = _solve.available_solvers()
    for cand in (("scip", "highs") if name != "scip" else ("highs",)):
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


def _reprove(rep: RecheckReport, ctx: _Ctx, claims: Sequence[tuple[str, Any]],
             prove: Callable[[Any, str, float], tuple[bool | None, str]]) -> None:
    """Re-prove each claim (name, payload) by ``prove(payload, solver, seconds)`` -> (verdict, detail)."""
    for n, (name, payload) in enumerate(claims):
        if ctx.solver is None:
            rep.add(name, "solver", None, "not re-proved (re-proof switched off)")
            continue
        t = ctx.budget.share(len(claims) - n)
        if t is None:
            rep.add(name, "solver", None, f"not re-proved: the re-check's time limit ({ctx.budget.seconds:g} s) "
                    "is used up (raise --time-limit)")
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
        raise DataError(f"the certificate's {what} is not a list of numbers") from None
    if n is not None and a.size != n:
        raise DataError(f"the certificate's {what} has {a.size} values, the model takes {n}")
    return a


def _samples(cert: CertificateFile, net: Network) -> np.ndarray:
    S = cert.question.get("samples")
    if not isinstance(S, list) or not S:
        raise DataError("the certificate does not record the points it is about")
    return np.vstack([_array(row, net.n_inputs, "sample") for row in S])


def _claimed(cert: CertificateFile) -> str:
    a = cert.answer
    parts = [str(a.get("status"))]
    for k in ("incumbent", "bound", "gap"):
        if a.get(k) is not None:
            parts.append(f"{k} {number(a[k]):.6g}")
    return ", ".join(parts)


# ============================================================================ the re-check
def recheck(cert: CertificateFile, net: Network, data: Any = None, *, second_solver: str | None = "auto",
            time_limit: float = 60.0, samples: int = 2000, reprove: bool = True) -> RecheckReport:
    """Re-check ``cert`` against ``net`` (and ``data``: ``(X, y)``, or a DataFrame with the model's feature
    columns and, for training certificates, the target column named in the certificate).

    ``second_solver``: the solver of the fresh solves that re-prove the claims: "auto" (the other installed
    solver, else the certificate's own on a model built afresh), None (the certificate's own solver on a
    model built afresh) or a solver name. ``time_limit``: seconds for the whole re-check (shared by its
    solves); ``samples``: random secants of a monotonicity check. ``reprove=False`` checks witnesses only:
    the proved claims are then reported as not re-proved (status ``partial``).
    """
    budget = _Budget(float(time_limit))
    rep = RecheckReport(cert.kind, cert.title(), _claimed(cert), time_limit=float(time_limit))
    # 1. integrity
    if cert.seal is None:
        rep.add("content seal", "integrity", False, "the certificate carries no seal")
    else:
        rep.add("content seal", "integrity", cert.sealed(),
                "matches the content (a plain hash: anyone can recompute it, so every claim is re-derived below)"
                if cert.sealed() else "does not match: the file was edited after it was written")
    # 2. model, data
    fp = net.fingerprint()
    if fp != cert.model_sha256:
        rep.add("model sha256", "model", False,
                f"the model's hash {fp[:16]}... differs from the certificate's {cert.model_sha256[:16]}...")
        rep.skip("witnesses and proofs", "witness", "not checked: the certificate is about another model")
        return rep
    rep.add("model sha256", "model", True, fp[:16] + "...")
    Xy = _data_arrays(cert, net, data)
    solver = str(cert.solver.get("name", "highs"))
    prover = reproving_solver(solver, second_solver) if reprove else None
    rep.second_solver = prover
    ctx = _Ctx(prover, budget, samples)
    checker = {"training": _recheck_training, "robustness": _recheck_robustness,
               "monotonicity": _recheck_monotonicity, "monotonicity_individual": _recheck_individual,
               "resilience": _recheck_resilience}[cert.kind]
    checker(rep, cert, net, Xy, ctx)
    if prover is not None and any(c.category == "solver" and c.outcome in ("pass", "fail") for c in rep.checks):
        how = ("a second solver" if prover != solver else
               f"the same solver on a model built afresh from the model file (no second solver"
               f"{' requested' if second_solver is None else ' installed: pip install pyscipopt'})")
        rep.skip("re-proved with", "note", f"{prover}: {how}")
    return rep


def _data_arrays(cert: CertificateFile, net: Network, data: Any) -> tuple[np.ndarray, np.ndarray | None] | None:
    if data is None:
        return None
    if isinstance(data, tuple):
        X, y = data
        return np.atleast_2d(np.asarray(X, dtype=np.float64)), None if y is None else np.asarray(y)
    if hasattr(data, "columns"):
        from ..tabular import features_for

        X = features_for(net, data)
        target = (cert.data or {}).get("target")
        if target is None:
            extra = [c for c in data.columns if c not in set(net.feature_names)]
            target = extra[0] if len(extra) == 1 else None
        if cert.kind == "training" and target is None:
            raise DataError("name the target column: the CSV has no single column besides the model's features")
        if target is not None and target not in data.columns:
            if cert.kind == "training":
                raise DataError(f"the data lack the target column {target!r} named in the certificate")
            target = None
        y = data[target].to_numpy() if target is not None else None
        return X, y
    return np.atleast_2d(np.asarray(data, dtype=np.float64)), None


def _check_data_hash(rep: RecheckReport, cert: CertificateFile, X: np.ndarray, y: np.ndarray | None) -> None:
    from ..train.certificate import data_hash

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
            rep.add("data sha256", "data", False, f"the data have {X.shape[0]} rows, the certificate uses row "
                    f"{max(rows)}")
            return
        X = X[rows]
        labels = labels[rows] if len(labels) else labels
    h = data_hash(X, labels)
    rep.add("data sha256", "data", h == rec["sha256"],
            h[:16] + "..." if h == rec["sha256"] else
            f"the data's hash {h[:16]}... differs from the certificate's {str(rec['sha256'])[:16]}...")


def _check_row_binding(rep: RecheckReport, cert: CertificateFile, S: np.ndarray, items: Sequence[dict[str, Any]],
                       positions: Sequence[int], Xy: Any) -> None:
    """Each certified sample S[positions[i]] is row ``data_row`` of the data file: the recorded hash of the
    row's values matches the sample and (with the data) the file's row."""
    from ..train.certificate import data_hash, row_hash

    name = "each sample bound to its data row"
    rec = cert.data or {}
    rows = rec.get("rows")
    if not any("data_row" in it for it in items):
        rep.skip(name, "data", "not checked: the certificate does not name the samples' data rows"
                 if rows is None else "not checked: the certificate names the rows but not their values' hashes")
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
    rep.add("samples match their recorded row hashes", "integrity", not bad,
            "; ".join(bad[:5]) if bad else f"{len(items)} samples")
    if Xy is None:
        rep.skip(name, "data", "not checked: no data file given (mipnet recheck CERT MODEL DATA.csv)")
        return
    X = Xy[0]
    wrong = []
    for it, p in zip(items, positions):
        r = it.get("data_row")
        if not isinstance(r, int) or not 0 <= r < X.shape[0]:
            wrong.append(f"sample {p}: row {r} is not in the data ({X.shape[0]} rows)")
        elif row_hash(X[r]) != row_hash(S[p]) and not (X.shape[0] == len(items) and row_hash(X[p]) == row_hash(S[p])):
            wrong.append(f"sample {p}: the data's row {r} has other values")
    rep.add(name, "data", not wrong, "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else "") if wrong
            else f"{len(items)} samples equal their rows of the data")


def _check_aggregate(rep: RecheckReport, cert: CertificateFile, verdicts: Sequence[str]) -> None:
    from .certificates import _aggregate

    agg = _aggregate(list(verdicts))
    rep.add("verdict consistent with its items", "integrity", agg == cert.status,
            f"items give {agg!r}, the certificate says {cert.status!r}" if agg != cert.status else agg)


# ---------------------------------------------------------------------------- training
def _optimal_gap_tolerance(cert: CertificateFile) -> float:
    """The largest gap a status ``optimal`` may carry: 10 x the recorded relative MIP gap (at most 1e-4)."""
    try:
        g = number((cert.solver.get("options") or {}).get("mip_gap"))
    except MipnetError:
        g = None
    g = 1e-6 if g is None or not math.isfinite(g) or g < 0 else g
    return min(max(10 * g, 1e-6), 1e-4)


def _training_consistency(rep: RecheckReport, cert: CertificateFile) -> None:
    """The facts the file repeats (question, answer, result, data record, formulation) must agree."""
    q, a, res, rec = cert.question, cert.answer, cert.result or {}, cert.data or {}
    cfg = q.get("config") or {}
    bad = []

    def same(what: str, *vals: Any) -> None:
        vals = tuple(v for v in vals if v is not None)
        if not vals:
            return
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            ok = all(_close(float(v), float(vals[0]), 1e-12) for v in vals)
        else:
            ok = all(v == vals[0] for v in vals)
        if not ok:
            bad.append(f"{what}: {' vs '.join(repr(v) for v in vals)}")

    same("hypothesis", q.get("hypothesis"), res.get("hypothesis"), cfg.get("hypothesis"))
    same("loss", q.get("loss"), res.get("loss"), cfg.get("loss"))
    same("margin", q.get("margin"), res.get("margin"), cfg.get("margin"))
    same("task", q.get("task"), res.get("task"))
    same("classes", q.get("classes"), res.get("classes"))
    same("N", q.get("n_samples"), res.get("n_samples"), rec.get("n_rows"))
    same("data sha256", rec.get("sha256"), res.get("data_sha256"))
    same("rows", rec.get("rows"), res.get("rows"))
    same("source rows", rec.get("source_rows"), res.get("source_rows"))
    same("status", a.get("status"), res.get("status"))
    qc, rc = q.get("coefficients") or {}, res.get("coefficients") or {}
    for k in sorted(set(qc) | set(rc) | ({"l1", "l2", "l0", "neuron_penalty", "layer_penalty"} & set(cfg))):
        same(f"coefficient {k}", qc.get(k), rc.get(k), cfg.get(k))
    for k in ("incumbent", "bound", "gap"):
        same(k, number(a.get(k)), number(res.get(k)))
    at, rt = a.get("terms") or {}, res.get("terms") or {}
    if res and set(at) != set(rt):
        bad.append(f"terms: {sorted(at)} vs {sorted(rt)}")
    else:
        for k in at:
            same(f"term {k}", number(at.get(k)), number(rt.get(k)))
    rep.add("question, answer and record agree", "integrity", not bad, "; ".join(bad[:4]) if bad else "")


def _training_rows(rep: RecheckReport, cert: CertificateFile, X: np.ndarray, y: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows trained on: all of the data, or the recorded rows of the full data file (a subsample)."""
    rec = cert.data or {}
    rows, src = rec.get("rows"), rec.get("source_rows")
    if rows is None:
        return X, y
    try:
        idx = np.asarray([int(r) for r in rows], dtype=int)
    except (TypeError, ValueError):
        rep.add("training rows of the data", "integrity", False, "the recorded rows are not integers")
        return None
    if idx.size and (src is None or X.shape[0] == src) and X.shape[0] != idx.size:
        if idx.min() < 0 or idx.max() >= X.shape[0]:
            rep.add("training rows of the data", "data", False,
                    f"the data have {X.shape[0]} rows, the certificate trains on row {int(idx.max())}")
            return None
        if np.unique(idx).size != idx.size:
            rep.add("training rows of the data", "integrity", False, "a row is listed twice")
            return None
        rep.add("training rows of the data", "data", True, f"{idx.size} recorded rows of {X.shape[0]}")
        return X[idx], y[idx]
    if X.shape[0] == idx.size:
        rep.skip("training rows of the data", "data", "the data hold the training rows themselves")
        return X, y
    rep.add("training rows of the data", "data", False,
            f"the data have {X.shape[0]} rows; the certificate's rows are of a file with {src} rows")
    return None


def _recheck_training(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..train.certificate import Certificate, check_certificate, penalty_terms

    a = cert.answer
    status = str(a.get("status"))
    # a term recorded as null fails in sum() below, as it always did
    terms = cast("dict[str, float]", {k: number(v) for k, v in (a.get("terms") or {}).items()})
    inc, bound, gap = number(a.get("incumbent")), number(a.get("bound")), number(a.get("gap"))
    if inc is None:
        rep.add("incumbent recorded", "integrity", False, "the certificate records no objective value")
    else:
        rep.add("incumbent = sum of its terms", "integrity", _close(inc, sum(terms.values())),
                f"{inc:.9g} vs {sum(terms.values()):.9g}")
    if inc is not None and bound is not None:
        rep.add("bound <= incumbent", "integrity", bound <= inc + TOL * max(1.0, abs(inc)),
                f"bound {bound:.9g}, incumbent {inc:.9g}")
        if gap is None:
            rep.add("gap recorded with the bound", "integrity", False, "a bound without its gap")
        else:
            g = max(0.0, inc - bound) / max(abs(inc), 1e-10)
            rep.add("gap = (incumbent - bound) / |incumbent|", "integrity", _close(g, gap),
                    f"recorded {gap:.6g}, recomputed {g:.6g}")
    if status == "optimal":
        tol = _optimal_gap_tolerance(cert)
        if bound is None or gap is None:
            rep.add("status optimal with a closed gap", "integrity", False, "status optimal without a bound and gap")
        else:
            rep.add("status optimal with a closed gap", "integrity", gap <= tol * (1 + 1e-9),
                    f"gap {gap:.3g} (tolerance {tol:.3g})")
    elif status not in ("feasible", "unknown"):
        rep.add("status of a training certificate", "integrity", False,
                f"status {status!r} (a trained network is 'optimal' or 'feasible')")
    _training_consistency(rep, cert)
    coefs = {k: float(v) for k, v in (cert.question.get("coefficients") or {}).items() if v is not None}
    pen = penalty_terms(net, coefs)
    bad = [k for k, v in pen.items() if not _close(v, terms.get(k, 0.0))]
    rep.add("penalty terms recomputed from the weights", "objective", not bad,
            ", ".join(f"{k} {terms.get(k, 0.0):.6g} -> {pen[k]:.6g}" for k in bad) if bad
            else ", ".join(f"{k} {v:.6g}" for k, v in pen.items()) or "no penalty terms")
    proved = bound is not None and bound > 0
    if Xy is None:
        rep.add("loss recomputed from the data", "objective", None,
                "not re-proved: no data given (mipnet recheck CERT MODEL DATA.csv)")
        if proved:
            rep.add("training bound re-proved by a fresh solve", "solver", None,
                    "not re-proved: re-solving the training problem needs the data")
        return
    X, y = Xy
    if y is None:
        raise DataError("a training certificate needs the labels too")
    sel = _training_rows(rep, cert, X, y)
    if sel is None:
        return
    X, y = sel
    res = cert.result or {}
    try:
        tc = Certificate.from_dict(res)
    except TypeError:
        raise DataError("the certificate does not hold the full training record (result)") from None
    tc.terms, tc.incumbent, tc.data_sha256 = terms, inc, str((cert.data or {}).get("sha256"))
    if tc.n_samples != X.shape[0]:
        rep.add("N = number of training rows", "integrity", False, f"N = {tc.n_samples}, {X.shape[0]} rows")
        return
    chk = check_certificate(net, X, y, tc)
    rep.add("data sha256", "data", chk["hash_ok"],
            "matches" if chk["hash_ok"] else "the data differ from the training data")
    worst = max(chk["differences"].items(), key=lambda kv: abs(kv[1]), default=("-", 0.0))
    ok = all(abs(d) <= TOL * max(1.0, abs(chk["terms"].get(k, 0.0))) for k, d in chk["differences"].items())
    rep.add("objective terms recomputed from weights and data", "objective", ok and chk["incumbent_ok"],
            f"largest difference {worst[0]} {worst[1]:.3g}; loss {chk['terms'].get('loss', float('nan')):.9g}")
    if bound is None:
        return
    if not proved:
        rep.add("training bound re-proved", "solver", True, f"bound {bound:.6g} <= 0: every objective term is >= 0")
        return
    if not chk["hash_ok"]:
        rep.skip("training bound re-proved by a fresh solve", "solver", "not solved: the data differ")
        return
    source = str((cert.result or {}).get("bound_source") or "milp")
    if source.startswith("dual"):  # re-derived from the recorded multipliers (numpy, or a fresh pricing solve)
        dual_ok, detail, category = _dual_claim(cert, X, y, tc, float(bound), ctx.solver, ctx.budget.share(1))
        rep.add(f"training bound re-checked from the dual certificate ({source})", category, dual_ok, detail)
        return
    _reprove(rep, ctx, [("training bound re-proved by a fresh solve", None)],
             lambda _, s, t: _reprove_training(cert, net, X, y, tc, float(bound), s, t))


def _dual_claim(cert: CertificateFile, X: np.ndarray, y: np.ndarray, tc: Any, claimed: float, solver: str | None,
                seconds: float | None) -> tuple[bool | None, str, str]:
    """Re-check a training bound claimed from the dual certificate (``result.dual_bound``, sign class, hinge) by
    weak duality, without trusting the trainer: for multipliers alpha_n in [0, count_n / N] on the groups of
    identical (standardised x, label) rows, a = alpha y, every network of the class (width J, boxes B_w, B_b,
    output bias |c| <= B_b, v_j in {-1, 0, 1}) has objective >= t base - J max(0, t V - (1 - t) kappa) with

        alpha = marginals of the plan pi on the pairs (i, j) (y_i = +1, y_j = -1) + alpha_M on the rows,
        base  = 2 m sum pi + m sum alpha_M - B_b |sum alpha_M y|,  beta_k = sum_p pi_p |x_ik - x_jk|,
        V    >= max_{s, box} s sum_n alpha_M,n y_n (w . x_n + b)_+ - sum_k (lam - beta_k) |w_k| - kappa,

    lam = l1, kappa = l1 + l2 + l0 + neuron_penalty, m the margin, all read from the recorded formulation. Without
    alpha_M, V = B_w sum_k (beta_k - lam)_+ - kappa exactly (numpy); with alpha_M, V is the dual bound of a fresh
    single-neuron pricing MILP. Returns (verdict, detail, category)."""
    from ..train.certificate import _targets

    rec = (cert.result or {}).get("dual_bound")
    if not isinstance(rec, dict):
        return False, "the bound is claimed from a dual certificate the file does not hold", "integrity"
    cfg = cert.question.get("config") or {}
    if (cfg.get("hypothesis") != "sign" or cfg.get("loss") != "hinge" or float(cfg.get("layer_penalty") or 0) > 0
            or cfg.get("architecture") or len(cfg.get("hidden") or ()) != 1):
        return False, "a dual bound is only defined for the sign class with the hinge loss", "integrity"
    num = lambda k, d=0.0: float(x) if (x := number(cfg.get(k))) is not None else float(d)  # noqa: E731
    m, l1 = num("margin", 1.0), num("l1")
    lam, kappa = l1, l1 + num("l2") + num("l0") + num("neuron_penalty")
    J = int(cfg["hidden"][0]) if cfg.get("max_neurons") is None else min(int(cfg["hidden"][0]),
                                                                          int(cfg["max_neurons"]))
    Bw, Bb = num("weight_bound", 1.0), num("bias_bound", 1.0)
    N = X.shape[0]
    target = _targets(y, tc.task, tc.classes, 1)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Xs = (X - mu) / np.where(sd > 1e-12, sd, 1.0)
    _, first, inv, counts = np.unique(np.column_stack([Xs, target]), axis=0, return_index=True,
                                      return_inverse=True, return_counts=True)
    inv = np.asarray(inv).ravel()
    G, cap = counts.size, counts / float(N)
    try:
        pairs = np.asarray(rec.get("pairs") or [], dtype=np.float64).reshape(-1, 3)
        rows = np.asarray(rec.get("rows") or [], dtype=np.float64).reshape(-1, 2)
        t_rec = number(rec.get("t"))
        if t_rec is None:
            raise TypeError("t is missing")  # as float(None) did
        t = float(t_rec)
    except (TypeError, ValueError, MipnetError):
        return False, "the dual certificate's multipliers are not lists of numbers", "integrity"
    pi, am = pairs[:, 2].copy(), rows[:, 1].copy()
    idx = np.concatenate([pairs[:, :2].ravel(), rows[:, 0]])
    if (not np.all(np.isfinite(pi)) or not np.all(np.isfinite(am)) or np.any(pi < 0) or np.any(am < 0)
            or not 0.0 <= t <= 1.0 or np.any(idx != np.round(idx)) or np.any(idx < 0) or np.any(idx >= N)):
        return False, "the dual certificate's multipliers are not >= 0, its rows not rows of the data or t not " \
                      "in [0, 1]", "witness"
    i, j, n = pairs[:, 0].astype(int), pairs[:, 1].astype(int), rows[:, 0].astype(int)
    if np.any(target[i] != 1.0) or np.any(target[j] != -1.0):
        return False, "a transport pair does not join a +1 row to a -1 row", "witness"
    alpha = np.bincount(inv[i], pi, G) + np.bincount(inv[j], pi, G) + np.bincount(inv[n], am, G)
    over = float(np.max(alpha / cap)) if G else 0.0
    if over > 1.0 + 1e-9:
        return False, f"the multipliers exceed their caps count / N (by a factor {over:.6g})", "witness"
    if over > 1.0:  # float rounding: scale into the caps
        pi, am = pi / over * (1 - 1e-15), am / over * (1 - 1e-15)
    beta = np.abs(Xs[i] - Xs[j]).T @ pi if pi.size else np.zeros(X.shape[1])
    base = 2.0 * m * math.fsum(pi) + m * math.fsum(am) - Bb * abs(math.fsum(am * target[n]))

    def value(V: float) -> float:
        return t * base - J * max(0.0, t * V - (1.0 - t) * kappa)

    if not am.size:  # transport only: V exact in numpy
        V = Bw * float(np.clip(beta - lam, 0.0, None).sum()) - kappa
        got = value(V)
        ok = got >= claimed - 1e-9 * max(1.0, abs(claimed))
        return ok, (f"recomputed with numpy from {pi.size} transport pairs: {got:.9g} "
                    f"{'>=' if ok else '<'} claimed {claimed:.9g}"), "witness"
    if solver is None or seconds is None or seconds < MIN_SOLVE_SECONDS:
        return None, "not re-proved: the dual certificate needs its pricing MILP re-solved (re-proof switched off or " \
                     "no time left)", "solver"
    from ..train.dual_bound import price

    a = np.bincount(inv[n], am * target[n], G)
    keep = np.flatnonzero(a != 0)
    prs = [price(Xs[first[keep]], a[keep], s, lam=lam - beta, kappa=kappa, ball=False, w_bound=Bw, b_bound=Bb,
                 time_limit=seconds / 2, mip_gap=1e-6) for s in (1, -1)]
    V = max(p.upper for p in prs)
    got = value(V)
    tol = BOUND_TOL * max(1.0, abs(claimed))
    what = f"{pi.size} transport pairs, {am.size} rows, pricing bound V <= {V:.6g}"
    if got >= claimed - tol:
        return True, f"recomputed ({what}): {got:.9g} >= claimed {claimed:.9g}", "solver"
    found = max(p.value for p in prs)
    if math.isfinite(found) and value(found) < claimed - tol:
        return False, (f"a unit with pricing value {found:.6g} exists (numpy): these multipliers prove at most "
                       f"{value(found):.9g} < claimed {claimed:.9g}"), "solver"
    return None, f"not re-proved within {seconds:.3g} s ({what}): {got:.9g} < claimed {claimed:.9g}", "solver"


def _reprove_training(cert: CertificateFile, net: Network, X: np.ndarray, y: np.ndarray, tc: Any, bound: float,
                      solver: str, seconds: float) -> tuple[bool | None, str]:
    """Rebuild the training MILP from the recorded formulation and the data, solve it within ``seconds``:
    its proved bound must reach the claimed one; a network of the class (objective recomputed with numpy)
    below the claimed bound refutes it."""
    from ..solve import solve
    from ..train.certificate import _targets, recompute_terms
    from ..train.formulation import TrainConfig, TrainingProblem
    from ..train.trainer import build_network, encode_targets

    t0 = time.perf_counter()
    cfgd = dict(cert.question.get("config") or {})
    if not cfgd:
        return None, "not re-proved: the certificate does not record the formulation"
    if cfgd.get("architecture"):
        return None, "not re-proved: re-solving a conv training problem is not supported by the re-check yet"
    if cfgd.get("hypothesis") == "continuous" and solver == "highs":
        return None, "not re-proved: the continuous class needs SCIP or Gurobi (pip install pyscipopt)"
    fields = TrainConfig.__dataclass_fields__
    try:
        cfg_fields: dict[str, Any] = {k: (tuple(int(h) for h in v) if k == "hidden" else v)
                                      for k, v in cfgd.items() if k in fields}
        cfg = TrainConfig(**cfg_fields)
    except (TypeError, ValueError) as exc:
        return None, f"not re-proved: the recorded formulation is not readable ({exc})"
    task, classes = tc.task, tc.classes
    if task == "regress":
        target, _, n_classes, y_mu, y_sd = encode_targets(np.asarray(y), "regress")
    else:
        n_classes = len(classes or [])
        target = _targets(y, task, classes, 1 if n_classes == 2 else n_classes)
        y_mu, y_sd = 0.0, 1.0
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    problem = TrainingProblem((X - mu) / sd, target, task, n_classes, cfg, solver=solver)
    left = seconds - (time.perf_counter() - t0)
    if left < MIN_SOLVE_SECONDS:
        return None, f"not re-proved: building the problem took the {seconds:.3g} s left"
    r = solve(problem.model, solver, time_limit=left, mip_gap=1e-6)
    tol = BOUND_TOL * max(1.0, abs(bound))
    if r.bound is not None and r.bound >= bound - tol:
        return True, f"{solver} ({r.status}, {r.wall_time:.1f} s): bound {r.bound:.6g} >= claimed {bound:.6g}"
    if r.has_solution:
        w = problem.zero_dead_units(problem.weight_values())
        other = build_network(w, mu, sd, net.domain, task, classes, y_mu, y_sd, {}, skip=problem.skipped_layers(w))
        obj = float(sum(recompute_terms(other, X, y, tc).values()))
        if obj < bound - max(tol, 1e-4 * max(1.0, abs(bound))):
            return False, (f"{solver} found a network of the class with objective {obj:.6g} (recomputed with "
                           f"numpy), below the claimed bound {bound:.6g}")
    got = "no bound" if r.bound is None else f"bound {r.bound:.6g}"
    return None, f"not re-proved within {seconds:.3g} s: {solver} ({r.status}) reached {got} < claimed {bound:.6g}"


# ---------------------------------------------------------------------------- robustness
def _ball_problems(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str, c: int) -> tuple[list[str], str]:
    """Why x' is not a counterexample in the eps-ball around x (empty: it is one), and a description."""
    d = float(np.max(np.abs(xp - x))) if norm == "inf" else float(np.sum(np.abs(xp - x)))
    k = int(net.predict_index(net.forward(xp[None]))[0])
    why = []
    if not d <= eps * (1 + 1e-9) + 1e-9:
        why.append(f"distance {d:.6g} > eps {eps:g}")
    if not bool(net.domain.contains(xp[None], tol=1e-7)[0]):
        why.append("outside the domain")
    if k == c:
        why.append(f"the forward pass keeps class {c}")
    return why, f"distance {d:.4g} <= {eps:g}, class {c} -> {k}"


def _recheck_robustness(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.robustness import margins, normalise_norm, verify_sample

    q = cert.question
    X = _samples(cert, net)
    eps = number(q.get("eps"))
    if eps is None or not math.isfinite(eps) or eps < 0:
        rep.add("eps", "integrity", False, f"eps {eps!r} is not a finite number >= 0")
        return
    norm = normalise_norm(q.get("norm", "inf"))
    items = cert.answer.get("items") or []
    if len(items) != X.shape[0]:
        rep.add("one answer per sample", "integrity", False, f"{len(items)} answers for {X.shape[0]} samples")
        return
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    if Xy is not None:
        _check_data_hash(rep, cert, Xy[0], Xy[1])
    _check_row_binding(rep, cert, X, items, list(range(len(items))), Xy)
    logits = net.forward(X)
    pred = net.predict_index(logits)
    to_solve = []
    for i, it in enumerate(items):
        c = int(it.get("class", pred[i]))
        v = it.get("verdict")
        name = f"sample {i}"
        if v == "violated":
            ce = it.get("counterexample")
            if ce is None:
                rep.add(f"{name}: counterexample", "witness", False, "verdict violated without a counterexample")
                continue
            why, desc = _ball_problems(net, X[i], _array(ce, net.n_inputs, "counterexample"), eps, norm, c)
            rep.add(f"{name}: counterexample changes the class", "witness", not why, "; ".join(why) or desc)
        elif v == "holds":
            if it.get("counterexample") is not None:
                xp = _array(it["counterexample"], net.n_inputs, "counterexample")
                k = int(net.predict_index(net.forward(xp[None]))[0])
                rep.add(f"{name}: holds without a counterexample", "witness", k == c,
                        "a recorded counterexample changes the class" if k != c else "recorded point keeps the class")
            m_x = float(margins(net, logits[i:i + 1], np.array([c]))[0])
            if pred[i] != c:
                rep.add(f"{name}: sample is classified as defended", "witness", False,
                        f"the model predicts class {int(pred[i])}, the certificate defends {c}")
                continue
            b = number(it.get("bound"))
            if b is not None:
                rep.add(f"{name}: bound <= margin at the sample", "witness", b <= m_x + TOL * max(1.0, abs(m_x)),
                        f"bound {b:.6g}, margin at x {m_x:.6g}")
            to_solve.append((f"{name}: holds, re-proved by a fresh solve", (i, c)))

    def prove(ic: tuple[int, int], solver: str, t: float) -> tuple[bool | None, str]:
        i, c = ic
        # interval bounds (numpy only): the proof owes nothing to the first solver's LP bounds
        r = verify_sample(net, X[i], eps, norm, c, solver=solver, time_limit=t, bounds="interval")
        if r.verdict == "holds":
            return True, "interval arithmetic alone proves it" if r.status == "bounds" else f"{solver}: {r.status}"
        if r.verdict == "violated" and r.counterexample is not None:
            why, desc = _ball_problems(net, X[i], np.asarray(r.counterexample, dtype=np.float64), eps, norm, c)
            if not why:
                return False, f"the fresh solve found a counterexample: {desc}"
            return None, "not re-proved: the fresh solve's point does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {r.reason or r.status}"

    _reprove(rep, ctx, to_solve, prove)


# ---------------------------------------------------------------------------- monotonicity
def _feature_list(cert: CertificateFile) -> tuple[list[str], list[str]]:
    q = cert.question
    return [str(f) for f in q.get("increasing") or []], [str(f) for f in q.get("decreasing") or []]


def _pair_problems(net: Network, coef: np.ndarray, l: int, s: int, f: str, x: np.ndarray, xp: np.ndarray
                   ) -> tuple[list[str], float, float]:
    """Why (x, x') does not violate monotonicity in feature l with sign s (empty: it does), f(x), f(x')."""
    dom = net.domain
    fx, fxp = (net.forward(np.stack([x, xp])) @ coef).tolist()
    others = np.delete(np.arange(net.n_inputs), l)
    why = []
    if not np.all(dom.contains(np.stack([x, xp]), tol=1e-7)):
        why.append("outside the domain")
    if np.any(np.abs(x[others] - xp[others]) > 1e-12):
        why.append(f"the pair differs in features other than {f}")
    if not xp[l] > x[l]:
        why.append(f"{f} does not grow from x to x'")
    if not s * (fxp - fx) < 0:
        why.append(f"f does not {'decrease' if s > 0 else 'increase'} ({fx:.6g} -> {fxp:.6g})")
    return why, fx, fxp


def _recheck_monotonicity(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.monotonic import output_coefficients, verify_global

    q = cert.question
    inc, dec = _feature_list(cert)
    coef, _ = output_coefficients(net, q.get("output"), q.get("versus"))
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    dom = net.domain
    both = sorted(set(inc) & set(dec))
    if both:
        rep.add("each feature asked in one direction", "integrity", False,
                f"{', '.join(both)} listed as both increasing and decreasing")
    sign = {f: 1 for f in inc} | {f: -1 for f in dec if f not in both}
    recorded = [str(it.get("feature")) for it in items]
    if set(recorded) != set(sign) or len(recorded) != len(set(recorded)):
        rep.add("one answer per feature asked", "integrity", False,
                f"asked {sorted(sign)}, answered {sorted(recorded)}")
    rng = np.random.default_rng(0)
    proved = []
    for it in items:
        f = str(it.get("feature"))
        if f not in sign:
            continue
        s, l = sign[f], dom.index(f)
        asked = "increasing" if s > 0 else "decreasing"
        if it.get("direction") != asked:
            rep.add(f"{f}: direction of the answer = direction asked", "integrity", False,
                    f"the question asks {asked}, the item answers for {it.get('direction')!r}")
            continue
        v = it.get("verdict")
        if v == "violated":
            w = it.get("witness")
            if not isinstance(w, dict):
                rep.add(f"{f}: witness pair", "witness", False, "verdict violated without a witness pair")
                continue
            x = _array(w.get("x", []), net.n_inputs, "witness x")
            xp = _array(w.get("x_prime", []), net.n_inputs, "witness x'")
            why, fx, fxp = _pair_problems(net, coef, l, s, f, x, xp)
            for key, val in (("f_x", fx), ("f_x_prime", fxp)):
                rv = number(w.get(key))
                if rv is not None and not _close(rv, val, 1e-6):
                    why.append(f"recorded {key} {rv:.6g} but the forward pass gives {val:.6g}")
            rep.add(f"{f}: witness pair violates monotonicity", "witness", not why,
                    "; ".join(why) if why else f"f: {fx:.6g} -> {fxp:.6g} as {f}: {x[l]:.6g} -> {xp[l]:.6g}")
        elif v == "holds":
            b = number(it.get("bound"))
            ok_b = b is not None and b >= -1e-6
            rep.add(f"{f}: proved bound on the slope >= 0", "witness", ok_b,
                    f"bound {b}" if b is not None else "no bound recorded")
            slope = _secant_slopes(net, coef, l, s, ctx.samples, rng)
            if slope is not None:
                lim = b if ok_b and b is not None else 0.0  # ok_b: b is not None
                mn = float(slope.min())
                rep.add(f"{f}: {slope.size} random secants respect the bound", "witness",
                        mn >= lim - 1e-6 * (1 + abs(lim)), f"lowest secant slope {mn:.6g}, bound {lim:.6g}")
            if ok_b:
                proved.append((f"{f}: {asked}, re-proved by a fresh solve", f))

    def prove(f: str, solver: str, t: float) -> tuple[bool | None, str]:
        s, l = sign[f], dom.index(f)
        r = verify_global(net, [f] if s > 0 else (), () if s > 0 else [f], mode=str(q.get("mode", "exact")),
                          output=q.get("output"),
                          versus=q.get("versus"), solver=solver, time_limit=t, bounds_method="interval",
                          presample=500)
        fv = r.features[0]
        if fv.status == "holds":
            return True, f"{solver}: holds" + (f", bound {fv.bound:.6g}" if fv.bound is not None else "")
        if fv.status == "violated" and fv.witness is not None:
            why, fx, fxp = _pair_problems(net, coef, l, s, f, np.asarray(fv.witness.x, dtype=np.float64),
                                          np.asarray(fv.witness.x_prime, dtype=np.float64))
            if not why:
                return False, f"the fresh solve found a violating pair: f {fx:.6g} -> {fxp:.6g} as {f} grows"
            return None, "not re-proved: the fresh solve's pair does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {solver}: {fv.status}" + (f" ({fv.note})" if fv.note else "")

    _reprove(rep, ctx, proved, prove)


def _secant_slopes(net: Network, coef: np.ndarray, l: int, s: int, n: int, rng: np.random.Generator
                   ) -> np.ndarray | None:
    """s * (f(x + h e_l) - f(x)) / h on ``n`` random domain points (h = 1 for an integer feature)."""
    dom = net.domain
    if not dom.is_finite() or n <= 0:
        return None
    lo, hi = dom.lower[l], dom.upper[l]
    if hi - lo <= 0:
        return None
    X = dom.sample(n, rng)
    if dom.integer[l]:
        if hi - lo < 1:
            return None
        X[:, l] = rng.integers(math.ceil(lo), math.floor(hi), size=n, endpoint=False)
        h = np.ones(n)
    else:
        a = rng.uniform(lo, hi, size=(n, 2))
        X[:, l], top = a.min(axis=1), a.max(axis=1)
        h = np.maximum(top - X[:, l], 1e-9 * (hi - lo))
    Xp = X.copy()
    Xp[:, l] = np.minimum(X[:, l] + h, hi)
    h = Xp[:, l] - X[:, l]
    keep = h > 0
    f = net.forward(np.vstack([X[keep], Xp[keep]])) @ coef
    m = int(keep.sum())
    return s * (f[m:] - f[:m]) / h[keep]


def _individual_problems(net: Network, coef: np.ndarray, x: np.ndarray, fx: float, xp: np.ndarray, ia: list[int],
                         idd: list[int], rest: np.ndarray) -> tuple[list[str], float]:
    fxp = float(net.forward(xp[None])[0] @ coef)
    why = []
    if not net.domain.contains(xp[None], tol=1e-7)[0]:
        why.append("outside the domain")
    if np.any(xp[ia] > x[ia] + 1e-9) or np.any(xp[idd] < x[idd] - 1e-9):
        why.append("a monotone feature moves the wrong way")
    if np.any(np.abs(xp[rest] - x[rest]) > 1e-9):
        why.append("a non-monotone feature changes")
    if not fxp > fx + 1e-9 * (1 + abs(fx)):
        why.append(f"f does not increase ({fx:.6g} -> {fxp:.6g})")
    return why, fxp


def _recheck_individual(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.monotonic import output_coefficients, verify_individual

    q = cert.question
    inc, dec = _feature_list(cert)
    coef, _ = output_coefficients(net, q.get("output"), q.get("versus"))
    X = _samples(cert, net)
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    if Xy is not None:
        _check_data_hash(rep, cert, Xy[0], None)
    dom = net.domain
    ia, idd = dom.indices(inc), dom.indices(dec)
    rest = np.setdiff1d(np.arange(net.n_inputs), ia + idd)
    fX = net.forward(X) @ coef
    proved = []
    good = []
    for it in items:
        r = it.get("row", -1)
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < X.shape[0]:
            rep.add(f"row {r}", "integrity", False, "row index out of range")
            continue
        good.append(it)
        v = it.get("verdict")
        if v == "violated":
            xp = _array(it.get("x_prime") or [], net.n_inputs, "counterexample")
            why, fxp = _individual_problems(net, coef, X[r], float(fX[r]), xp, ia, idd, rest)
            rec = number(it.get("f_best"))
            if rec is not None and not _close(rec, fxp):
                why.append(f"recorded f(x') {rec:.6g} but the forward pass gives {fxp:.6g}")
            rep.add(f"row {r}: counterexample", "witness", not why,
                    "; ".join(why) if why else f"f: {fX[r]:.6g} -> {fxp:.6g}")
        elif v == "holds":
            b = number(it.get("bound"))
            if b is not None:
                rep.add(f"row {r}: proved max <= f(x)", "witness", b <= fX[r] + 1e-6 * (1 + abs(fX[r])),
                        f"bound {b:.6g}, f(x) {fX[r]:.6g}")
            proved.append((f"row {r}: holds, re-proved by a fresh solve", r))
    _check_row_binding(rep, cert, X, good, [int(it["row"]) for it in good], Xy)

    def prove(r: int, solver: str, t: float) -> tuple[bool | None, str]:
        res = verify_individual(net, X[[r]], inc, dec, output=q.get("output"), versus=q.get("versus"),
                                solver=solver, time_limit=t)
        p = res.points[0]
        if p.status == "holds":
            return True, f"{solver}: holds"
        if p.status == "counterexample" and p.x_prime is not None:
            why, fxp = _individual_problems(net, coef, X[r], float(fX[r]), np.asarray(p.x_prime, dtype=np.float64),
                                            ia, idd, rest)
            if not why:
                return False, f"the fresh solve found a counterexample: f {fX[r]:.6g} -> {fxp:.6g}"
            return None, "not re-proved: the fresh solve's point does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {solver}: {p.status}"

    _reprove(rep, ctx, proved, prove)


# ---------------------------------------------------------------------------- resilience
def _resilience_pair_problems(net: Network, a: np.ndarray, b: np.ndarray, m: int, ln_a: float, k: int, norm: str,
                              phi: float | None) -> tuple[list[str], float, int]:
    from ..verify.search import logits, perturbation_norm, reached, strong_margin

    z = logits(net, np.vstack([a, b]))
    tol = TOL * (1.0 + float(np.abs(z).max()))
    why = []
    if not np.all(net.domain.contains(np.vstack([a, b]), tol=1e-6)):
        why.append("outside the domain")
    sm = float(strong_margin(z[:1], m)[0])
    if sm < ln_a - tol:
        why.append(f"a is not strongly classified (margin {sm:.4g} < ln alpha {ln_a:.4g})")
    nr = int(reached(z[1:], m, tol)[0])
    if nr < k:
        why.append(f"b reaches {nr} classes, fewer than k = {k}")
    nv = perturbation_norm(a, b, norm)
    if phi is not None and not _close(nv, phi, 1e-5):
        why.append(f"||b - a|| = {nv:.6g} but Phi = {phi:.6g}")
    return why, nv, nr


def _recheck_resilience(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.resilience import Heuristics, class_resilience
    from ..verify.search import logits, strong_margin

    q = cert.question
    alpha, k, norm = float(q.get("alpha", 1.0)), int(q.get("k", 1)), str(q.get("norm", "1"))
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    if not (math.isfinite(alpha) and alpha >= 1.0):
        rep.add("alpha", "integrity", False, f"alpha {alpha} (must be >= 1)")
        return
    dom = net.domain
    ln_a = math.log(alpha)
    claims: list[tuple[str, tuple[int, float | None, float | None, Any]]] = []
    n_classes = logits(net, np.zeros((1, net.n_inputs))).shape[1]
    for it in items:
        m = int(it.get("class", -1))
        if not 0 <= m < n_classes:
            rep.add(f"class {m}", "integrity", False, "no such class")
            continue
        name = f"class {it.get('class_name', m)}"
        phi, bound = number(it.get("phi")), number(it.get("bound"))
        status = it.get("status")
        if phi is not None and bound is not None:
            rep.add(f"{name}: bound <= Phi", "integrity", bound <= phi + TOL * max(1.0, abs(phi)),
                    f"bound {bound:.6g}, Phi {phi:.6g}")
        if status == "optimal" and (phi is None or bound is None or not _close(phi, bound, 1e-4)):
            rep.add(f"{name}: optimal means bound = Phi", "integrity", False, f"bound {bound}, Phi {phi}")
        if it.get("a") is not None and it.get("b") is not None:
            a = _array(it["a"], net.n_inputs, "witness a")
            b = _array(it["b"], net.n_inputs, "witness b")
            why, nv, nr = _resilience_pair_problems(net, a, b, m, ln_a, k, norm, phi)
            rep.add(f"{name}: witness pair (a, b)", "witness", not why,
                    "; ".join(why) if why else f"||b - a|| = {nv:.6g}, {nr} class(es) reached")
        elif phi is not None:
            rep.add(f"{name}: witness pair (a, b)", "witness", False, "a value of Phi without its witness pair")
        if it.get("kind", q.get("kind")) != "class":
            continue
        if status == "infeasible":
            if dom.is_finite():  # a strongly classified random point refutes "no input is strongly classified"
                S = dom.sample(2000, 0)
                hit = np.flatnonzero(strong_margin(logits(net, S), m) >= ln_a)
                rep.add(f"{name}: no strongly classified input", "witness", hit.size == 0,
                        f"the random point {np.round(S[hit[0]], 4).tolist()} is strongly classified" if hit.size
                        else "none among 2000 random points")
                if hit.size:
                    continue
            claims.append((f"{name}: no strongly classified input, re-proved by a fresh solve",
                           (m, None, None, status)))
        elif bound is not None and bound > 0:
            claims.append((f"{name}: Phi >= {bound:.6g}, re-proved by a fresh solve", (m, phi, bound, status)))
    heur_d = q.get("heuristics") or {}
    heur = Heuristics(**{k2: v for k2, v in heur_d.items() if k2 in Heuristics.__dataclass_fields__})

    def prove(claim: tuple[int, float | None, float | None, str], solver: str, t: float) -> tuple[bool | None, str]:
        m, phi, bound, status = claim
        r = class_resilience(net, m, alpha=alpha, k=k, norm=norm, heuristics=heur, solver=solver, time_limit=t)
        found = None
        if r.phi is not None and r.a is not None and r.b is not None:
            why, nv, _ = _resilience_pair_problems(net, np.asarray(r.a, float), np.asarray(r.b, float), m, ln_a, k,
                                                   norm, None)
            found = None if why else nv
        if status == "infeasible":
            if r.status == "infeasible":
                return True, f"{solver}: infeasible"
            if found is not None:
                return False, f"{solver} found a strongly classified input and a pair at distance {found:.6g}"
            return None, f"not re-proved within {t:.3g} s: {solver}: {r.status}"
        assert bound is not None
        tol = BOUND_TOL * max(1.0, abs(bound))
        if r.bound is not None and phi is not None and phi < r.bound - BOUND_TOL * max(1.0, abs(r.bound)):
            return False, f"{solver} proves Phi >= {r.bound:.6g}, the certificate claims Phi = {phi:.6g}"
        if r.bound is not None and r.bound >= bound - tol:
            return True, f"{solver} ({r.status}): bound {r.bound:.6g} >= claimed {bound:.6g}"
        if found is not None and found < bound - max(tol, 1e-5 * max(1.0, abs(bound))):
            return False, f"{solver} found a witness pair at distance {found:.6g} < claimed bound {bound:.6g}"
        if r.status == "infeasible" and phi is not None:
            return None, f"not re-proved: {solver} says infeasible, yet the certificate's witness pair checks"
        got = "no bound" if r.bound is None else f"bound {r.bound:.6g}"
        return None, f"not re-proved within {t:.3g} s: {solver} ({r.status}) reached {got} < claimed {bound:.6g}"

    _reprove(rep, ctx, claims, prove)


__all__ = ["Check", "RecheckReport", "recheck", "other_solver", "reproving_solver", "EXIT_CODES"]
