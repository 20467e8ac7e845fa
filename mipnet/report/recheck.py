"""Re-check a certificate without trusting the solver that produced it.

Checks, in order (each one ``pass``, ``fail``, ``undecided`` or ``skip`` with a one-line detail):

1. **Integrity**: the seal (SHA-256 of the file's content) matches; the answer is self-consistent
   (aggregate verdict = verdicts of its items; gap = (incumbent - bound) / |incumbent|; bound <= incumbent).
2. **Model**: ``Network.fingerprint()`` of the model given equals the certificate's model hash;
   **data** (when given): the hash of the rows and labels equals the recorded one.
   A model mismatch stops here: nothing else about another model's certificate can be checked.
3. **Witnesses, through the numpy forward pass** (no solver):

   * robustness, ``violated``: the counterexample x' lies in the ball ||x' - x|| <= eps and in the
     domain, and its predicted class differs from the defended class c; ``holds``: no witness is
     recorded, and the proved lower bound b of the worst margin is <= m(x), the margin at x itself
     (min_{x' in B} m(x') <= m(x), so a larger b is false).
   * global monotonicity in x_l with sign s, ``violated``: the pair (x, x') lies in the domain, differs in
     x_l only, x'_l > x_l and s (f(x') - f(x)) < 0, with the recorded f values; ``holds``:
     2000 random secants along x_l: s (f(x + h e_l) - f(x)) / h >= bound >= -tol (a secant slope is an
     average of slopes, so it can never be below a true lower bound of the derivative).
   * individual monotonicity, counterexample x' at x: x'_a <= x_a (increasing a), x'_d >= x_d
     (decreasing d), the rest equal, x' in the domain and f(x') > f(x).
   * resilience, a witness pair (a, b): a in the domain with z_m(a) - max_{i != m} z_i(a) >= ln(alpha),
     b in the domain with at least k classes i != m reaching z_i(b) >= z_m(b), and ||b - a|| = Phi
     (the recorded incumbent); the recorded bound is <= Phi.
   * training: incumbent = sum of the terms; the penalty terms recomputed from the weights
     (:func:`mipnet.train.certificate.penalty_terms`); with the data, every term and the data hash by
     :func:`mipnet.train.certificate.check_certificate`.

4. **Second solver**: every proved claim is solved again by the same verification function with the
   other installed solver (HiGHS <-> SCIP): a robustness ``holds``, a monotonicity ``holds``, a
   resilience value (the intervals [bound, Phi] of both solvers must overlap). Disagreement fails.

``RecheckReport.status`` is ``ok`` (every check passed or was skipped), ``failed`` (some check failed:
:meth:`RecheckReport.problems` says which: tampered, other model, other data, solvers disagree) or
``incomplete`` (nothing failed, some re-solve hit its time limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import DataError, MipnetError
from ..network import Network
from .certificates import CertificateFile, number

#: relative tolerance of numeric comparisons (forward pass vs recorded values)
TOL = 1e-6
OUTCOMES = ("pass", "fail", "undecided", "skip")
CATEGORIES = {"integrity": "tampered: the file was edited or is inconsistent",
              "model": "certificate for another model", "data": "the data do not match",
              "witness": "false claim: a witness or bound does not hold for this model",
              "objective": "the training objective does not match", "solver": "the second solver disagrees"}


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
    second_solver: str | None = None

    def add(self, name: str, category: str, ok: bool | None, detail: str = "") -> Check:
        outcome = "pass" if ok is True else ("fail" if ok is False else "undecided")
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
            return "incomplete"
        return "ok"

    def problems(self) -> list[str]:
        """The distinct reasons of the failed checks, e.g. ['tampered', 'certificate for another model']."""
        out: list[str] = []
        for c in self.checks:
            if c.outcome == "fail" and CATEGORIES[c.category] not in out:
                out.append(CATEGORIES[c.category])
        return out

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "failed": 1, "incomplete": 3}[self.status]

    def lines(self) -> list[str]:
        out = [f"certificate: {self.title}", f"claimed: {self.claimed}"]
        for c in self.checks:
            out.append(f"  [{c.outcome.upper():9s}] {c.name}" + (f": {c.detail}" if c.detail else ""))
        verdict = self.status.upper()
        if self.status == "failed":
            verdict += " (" + "; ".join(self.problems()) + ")"
        out.append(f"re-check: {verdict}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "claimed": self.claimed, "status": self.status,
                "problems": self.problems(), "second_solver": self.second_solver,
                "checks": [c.to_dict() for c in self.checks]}


# ============================================================================ helpers
def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def other_solver(name: str) -> str | None:
    """The second solver to re-solve with: SCIP for HiGHS (and Gurobi), HiGHS for SCIP; None if absent."""
    from ..solve import available_solvers

    avail = available_solvers()
    for cand in (("scip", "highs") if name != "scip" else ("highs",)):
        if cand != name and cand in avail:
            return cand
    return None


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
            time_limit: float = 30.0, samples: int = 2000) -> RecheckReport:
    """Re-check ``cert`` against ``net`` (and ``data``: ``(X, y)``, or a DataFrame with the model's feature
    columns and, for training certificates, the target column named in the certificate).

    ``second_solver``: "auto" (the other installed solver), a solver name, or None (no re-solve).
    ``time_limit`` is per re-solved problem; ``samples`` the number of random secants of a monotonicity check.
    """
    rep = RecheckReport(cert.kind, cert.title(), _claimed(cert))
    # 1. integrity
    if cert.seal is None:
        rep.add("content seal", "integrity", False, "the certificate carries no seal")
    else:
        rep.add("content seal", "integrity", cert.sealed(),
                "matches the content" if cert.sealed() else "does not match: the file was edited after it was written")
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
    second = (other_solver(solver) if second_solver == "auto" else second_solver) if second_solver else None
    rep.second_solver = second
    checker = {"training": _recheck_training, "robustness": _recheck_robustness,
               "monotonicity": _recheck_monotonicity, "monotonicity_individual": _recheck_individual,
               "resilience": _recheck_resilience}[cert.kind]
    checker(rep, cert, net, Xy, second, time_limit, samples)
    if second is None and second_solver:
        rep.skip("second solver", "solver", f"no second solver installed besides {solver} (pip install pyscipopt)")
    return rep


def _data_arrays(cert: CertificateFile, net: Network, data: Any) -> tuple[np.ndarray, np.ndarray | None] | None:
    if data is None:
        return None
    if isinstance(data, tuple):
        X, y = data
        return np.atleast_2d(np.asarray(X, dtype=np.float64)), None if y is None else np.asarray(y)
    if hasattr(data, "columns"):
        from ..cli.common import features_for

        X = features_for(net, data)
        target = (cert.data or {}).get("target")
        if target is None:
            extra = [c for c in data.columns if c not in set(net.feature_names)]
            target = extra[0] if len(extra) == 1 else None
        if cert.kind == "training" and target is None:
            raise DataError("name the target column: the CSV has no single column besides the model's features")
        if target is not None and target not in data.columns:
            raise DataError(f"the data lack the target column {target!r} named in the certificate")
        y = data[target].to_numpy() if target is not None else None
        return X, y
    return np.atleast_2d(np.asarray(data, dtype=np.float64)), None


def _check_data_hash(rep: RecheckReport, cert: CertificateFile, X: np.ndarray, y: np.ndarray | None) -> None:
    from ..train.certificate import data_hash

    rec = cert.data or {}
    if not rec.get("sha256"):
        rep.skip("data sha256", "data", "the certificate records no data hash")
        return
    labels = y if rec.get("labels") and y is not None else np.asarray([], dtype=object)
    rows = rec.get("rows")
    if isinstance(rows, list) and rows and X.shape[0] != len(rows):
        if max(rows) >= X.shape[0]:
            rep.add("data sha256", "data", False, f"the data have {X.shape[0]} rows, the certificate uses row "
                    f"{max(rows)}")
            return
        X = X[rows]
        labels = labels[rows] if len(labels) else labels
    h = data_hash(X, labels)
    rep.add("data sha256", "data", h == rec["sha256"],
            h[:16] + "..." if h == rec["sha256"] else
            f"the data's hash {h[:16]}... differs from the certificate's {str(rec['sha256'])[:16]}...")


def _check_aggregate(rep: RecheckReport, cert: CertificateFile, verdicts: Sequence[str]) -> None:
    from .certificates import _aggregate

    agg = _aggregate(list(verdicts))
    rep.add("verdict consistent with its items", "integrity", agg == cert.status,
            f"items give {agg!r}, the certificate says {cert.status!r}" if agg != cert.status else agg)


# ---------------------------------------------------------------------------- training
def _recheck_training(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, second: str | None,
                      time_limit: float, samples: int) -> None:
    from ..train.certificate import Certificate, check_certificate, penalty_terms

    a = cert.answer
    terms = {k: number(v) for k, v in (a.get("terms") or {}).items()}
    inc, bound, gap = number(a.get("incumbent")), number(a.get("bound")), number(a.get("gap"))
    if inc is not None:
        rep.add("incumbent = sum of its terms", "integrity", _close(inc, sum(terms.values())),
                f"{inc:.9g} vs {sum(terms.values()):.9g}")
    if inc is not None and bound is not None:
        rep.add("bound <= incumbent", "integrity", bound <= inc + TOL * max(1.0, abs(inc)),
                f"bound {bound:.9g}, incumbent {inc:.9g}")
        if gap is not None:
            g = max(0.0, inc - bound) / max(abs(inc), 1e-10)
            rep.add("gap = (incumbent - bound) / |incumbent|", "integrity", _close(g, gap),
                    f"recorded {gap:.6g}, recomputed {g:.6g}")
    if a.get("status") == "optimal" and gap is not None and gap > 1e-4:
        rep.add("status optimal with a closed gap", "integrity", False, f"status optimal but gap {gap:.3g}")
    coefs = {k: float(v) for k, v in (cert.question.get("coefficients") or {}).items() if v is not None}
    pen = penalty_terms(net, coefs)
    bad = [k for k, v in pen.items() if not _close(v, terms.get(k, 0.0))]
    rep.add("penalty terms recomputed from the weights", "objective", not bad,
            ", ".join(f"{k} {terms.get(k, 0.0):.6g} -> {pen[k]:.6g}" for k in bad) if bad
            else ", ".join(f"{k} {v:.6g}" for k, v in pen.items()) or "no penalty terms")
    if Xy is None:
        rep.skip("loss recomputed from the data", "objective", "no data given (mipnet recheck CERT MODEL DATA.csv)")
    else:
        X, y = Xy
        if y is None:
            raise DataError("a training certificate needs the labels too")
        res = cert.result or {}
        try:
            tc = Certificate.from_dict(res)
        except TypeError:
            raise DataError("the certificate does not hold the full training record (result)") from None
        tc.terms, tc.incumbent, tc.data_sha256 = terms, inc, str((cert.data or {}).get("sha256"))
        chk = check_certificate(net, X, y, tc)
        rep.add("data sha256", "data", chk["hash_ok"],
                "matches" if chk["hash_ok"] else "the data differ from the training data")
        worst = max(chk["differences"].items(), key=lambda kv: abs(kv[1]), default=("-", 0.0))
        ok = all(abs(d) <= TOL * max(1.0, abs(chk["terms"].get(k, 0.0))) for k, d in chk["differences"].items())
        rep.add("objective terms recomputed from weights and data", "objective", ok and chk["incumbent_ok"],
                f"largest difference {worst[0]} {worst[1]:.3g}; loss {chk['terms'].get('loss', float('nan')):.9g}")
    rep.skip("second solver", "solver", "the training MILP is not re-solved (its bound is the solver's)")


# ---------------------------------------------------------------------------- robustness
def _recheck_robustness(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, second: str | None,
                        time_limit: float, samples: int) -> None:
    from ..verify.robustness import margins, normalise_norm, verify_sample

    q = cert.question
    X = _samples(cert, net)
    eps = number(q.get("eps"))
    norm = normalise_norm(q.get("norm", "inf"))
    items = cert.answer.get("items") or []
    if len(items) != X.shape[0]:
        rep.add("one answer per sample", "integrity", False, f"{len(items)} answers for {X.shape[0]} samples")
        return
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    if Xy is not None:
        _check_data_hash(rep, cert, Xy[0], Xy[1])
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
            xp = _array(ce, net.n_inputs, "counterexample")
            d = float(np.max(np.abs(xp - X[i]))) if norm == "inf" else float(np.sum(np.abs(xp - X[i])))
            in_ball = d <= eps * (1 + 1e-9) + 1e-9
            in_dom = bool(net.domain.contains(xp[None], tol=1e-7)[0])
            k = int(net.predict_index(net.forward(xp[None]))[0])
            ok = in_ball and in_dom and k != c
            why = []
            if not in_ball:
                why.append(f"distance {d:.6g} > eps {eps:g}")
            if not in_dom:
                why.append("outside the domain")
            if k == c:
                why.append(f"the forward pass keeps class {c}")
            rep.add(f"{name}: counterexample changes the class", "witness", ok,
                    "; ".join(why) if why else f"distance {d:.4g} <= {eps:g}, class {c} -> {k}")
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
            to_solve.append((i, c))
    if second is None:
        return
    for i, c in to_solve:
        # interval bounds (numpy only) so that the proof owes nothing to the first solver's LP bounds
        r = verify_sample(net, X[i], eps, norm, c, solver=second, time_limit=time_limit, bounds="interval",
                          use_attack=False)
        if r.verdict == "holds":
            how = "interval arithmetic alone proves it" if r.status == "bounds" else f"{second}: {r.status}"
            rep.add(f"sample {i}: {second} agrees (holds)", "solver", True, how)
        elif r.verdict == "violated":
            rep.add(f"sample {i}: {second} agrees (holds)", "solver", False,
                    f"{second} found a counterexample that changes the class to {r.adversarial_class}")
        else:
            rep.add(f"sample {i}: {second} agrees (holds)", "solver", None, f"{second}: {r.reason or r.status}")


# ---------------------------------------------------------------------------- monotonicity
def _feature_list(cert: CertificateFile) -> tuple[list[str], list[str]]:
    q = cert.question
    return [str(f) for f in q.get("increasing") or []], [str(f) for f in q.get("decreasing") or []]


def _recheck_monotonicity(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, second: str | None,
                          time_limit: float, samples: int) -> None:
    from ..verify.monotonic import output_coefficients, verify_global

    q = cert.question
    inc, dec = _feature_list(cert)
    coef, _ = output_coefficients(net, q.get("output"), q.get("versus"))
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    dom = net.domain
    sign = {f: 1 for f in inc} | {f: -1 for f in dec}
    recorded = {str(it.get("feature")) for it in items}
    if recorded != set(sign):
        rep.add("one answer per feature asked", "integrity", False,
                f"asked {sorted(sign)}, answered {sorted(recorded)}")
    rng = np.random.default_rng(0)
    proved = []
    for it in items:
        f = str(it.get("feature"))
        if f not in sign:
            continue
        s, l = sign[f], dom.index(f)
        v = it.get("verdict")
        if v == "violated":
            w = it.get("witness")
            if not isinstance(w, dict):
                rep.add(f"{f}: witness pair", "witness", False, "verdict violated without a witness pair")
                continue
            x, xp = _array(w.get("x", []), net.n_inputs, "witness x"), _array(w.get("x_prime", []), net.n_inputs,
                                                                               "witness x'")
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
            slope = _secant_slopes(net, coef, l, s, samples, rng)
            if slope is not None:
                lim = b if ok_b else 0.0
                mn = float(slope.min())
                rep.add(f"{f}: {slope.size} random secants respect the bound", "witness",
                        mn >= lim - 1e-6 * (1 + abs(lim)), f"lowest secant slope {mn:.6g}, bound {lim:.6g}")
            proved.append(f)
    if second is None:
        return
    for f in proved:
        kw = {"increasing": [f]} if sign[f] > 0 else {"decreasing": [f]}
        r = verify_global(net, **kw, mode=str(q.get("mode", "exact")), output=q.get("output"),
                          versus=q.get("versus"), solver=second, time_limit=time_limit,
                          bounds_method="interval", presample=0)
        st = r.features[0].status
        rep.add(f"{f}: {second} agrees (holds)", "solver", True if st == "holds" else (False if st == "violated"
                                                                                      else None),
                f"{second}: {st}" + (f", bound {r.features[0].bound:.6g}" if r.features[0].bound is not None else ""))


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


def _recheck_individual(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, second: str | None,
                        time_limit: float, samples: int) -> None:
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
    for it in items:
        r = int(it.get("row", -1))
        if not 0 <= r < X.shape[0]:
            rep.add(f"row {r}", "integrity", False, "row index out of range")
            continue
        v = it.get("verdict")
        if v == "violated":
            xp = _array(it.get("x_prime") or [], net.n_inputs, "counterexample")
            x = X[r]
            fxp = float(net.forward(xp[None])[0] @ coef)
            why = []
            if not dom.contains(xp[None], tol=1e-7)[0]:
                why.append("outside the domain")
            if np.any(xp[ia] > x[ia] + 1e-9) or np.any(xp[idd] < x[idd] - 1e-9):
                why.append("a monotone feature moves the wrong way")
            if np.any(np.abs(xp[rest] - x[rest]) > 1e-9):
                why.append("a non-monotone feature changes")
            if not fxp > fX[r] + 1e-9 * (1 + abs(fX[r])):
                why.append(f"f does not increase ({fX[r]:.6g} -> {fxp:.6g})")
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
            proved.append(r)
    if second is None or not proved:
        return
    res = verify_individual(net, X[proved], inc, dec, output=q.get("output"), versus=q.get("versus"),
                            solver=second, time_limit=time_limit)
    for r, p in zip(proved, res.points):
        rep.add(f"row {r}: {second} agrees (holds)", "solver",
                True if p.status == "holds" else (False if p.status == "counterexample" else None), p.status)


# ---------------------------------------------------------------------------- resilience
def _recheck_resilience(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, second: str | None,
                        time_limit: float, samples: int) -> None:
    from ..verify.resilience import Heuristics, class_resilience
    from ..verify.search import logits, perturbation_norm, reached, strong_margin

    q = cert.question
    alpha, k, norm = float(q.get("alpha", 1.0)), int(q.get("k", 1)), str(q.get("norm", "1"))
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    dom = net.domain
    ln_a = math.log(alpha)
    values = []
    for it in items:
        m = int(it.get("class", -1))
        name = f"class {it.get('class_name', m)}"
        phi, bound = number(it.get("phi")), number(it.get("bound"))
        if phi is not None and bound is not None:
            rep.add(f"{name}: bound <= Phi", "integrity", bound <= phi + TOL * max(1.0, abs(phi)),
                    f"bound {bound:.6g}, Phi {phi:.6g}")
        if it.get("status") in ("optimal",) and phi is not None and bound is not None \
                and not _close(phi, bound, 1e-4):
            rep.add(f"{name}: optimal means bound = Phi", "integrity", False, f"bound {bound:.6g}, Phi {phi:.6g}")
        if it.get("a") is not None and it.get("b") is not None:
            a = _array(it["a"], net.n_inputs, "witness a")
            b = _array(it["b"], net.n_inputs, "witness b")
            z = logits(net, np.vstack([a, b]))
            tol = TOL * (1.0 + float(np.abs(z).max()))
            why = []
            if not np.all(dom.contains(np.vstack([a, b]), tol=1e-6)):
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
            rep.add(f"{name}: witness pair (a, b)", "witness", not why,
                    "; ".join(why) if why else f"||b - a|| = {nv:.6g}, {nr} class(es) reached")
        elif phi is not None:
            rep.add(f"{name}: witness pair (a, b)", "witness", False, "a value of Phi without its witness pair")
        if it.get("kind", q.get("kind")) == "class":
            values.append((m, name, phi, bound, it.get("status")))
    if second is None:
        return
    heur_d = q.get("heuristics") or {}
    heur = Heuristics(**{k2: v for k2, v in heur_d.items() if k2 in Heuristics.__dataclass_fields__})
    for m, name, phi, bound, status in values:
        r = class_resilience(net, m, alpha=alpha, k=k, norm=norm, heuristics=heur, solver=second,
                             time_limit=time_limit)
        if status == "infeasible" or r.status == "infeasible":
            agree = status == r.status if r.status in ("infeasible", "optimal") else None
            rep.add(f"{name}: {second} agrees", "solver", agree, f"certificate {status}, {second} {r.status}")
            continue
        lo1 = bound if bound is not None else -math.inf
        hi1 = phi if phi is not None else math.inf
        lo2 = r.bound if r.bound is not None else -math.inf
        hi2 = r.phi if r.phi is not None else math.inf
        tol = 1e-5 * (1 + max(abs(v) for v in (lo1, hi1, lo2, hi2) if math.isfinite(v)) if any(
            math.isfinite(v) for v in (lo1, hi1, lo2, hi2)) else 1e-5)
        overlap = lo1 <= hi2 + tol and lo2 <= hi1 + tol
        decided = r.status == "optimal" or not overlap
        rep.add(f"{name}: {second} agrees on Phi", "solver", overlap if decided else None,
                f"certificate [{lo1:.6g}, {hi1:.6g}], {second} [{lo2:.6g}, {hi2:.6g}] ({r.status})")


__all__ = ["Check", "RecheckReport", "recheck", "other_solver"]
