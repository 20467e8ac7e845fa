"""Training certificates: the claim that a trained network is (near) optimal in its class, and its re-check.

**Claim.** The certificate (built by :func:`training_certificate` from a :class:`mipnet.train.Certificate`)
records the training problem (hypothesis class, loss, margin, penalty coefficients, task, classes, N, the
formulation) and the data (SHA-256 of the rows and labels trained on; for a random subsample the rows of the
data file and its row count), and answers with what the solver proved: the status (``optimal`` or
``feasible``), the incumbent = the objective of the returned network = the sum of its terms (the loss and the
penalty terms, each recomputed with numpy, :mod:`mipnet.train.objective_check`), the best proved lower
bound of the objective over the class, the gap = (incumbent - bound) / |incumbent| and where the bound comes
from (``bound_source``: the solver's "milp", the sample groups' "groups" or the dual certificate's "dual: ...").
The witness is the model's weights (the model sha256).

**Re-check** (:func:`_recheck_training`), re-derived without the solver that produced it:

* integrity: incumbent = sum of the terms; bound <= incumbent; the recorded gap is the gap recomputed;
  a status ``optimal`` has a bound and a gap closed to 10 x the recorded MIP gap (at most 1e-4); the facts
  the file repeats (question, answer, result, data record, formulation) agree;
* the domain constraints of the recorded formulation measured again on the network
  (:func:`mipnet.train.constraints.check_constraints`; the parity bound with the data only);
* the penalty terms recomputed from the weights; with the data (the recorded rows of it, for a subsample),
  every term and the data hash (:func:`mipnet.train.objective_check.check_certificate`);
* the bound, by a fresh solve: the training MILP rebuilt from the recorded formulation and the data and
  solved again (:func:`_reprove_training`), its proved bound must reach the claimed one, and a network of the
  class below the claimed bound (objective recomputed with numpy) refutes it; a bound from the dual
  certificate (``bound_source`` "dual: ...") is recomputed from its recorded multipliers instead
  (:func:`_dual_claim`): in numpy for the transport plan, with a fresh single-neuron pricing MILP where the
  record used one; a bound from the cutting planes of the linear term alone (``bound_source`` "cuts") by the
  master MILP again, every cut recomputed from the data at the recorded points (:func:`.cuts.cuts_claim`).
  A bound <= 0 needs no solve (every objective term is >= 0).
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

import numpy as np

from ..errors import DataError, MipnetError
from ..gaps import OPTIMAL_ABS_GAP, gap_closed
from ..network import Network
from ..train.scaling import column_scale
from .checks import (
    MIN_SOLVE_SECONDS,
    REPROVE_TOL,
    TOL,
    RecheckReport,
    _close,
    _Ctx,
    _reprove,
)
from .cuts import cuts_claim
from .format import CertificateFile, Kind, _new, no_certificate_format, number, register, solver_record
from .training_class import class_claim, classes_claim, selection_claim, standardisation_claim, target_scale_claim
from .training_consistency import _training_consistency


# ============================================================================ the certificate
def training_certificate(
    net: Network, cert: Any, *, target: str | None = None, source: str | None = None
) -> CertificateFile:
    """From a :class:`mipnet.train.Certificate` (or its dict, e.g. ``net.metadata['certificate']``)."""
    d = cert.to_dict() if hasattr(cert, "to_dict") else dict(cert)
    question = {
        "property": "training objective",
        "hypothesis": d.get("hypothesis"),
        "loss": d.get("loss"),
        "margin": d.get("margin"),
        "coefficients": d.get("coefficients"),
        "task": d.get("task"),
        "classes": d.get("classes"),
        "n_samples": d.get("n_samples"),
        "config": (d.get("formulation") or {}).get("config"),
    }
    data = {"sha256": d.get("data_sha256"), "n_rows": d.get("n_samples"), "labels": True}
    if d.get("rows") is not None:  # a random subsample of the data file: its rows
        data["rows"] = [int(i) for i in d["rows"]]
        data["source_rows"] = d.get("source_rows")
    if target is not None:
        data["target"] = target
    if source is not None:
        data["source"] = source
    answer: dict[str, Any] = {
        "status": d.get("status"),
        "incumbent": d.get("incumbent"),
        "bound": d.get("bound"),
        "gap": d.get("gap"),
        "time": d.get("wall_time"),
        "terms": d.get("terms"),
        "items": [],
        "witness": "the model's weights (model sha256)",
    }
    solver = solver_record(
        str(d.get("solver", "highs")), d.get("solver_version"), {"mip_gap": (d.get("formulation") or {}).get("mip_gap")}
    )
    return _new("training", question, net, data, solver, answer, d)


# ============================================================================ its re-check
def _optimal_gap_tolerance(cert: CertificateFile) -> float:
    """The largest gap a status ``optimal`` may carry: 10 x the recorded relative MIP gap (at most 1e-4)."""
    try:
        g = number((cert.solver.get("options") or {}).get("mip_gap"))
    except MipnetError:
        g = None
    g = 1e-6 if g is None or not math.isfinite(g) or g < 0 else g
    return min(max(10 * g, 1e-6), 1e-4)


def _training_rows(
    rep: RecheckReport, cert: CertificateFile, X: np.ndarray, y: np.ndarray
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
            rep.add(
                "training rows of the data",
                "data",
                False,
                f"the data have {X.shape[0]} rows, the certificate trains on row {int(idx.max())}",
            )
            return None
        if np.unique(idx).size != idx.size:
            rep.add("training rows of the data", "integrity", False, "a row is listed twice")
            return None
        rep.add("training rows of the data", "data", True, f"{idx.size} recorded rows of {X.shape[0]}")
        return X[idx], y[idx]
    if X.shape[0] == idx.size:
        rep.skip("training rows of the data", "data", "the data hold the training rows themselves")
        return X, y
    rep.add(
        "training rows of the data",
        "data",
        False,
        f"the data have {X.shape[0]} rows; the certificate's rows are of a file with {src} rows",
    )
    return None


def _recheck_training(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..train.objective_check import Certificate, check_certificate, penalty_terms

    a = cert.answer
    status = str(a.get("status"))
    # a term recorded as null fails in sum() below, as it always did
    terms = cast("dict[str, float]", {k: number(v) for k, v in (a.get("terms") or {}).items()})
    inc, bound, gap = number(a.get("incumbent")), number(a.get("bound")), number(a.get("gap"))
    if inc is None:
        rep.add("incumbent recorded", "integrity", False, "the certificate records no objective value")
    else:
        rep.add(
            "incumbent = sum of its terms",
            "integrity",
            _close(inc, sum(terms.values())),
            f"{inc:.9g} vs {sum(terms.values()):.9g}",
        )
    if inc is not None and bound is not None:
        rep.add(
            "bound <= incumbent",
            "integrity",
            bound <= inc + TOL * max(1.0, abs(inc)),
            f"bound {bound:.9g}, incumbent {inc:.9g}",
        )
        if gap is None:
            rep.add("gap recorded with the bound", "integrity", False, "a bound without its gap")
        else:
            g = max(0.0, inc - bound) / max(abs(inc), 1e-10)
            rep.add(
                "gap = (incumbent - bound) / |incumbent|",
                "integrity",
                _close(g, gap),
                f"recorded {gap:.6g}, recomputed {g:.6g}",
            )
    if status == "optimal":
        tol = _optimal_gap_tolerance(cert)
        if bound is None or gap is None:
            rep.add("status optimal with a closed gap", "integrity", False, "status optimal without a bound and gap")
        else:
            rep.add(
                "status optimal with a closed gap",
                "integrity",
                gap <= tol * (1 + 1e-9) or (inc is not None and gap_closed(inc, bound, tol)),
                f"gap {gap:.3g} (tolerance {tol:.3g}, or {OPTIMAL_ABS_GAP:g} absolute)",
            )
    elif status not in ("feasible", "unknown"):
        rep.add(
            "status of a training certificate",
            "integrity",
            False,
            f"status {status!r} (a trained network is 'optimal' or 'feasible')",
        )
    _training_consistency(rep, cert)
    if not _config_claim(rep, cert):
        rep.skip("witnesses and proofs", "witness", "not checked: the recorded configuration is not readable")
        return
    class_claim(rep, cert, net)
    classes_claim(rep, cert, net)
    selection_claim(rep, cert)
    coefs = {k: float(v) for k, v in (cert.question.get("coefficients") or {}).items() if v is not None}
    pen = penalty_terms(net, coefs)
    bad = [k for k, v in pen.items() if not _close(v, terms.get(k, 0.0))]
    rep.add(
        "penalty terms recomputed from the weights",
        "objective",
        not bad,
        ", ".join(f"{k} {terms.get(k, 0.0):.6g} -> {pen[k]:.6g}" for k in bad)
        if bad
        else ", ".join(f"{k} {v:.6g}" for k, v in pen.items()) or "no penalty terms",
    )
    proved = bound is not None and bound > 0
    if Xy is None:
        _constraints_claim(rep, cert, net, None)
        rep.add(
            "loss recomputed from the data",
            "objective",
            None,
            "not re-proved: no data given (mipnet recheck CERT MODEL DATA.csv)",
        )
        if proved:
            rep.add(
                "training bound re-proved by a fresh solve",
                "solver",
                None,
                "not re-proved: re-solving the training problem needs the data",
            )
        return
    X, y = Xy
    if y is None:
        raise DataError("a training certificate needs the labels too")
    sel = _training_rows(rep, cert, X, y)
    if sel is None:
        return
    X, y = sel
    _constraints_claim(rep, cert, net, X)
    standardisation_claim(rep, cert, net, X)
    target_scale_claim(rep, cert, net, y)
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
    rep.add(
        "data sha256", "data", chk["hash_ok"], "matches" if chk["hash_ok"] else "the data differ from the training data"
    )
    worst = max(chk["differences"].items(), key=lambda kv: abs(kv[1]), default=("-", 0.0))
    ok = all(abs(d) <= TOL * max(1.0, abs(chk["terms"].get(k, 0.0))) for k, d in chk["differences"].items())
    rep.add(
        "objective terms recomputed from weights and data",
        "objective",
        ok and chk["incumbent_ok"],
        f"largest difference {worst[0]} {worst[1]:.3g}; loss {chk['terms'].get('loss', float('nan')):.9g}",
    )
    if bound is None:
        return
    if not proved:
        rep.add("training bound re-proved", "solver", True, f"bound {bound:.6g} <= 0: every objective term is >= 0")
        return
    if not chk["hash_ok"]:
        rep.skip("training bound re-proved by a fresh solve", "solver", "not solved: the data differ")
        return
    source = str((cert.result or {}).get("bound_source") or "milp")
    if source == "cuts":  # the master MILP again, every cut recomputed from the data at the recorded points
        cfg, why = _recorded_config(cert)
        record = (res.get("formulation") or {}).get("cuts")
        seconds = ctx.budget.share(1)
        cuts_ok: bool | None
        if cfg is None:  # the cutting planes always record their class: without it the bound names no problem
            cuts_ok, detail = False, why.replace("not re-proved: ", "a bound from cuts, but ")
        else:
            cuts_ok, detail = cuts_claim(cfg, record, X, y, tc, float(bound), seconds)
        # (recorded cuts that prove less than the claim fall short of it: they do not refute it)
        rep.add("training bound re-proved from the recorded cuts (a fresh master MILP)", "evidence", cuts_ok, detail)
        return
    if source.startswith("dual"):  # re-derived from the recorded multipliers (numpy, or a fresh pricing solve)
        dual_ok, detail, category = _dual_claim(cert, X, y, tc, float(bound), ctx.solver, ctx.budget.share(1))
        rep.add(f"training bound re-checked from the dual certificate ({source})", category, dual_ok, detail)
        return
    _reprove(
        rep,
        ctx,
        [("training bound re-proved by a fresh solve", None)],
        lambda _, s, t: _reprove_training(cert, net, X, y, tc, float(bound), s, t, res.get("incumbent")),
    )


def _constraints_claim(rep: RecheckReport, cert: CertificateFile, net: Network, X: np.ndarray | None) -> None:
    """The domain constraints of the recorded formulation (:mod:`mipnet.train.constraints`) measured again on the
    network with numpy (the parity bound needs the training rows: skipped without data). Each recorded text must be
    the one its numbers give with the model's feature names (:func:`~mipnet.train.constraints.canonical_text`: a
    text naming another feature, sign or group than the indices encode is an edit), a parity group given by a
    feature must be that feature's nonzero rows of the data, and the formulation's record of the checks (what the
    trainer printed) must restate them."""
    recorded = (cert.question.get("config") or {}).get("constraints")
    if not recorded:
        form = (cert.result or {}).get("formulation")
        printed = form.get("domain_constraints") if isinstance(form, dict) else None
        if printed:  # (a record of checks for constraints the configuration never had was printed, re-checked OK)
            rep.add(
                "domain constraints hold on the network",
                "integrity",
                False,
                "the formulation records domain constraints the configuration does not have",
            )
        return
    from ..train.constraints import canonical_text, check_constraints, read_resolved

    name = "domain constraints hold on the network"
    try:
        resolved = [read_resolved(c) for c in recorded]
        d = net.n_inputs
        for r in resolved:
            if any(not 0 <= i < d for i in r.features) or (r.kind in ("sign",) and len(r.features) != 1):
                rep.add(name, "objective", False, f"a recorded {r.kind} constraint names inputs outside 0..{d - 1}")
                return
        edited = [r.text for r in resolved if r.text != canonical_text(r, net.feature_names)]
        if edited:
            rep.add(
                name, "objective", False, f"the text {edited[0]!r} is not the constraint its recorded numbers encode"
            )
            return
        moved = _moved_numbers(resolved, cert, net, X)
        if moved:
            rep.add(name, "objective", False, moved)
            return
        if X is not None:
            for r in resolved:
                if r.kind == "parity" and r.features and tuple(int(v) for v in X[:, r.features[0]] != 0) != r.groups:
                    rep.add(name, "objective", False, f"{r.text}: the recorded groups are not the data's")
                    return
        if X is None:
            resolved = [r for r in resolved if r.kind != "parity"]
        recs = check_constraints(net, resolved, X if X is not None else np.zeros((0, 0)))
    except MipnetError as exc:
        rep.add(name, "objective", False, str(exc))
        return
    bad = [r["constraint"] for r in recs if not r["holds"]]
    form = (cert.result or {}).get("formulation")
    printed = form.get("domain_constraints") if isinstance(form, dict) else None
    if printed is not None:  # what the trainer printed: the same constraints, the same verdicts
        said = [(str(p.get("constraint")), p.get("holds")) for p in printed if isinstance(p, dict)]
        if len(said) != len(printed) or [t for t, _ in said] != [str(c.get("text")) for c in recorded]:
            bad.append("the formulation's record of the checks names other constraints")
        else:  # every field of the record restates the measurement (a measured 100 and a kind "budget" passed)
            got = {r["constraint"]: r for r in recs}
            for p in printed:
                again = got.get(str(p.get("constraint")))
                if again is not None and _record_differs(p, again):
                    bad.append(
                        f"{again['constraint']}: the record says {_record_words(p)}, numpy {_record_words(again)}"
                    )
    rep.add(
        name,
        "objective",
        not bad,
        f"violated: {'; '.join(bad[:3])}" if bad else f"{len(recs)} measured with numpy",
    )


def _record_differs(said: dict[str, Any], got: dict[str, Any]) -> bool:
    """A printed constraint check that is not the recomputed one: another kind, requirement or verdict, or a
    measured value off by more than round-off."""
    if set(said) != set(got) or any(said[k] != got[k] for k in ("kind", "required", "holds")):
        return True
    a, b = said.get("measured"), got.get("measured")
    try:
        return not _close(float(a), float(b), 1e-9)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def _record_words(r: dict[str, Any]) -> str:
    return f"{r.get('kind')} {r.get('required')!r} measured {r.get('measured')!r} holds {r.get('holds')!r}"


def _moved_numbers(resolved: list[Any], cert: CertificateFile, net: Network, X: np.ndarray | None) -> str | None:
    """A recorded constraint keeps the user's numbers (``raw_a``, ``raw_b``, ``raw_delta``: the text and the numpy
    check read them) and the MILP's (``x_a``, ``x_b`` standardised, ``delta`` in units of the target scale: the
    re-solve and the recorded cuts read them). The MILP's must be the user's, standardised by the training rows'
    scale (the network's input Normalize without data) and divided by the target scale (1 for a classifier):
    else a looser constraint could be written beside the optimum of a tighter one. None when they agree."""
    task = str(cert.question.get("task") or "classify")
    y_scale = number((cert.result or {}).get("target_scale")) if task == "regress" else 1.0
    scale: tuple[np.ndarray, np.ndarray] | None = None
    if X is not None:
        mu, sd = column_scale(X)
        scale = (1.0 / sd, -mu / sd)
    elif net.layers and net.layers[0].kind == "Normalize":
        first = net.layers[0]
        scale = (
            np.asarray(getattr(first, "scale", np.nan), dtype=np.float64).ravel(),
            np.asarray(getattr(first, "offset", np.nan), dtype=np.float64).ravel(),
        )

    def close(a: Any, b: Any) -> bool:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b))))

    for r in resolved:
        if r.kind not in ("order", "parity"):
            continue
        want = r.raw_delta if r.kind == "parity" else (None if y_scale is None else r.raw_delta / y_scale)
        if want is None or not close(r.delta, want):
            return f"{r.text}: the recorded delta {r.delta!r} is not {r.raw_delta!r} in the MILP's units"
        if r.kind == "order" and scale is not None:
            for std, raw in ((r.x_a, r.raw_a), (r.x_b, r.raw_b)):
                if len(raw) != scale[0].size or not close(std, np.asarray(raw) * scale[0] + scale[1]):
                    return f"{r.text}: the recorded standardised point is not the raw point's"
    return None


def _dual_claim(
    cert: CertificateFile,
    X: np.ndarray,
    y: np.ndarray,
    tc: Any,
    claimed: float,
    solver: str | None,
    seconds: float | None,
) -> tuple[bool | None, str, str]:
    """Re-check a training bound claimed from the dual certificate (``result.dual_bound``, sign class, hinge) by
    weak duality, without trusting the trainer: for multipliers alpha_n in [0, count_n / N] on the groups of
    identical (standardised x, label) rows, a = alpha y, every network of the class (width J, boxes B_w, B_b,
    output bias |c| <= B_b, v_j in {-1, 0, 1}) has objective >= t base - J max(0, t V - (1 - t) kappa) with

        alpha = marginals of the plan pi on the pairs (i, j) (y_i = +1, y_j = -1) + alpha_M on the rows,
        base  = 2 m sum pi + m sum alpha_M - B_b |sum alpha_M y|,  beta+-_k = sum_p pi_p (+-(x_ik - x_jk))_+,
        V    >= max_{s, box} s sum_n alpha_M,n y_n (w . x_n + b)_+
                 - sum_k [(lam - beta^s_k) (w_k)_+ + (lam - beta^-s_k) (-w_k)_+] - kappa,

    lam = l1, kappa = l1 + l2 + l0 + neuron_penalty, m the margin, all read from the recorded formulation; with the
    linear term (the config's ``linear``, or the record's) the value also subtracts L(t g) = sum_i max(0, B_w (t |g_i|
    - lam) - l0), g = sum_n alpha_n y_n x_n (:mod:`~mipnet.train.dual_bound.linear_part`). Without
    alpha_M, V = B_w sum_k [(beta+_k - lam)_+ + (beta-_k - lam)_+] - kappa exactly (numpy; beta^{+1} = beta+,
    beta^{-1} = beta-, :func:`~mipnet.train.dual_bound.hybrid_lower_bound`), or where that does not reach the claim
    (up to ``VERTEX_MAX_FEATURES`` inputs) the exact pair maximum over the box's vertices
    (:func:`~mipnet.train.dual_bound.pair_vertices.vertex_pricing_value`, a smaller valid V); with alpha_M, V is the
    dual bound of a fresh single-neuron pricing MILP. Returns (verdict, detail, category)."""
    from ..deadline import Deadline
    from ..train.dual_bound.linear_part import linear_penalty
    from ..train.dual_bound.pair_vertices import VERTEX_MAX_FEATURES, vertex_pricing_value
    from ..train.objective_check import _targets

    rec = (cert.result or {}).get("dual_bound")
    if not isinstance(rec, dict):
        return False, "the bound is claimed from a dual certificate the file does not hold", "integrity"
    cfg = cert.question.get("config") or {}
    if (
        cfg.get("hypothesis") != "sign"
        or cfg.get("loss") != "hinge"
        or float(cfg.get("layer_penalty") or 0) > 0
        or cfg.get("architecture")
        or len(cfg.get("hidden") or ()) != 1
    ):
        return False, "a dual bound is only defined for the sign class with the hinge loss", "integrity"
    num = lambda k, d=0.0: float(x) if (x := number(cfg.get(k))) is not None else float(d)  # noqa: E731
    m, l1 = num("margin", 1.0), num("l1")
    lam, kappa = l1, l1 + num("l2") + num("l0") + num("neuron_penalty")
    J = int(cfg["hidden"][0]) if cfg.get("max_neurons") is None else min(int(cfg["hidden"][0]), int(cfg["max_neurons"]))
    Bw, Bb = num("weight_bound", 1.0), num("bias_bound", 1.0)
    N = X.shape[0]
    target = _targets(y, tc.task, tc.classes, 1)
    mu, sd = column_scale(X)
    Xs = (X - mu) / sd
    _, first, inv, counts = np.unique(
        np.column_stack([Xs, target]), axis=0, return_index=True, return_inverse=True, return_counts=True
    )
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
    if (
        not np.all(np.isfinite(pi))
        or not np.all(np.isfinite(am))
        or np.any(pi < 0)
        or np.any(am < 0)
        or not 0.0 <= t <= 1.0
        or np.any(idx != np.round(idx))
        or np.any(idx < 0)
        or np.any(idx >= N)
    ):
        return (
            False,
            "the dual certificate's multipliers are not >= 0, its rows not rows of the data or t not in [0, 1]",
            "witness",
        )
    i, j, n = pairs[:, 0].astype(int), pairs[:, 1].astype(int), rows[:, 0].astype(int)
    if np.any(target[i] != 1.0) or np.any(target[j] != -1.0):
        return False, "a transport pair does not join a +1 row to a -1 row", "witness"
    alpha = np.bincount(inv[i], pi, G) + np.bincount(inv[j], pi, G) + np.bincount(inv[n], am, G)
    over = float(np.max(alpha / cap)) if G else 0.0
    if over > 1.0 + 1e-9:
        return False, f"the multipliers exceed their caps count / N (by a factor {over:.6g})", "witness"
    if over > 1.0:  # float rounding: scale into the caps
        pi, am = pi / over * (1 - 1e-15), am / over * (1 - 1e-15)
    dxp = Xs[i] - Xs[j]
    d_in = X.shape[1]
    beta_p = np.clip(dxp, 0.0, None).T @ pi if pi.size else np.zeros(d_in)  # one-sided loads
    beta_n = np.clip(-dxp, 0.0, None).T @ pi if pi.size else np.zeros(d_in)
    base = 2.0 * m * math.fsum(pi) + m * math.fsum(am) - Bb * abs(math.fsum(am * target[n]))
    # the linear term's share (0 without it); subtracting it where it is not needed only lowers the value
    linear_share = 0.0
    if cfg.get("linear") or rec.get("linear"):
        g_lin = dxp.T @ pi + Xs[n].T @ (am * target[n])  # sum_n alpha_n y_n x_n over the pairs and the rows
        linear_share = linear_penalty(t * g_lin, lam=lam, l0=num("l0"), weight_bound=Bw)

    def value(V: float) -> float:
        return t * base - J * max(0.0, t * V - (1.0 - t) * kappa) - linear_share

    if not am.size:  # transport only: V exact in numpy (the separable loads, else the box's vertices)
        V = Bw * float(np.clip(beta_p - lam, 0.0, None).sum() + np.clip(beta_n - lam, 0.0, None).sum()) - kappa
        how = "loads"
        if value(V) < claimed - 1e-9 * max(1.0, abs(claimed)) and d_in <= VERTEX_MAX_FEATURES:
            try:  # the enumeration stays within the re-check's time (3^d vertices x the pairs)
                V_vert, _ = vertex_pricing_value(
                    dxp, pi, lam=lam, kappa=kappa, weight_bound=Bw, deadline=Deadline(seconds or 0.0)
                )
            except TimeoutError:
                return (
                    None,
                    f"not re-proved: the {3**d_in - 1} vertices of the box were not all enumerated in the time left",
                    "solver",
                )
            if V_vert < V:
                V, how = V_vert, f"the {3**d_in - 1} vertices of the box"
        got = value(V)
        ok = got >= claimed - 1e-9 * max(1.0, abs(claimed))
        return (
            ok,
            (
                f"recomputed with numpy from {pi.size} transport pairs (pricing over {how}): {got:.9g} "
                f"{'>=' if ok else '<'} claimed {claimed:.9g}"
            ),
            "witness",
        )
    if solver is None or seconds is None or seconds < MIN_SOLVE_SECONDS:
        return (
            None,
            "not re-proved: the dual certificate needs its pricing MILP re-solved (re-proof switched off or "
            "no time left)",
            "solver",
        )
    from ..train.dual_bound import price

    a = np.bincount(inv[n], am * target[n], G)
    keep = np.flatnonzero(a != 0)
    prs = [
        price(
            Xs[first[keep]],
            a[keep],
            s,
            lam=lam - (beta_p if s > 0 else beta_n),
            lam_neg=lam - (beta_n if s > 0 else beta_p),
            kappa=kappa,
            ball=False,
            w_bound=Bw,
            b_bound=Bb,
            time_limit=seconds / 2,
            mip_gap=1e-6,
        )
        for s in (1, -1)
    ]
    V = max(p.upper for p in prs)
    got = value(V)
    tol = REPROVE_TOL * max(1.0, abs(claimed))
    what = f"{pi.size} transport pairs, {am.size} rows, pricing bound V <= {V:.6g}"
    if got >= claimed - tol:
        return True, f"recomputed ({what}): {got:.9g} >= claimed {claimed:.9g}", "solver"
    found = max(p.value for p in prs)
    if math.isfinite(found) and value(found) < claimed - tol:
        return (
            False,
            (
                f"a unit with pricing value {found:.6g} exists (numpy): these multipliers prove at most "
                f"{value(found):.9g} < claimed {claimed:.9g}"
            ),
            "solver",
        )
    return None, f"not re-proved within {seconds:.3g} s ({what}): {got:.9g} < claimed {claimed:.9g}", "solver"


#: fields every trainer has recorded in a configuration since the first format: never read as their defaults
CORE_CONFIG = ("hidden", "hypothesis", "loss", "margin", "weight_bound", "bias_bound", "l1")


def _config_claim(rep: RecheckReport, cert: CertificateFile) -> bool:
    """The recorded configuration (``question.config``) is one the trainer accepts: every field of the right type and
    range, as :func:`~mipnet.train.config.resolve_config` validates it (a box of null or a budget of "two" is an
    edited file, not a class). False (a failed check) when it is not; True when it is or none is recorded."""
    from ..train.config import resolve_config

    if cert.question.get("config") is None:
        return True
    q = cert.question
    try:
        if not isinstance(q.get("config"), dict):
            raise TypeError(f"a mapping was expected, got {type(q.get('config')).__name__}")
        missing = [k for k in CORE_CONFIG if k not in q["config"]]
        if missing:  # a default filled in for a deleted field would re-prove another problem (margin 1 for 0.5)
            raise ValueError(f"it lacks {', '.join(missing)}, which the objective and its bound depend on")
        cfg = _read_config(q["config"])
        classes = q.get("classes")
        n_classes = len(classes) if isinstance(classes, list) and classes else 2
        resolve_config(cfg, str(q.get("task") or "classify"), n_classes)
        for name in ("max_nonzeros", "max_neurons", "max_channels", "levels"):
            v = getattr(cfg, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v)):
                raise ValueError(f"{name} must be a whole number, got {v!r}")
    except (TypeError, ValueError, KeyError, AttributeError, MipnetError) as exc:
        rep.add("recorded configuration readable", "integrity", False, f"{exc}")
        return False
    return True


def _read_config(cfgd: dict[str, Any]) -> Any:
    """The :class:`~mipnet.train.formulation.TrainConfig` of a recorded configuration (TypeError / ValueError when a
    field is not readable)."""
    from ..train.formulation import TrainConfig

    fields = TrainConfig.__dataclass_fields__
    cfg_fields: dict[str, Any] = {
        k: (tuple(int(h) for h in v) if k == "hidden" else v) for k, v in cfgd.items() if k in fields
    }
    return TrainConfig(**cfg_fields)


def _recorded_config(cert: CertificateFile) -> tuple[Any, str]:
    """The recorded formulation's :class:`~mipnet.train.formulation.TrainConfig`, or (None, why not)."""
    cfgd = dict(cert.question.get("config") or {})
    if not cfgd:
        return None, "not re-proved: the certificate does not record the formulation"
    try:
        return _read_config(cfgd), ""
    except (TypeError, ValueError, MipnetError) as exc:
        return None, f"not re-proved: the recorded formulation is not readable ({exc})"


def _reprove_training(
    cert: CertificateFile,
    net: Network,
    X: np.ndarray,
    y: np.ndarray,
    tc: Any,
    bound: float,
    solver: str,
    seconds: float,
    incumbent: Any = None,
) -> tuple[bool | None, str]:
    """Rebuild the training MILP from the recorded formulation and the data, solve it within ``seconds``: its bound
    must reach the claimed one; a network of the class below the claimed bound (numpy) refutes it, as does a bound
    above the claimed ``incumbent`` (not of the class: a weight out of its box, a dropped penalty or layer)."""
    from ..deadline import Deadline, OutOfTime
    from ..solve import solve
    from ..train.formulation import TrainingProblem
    from ..train.objective_check import _targets, recompute_terms
    from ..train.trainer import build_network, encode_targets

    t0 = time.perf_counter()
    cfgd = dict(cert.question.get("config") or {})
    if cfgd.get("architecture"):
        return None, "not re-proved: re-solving a conv training problem is not supported by the re-check yet"
    if cfgd.get("hypothesis") == "continuous" and solver == "highs":
        return None, "not re-proved: the continuous class needs SCIP or Gurobi (pip install pyscipopt)"
    cfg, why = _recorded_config(cert)
    if cfg is None:
        return None, why
    task, classes = tc.task, tc.classes
    if task == "regress":
        target, _, n_classes, y_mu, y_sd = encode_targets(np.asarray(y), "regress")
    else:
        n_classes = len(classes or [])
        target = _targets(y, task, classes, 1 if n_classes == 2 else n_classes)
        y_mu, y_sd = 0.0, 1.0
    mu, sd = column_scale(X)
    try:  # the build stops at the re-check's budget (6172 rows took 24 s of a 5 s limit, full Adult minutes)
        build_dl = Deadline(max(0.0, seconds - (time.perf_counter() - t0)))
        problem = TrainingProblem((X - mu) / sd, target, task, n_classes, cfg, solver=solver, deadline=build_dl)
    except OutOfTime:
        return None, f"not re-proved: building the problem did not fit the {seconds:.3g} s left"
    left = seconds - (time.perf_counter() - t0)
    if left < MIN_SOLVE_SECONDS:
        return None, f"not re-proved: building the problem took the {seconds:.3g} s left"
    r = solve(problem.model, solver, time_limit=left, mip_gap=1e-6)
    tol = REPROVE_TOL * max(1.0, abs(bound))
    if isinstance(incumbent, (int, float)) and r.bound is not None and r.bound > incumbent + tol:
        return False, f"{solver} proves every network of the class >= {r.bound:.6g}; this one claims {incumbent:.6g}"
    if r.bound is not None and r.bound >= bound - tol:
        return True, f"{solver} ({r.status}, {r.wall_time:.1f} s): bound {r.bound:.6g} >= claimed {bound:.6g}"
    if r.has_solution:
        w = problem.zero_dead_units(problem.weight_values())
        skip, lin = problem.skipped_layers(w), problem.linear_w  # (the linear term's units, when the class has them)
        other = build_network(w, mu, sd, net.domain, task, classes, y_mu, y_sd, {}, skip=skip, linear=lin)
        obj = float(sum(recompute_terms(other, X, y, tc).values()))
        if obj < bound - 1e-9 * max(1.0, abs(bound)):  # numpy's objective: exact to round-off
            return False, (
                f"{solver} found a network of the class with objective {obj:.6g} (recomputed with "
                f"numpy), below the claimed bound {bound:.6g}"
            )
    got = "no bound" if r.bound is None else f"bound {r.bound:.6g}"
    return None, f"not re-proved within {seconds:.3g} s: {solver} ({r.status}) reached {got} < claimed {bound:.6g}"


# ============================================================================ registration
def _title(q: dict[str, Any]) -> str:
    return f"training ({q.get('hypothesis')}, {q.get('loss')} loss, N = {q.get('n_samples')})"


def _from_record(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a :class:`mipnet.train.Certificate`."""
    return training_certificate(net, result, **question)


def _from_dict(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a training certificate's dict (it has
    ``data_sha256``; any other dict has no certificate format)."""
    if isinstance(result, dict) and "data_sha256" in result:
        return training_certificate(net, result, **question)
    raise no_certificate_format(type(result[0] if isinstance(result, (list, tuple)) else result).__name__)


def _from_train_result(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a :class:`mipnet.train.TrainResult`."""
    return training_certificate(net, result.certificate, **question)


TRAINING = register(
    Kind(
        "training",
        training_certificate,
        _recheck_training,
        _title,
        (("Certificate", _from_record), ("dict", _from_dict), ("TrainResult", _from_train_result)),
    )
)

__all__ = ["training_certificate", "TRAINING"]
