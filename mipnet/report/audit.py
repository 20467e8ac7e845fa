"""The audit: run the requested checks on a model and write one self-contained HTML report.

:func:`run_audit` verifies the requested properties (independent problems fanned out with
:func:`mipnet.distributed.run_many`: one global monotonicity problem per feature, one robustness
problem per sample, one resilience problem per class), writes one certificate file per property
(:mod:`mipnet.report.certificates`), re-checks every witness with the forward pass and re-proves
every claim on a fresh model (:func:`mipnet.report.recheck.recheck`), and computes the exact local linear
classifiers of the data's activation regions (:func:`mipnet.explain.interpret`).
:func:`render_html` turns the result into a page a non-programmer can read: every figure is a
matplotlib (Agg) PNG embedded as base64, the page needs no script, network or file besides itself.

The page, top to bottom: the verdicts at a glance; the model (layers, a diagram of the surviving
weights and neurons); the training certificate when the model carries one (gap, incumbent and
bound, and their progress over time when the trainer recorded it); accuracy on the data; each
property with its verdict, proved bound and witness; the local linear classifiers in feature names;
the certificate files.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import string
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..deadline import Deadline  # noqa: E402
from ..errors import DataError, MipnetError, SolverError, UnsupportedError  # noqa: E402
from ..layers import Dense  # noqa: E402
from ..network import Network  # noqa: E402
from .certificates import (  # noqa: E402
    CertificateFile,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
    save_certificate,
    training_certificate,
)
from .recheck import RecheckReport, recheck  # noqa: E402

VERDICT_WORDS = {"holds": "holds", "violated": "violated", "unknown": "undecided"}


# ============================================================================ result types
@dataclass
class PropertyResult:
    """One audited property: its verdict, a plain-language sentence, table rows and its certificate."""

    key: str  # monotonicity | robustness | resilience
    name: str
    verdict: str  # holds | violated | unknown
    sentence: str
    rows: list[dict[str, str]]
    certificate: CertificateFile
    recheck: RecheckReport
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    cert_path: str | None = None


@dataclass
class Audit:
    net: Network
    model_name: str
    data_name: str
    X: np.ndarray
    y: Any
    properties: list[PropertyResult]
    training: CertificateFile | None
    training_recheck: RecheckReport | None
    quality: dict[str, Any]
    explanation: dict[str, Any] | None
    time: float
    created: str
    scheduler: str

    @property
    def verdicts(self) -> list[str]:
        return [p.verdict for p in self.properties]


# ============================================================================ tasks (module level: picklable)
# A problem whose verification raises (a solver failure, numerical trouble) is reported as undecided with
# the error as its reason, so that one bad problem does not sink the whole audit.
def _robustness_task(args: tuple) -> Any:
    from ..verify.robustness import RobustnessResult, normalise_norm, verify_sample

    net, x, eps, norm, cls, solver, time_limit, index = args
    try:
        return verify_sample(net, x, eps, norm, cls, solver=solver, time_limit=time_limit, threads=1, index=index)
    except MipnetError as exc:
        c = int(net.predict_index(net.forward(x[None]))[0]) if cls is None else int(cls)
        return RobustnessResult(index, c, (net.class_names or [c])[c], "unknown", float(eps), normalise_norm(norm),
                                solver=solver, status="error", reason=f"verification failed: {exc}")


def _monotonicity_task(args: tuple) -> Any:
    from ..verify.monotonic import FeatureVerdict, GlobalReport, output_coefficients, verify_global

    net, feature, sign, output, versus, solver, time_limit = args
    kw: dict[str, Any] = {"increasing": [feature]} if sign > 0 else {"decreasing": [feature]}
    try:
        return verify_global(net, **kw, output=output, versus=versus, solver=solver, time_limit=time_limit,
                             threads=1)
    except (SolverError, DataError) as exc:
        _, desc = output_coefficients(net, output, versus)
        fv = FeatureVerdict(feature, "increasing" if sign > 0 else "decreasing", "unknown", "exact", None, None,
                            note=f"verification failed: {exc}")
        return GlobalReport([fv], desc, "exact", 0.0, 0, 0, {"solver": solver, "time_limit": time_limit})


def _resilience_task(args: tuple) -> Any:
    from ..verify.resilience import ResilienceResult, class_resilience

    net, m, alpha, k, norm, solver, time_limit = args
    try:
        return class_resilience(net, m, alpha=alpha, k=k, norm=norm, solver=solver, time_limit=time_limit,
                                threads=1)
    except (SolverError, DataError) as exc:
        return ResilienceResult("class", m, str(net.class_names[m]), float(alpha), int(k), norm, "unknown", None,
                                None, None, notes=[f"verification failed: {exc}"])


# ============================================================================ running the checks
def monotone_output(net: Network, output: int | str | None = None) -> tuple[Any, Any]:
    """(output, versus) of the monitored score: the logit; with two logits, logit 1 minus logit 0."""
    if output is not None:
        return output, None
    if net.n_outputs == 1:
        return None, None
    if net.n_outputs == 2 and net.task == "classify":
        return 1, 0
    raise DataError(f"the model has {net.n_outputs} outputs: choose the monitored output (--output)")


def check_request(net: Network, increasing: Sequence[str], decreasing: Sequence[str], eps: float | None,
                  alpha: float | None, k: int | None) -> None:
    """Fail fast (before any solve) on a property the model cannot have."""
    from ..verify.monotonic import resolve_features

    names = set(net.feature_names)
    missing = [f for f in [*increasing, *decreasing] if f not in names]
    if missing:
        shown = ", ".join(net.feature_names[:12]) + (" ..." if len(names) > 12 else "")
        raise DataError(f"the model has no feature(s) {', '.join(map(repr, missing))} (its features: {shown})")
    if increasing or decreasing:
        resolve_features(net, increasing, decreasing)
    if (alpha is None) != (k is None):
        raise DataError("maximum resilience needs both --alpha and --k")
    if (eps is not None or alpha is not None) and net.task != "classify":
        raise UnsupportedError("robustness and resilience are defined for classifiers; this model is a regressor")
    if eps is not None and not (math.isfinite(eps) and eps >= 0):
        raise DataError(f"eps must be a finite number >= 0, got {eps}")
    if not (increasing or decreasing or eps is not None or alpha is not None):
        raise DataError("ask for at least one property: --monotone-increasing/--monotone-decreasing, --eps, "
                        "or --alpha with --k")


def run_audit(net: Network, X: np.ndarray, y: Sequence[Any] | None = None, *, increasing: Sequence[str] = (),
              decreasing: Sequence[str] = (), output: int | str | None = None, eps: float | None = None,
              norm: str = "inf", rows: int = 20, alpha: float | None = None, k: int | None = None,
              resilience_norm: str = "1", solver: str = "highs", time_limit: float = 30.0,
              scheduler: str | None = "serial", workers: int | None = None, cert_dir: str | Path | None = None,
              model_name: str = "model", data_name: str = "data", target: str | None = None,
              explain_regions: int = 3, log: Callable[[str], None] | None = None) -> Audit:
    """Run the requested checks (see the module docstring). ``time_limit`` is per problem.

    ``scheduler``: "serial" (this process), None (a local Dask cluster of ``workers`` processes) or the
    address of a running Dask scheduler. ``cert_dir``: where the certificate files go (None: not written).

    Time: each problem (one robustness row, monotone feature or resilience class) has ``time_limit`` for all it
    does (bounds, model building, solve, re-check); the whole audit has ``time_limit`` x the number of problems.
    The re-proofs of the certificates' claims (:func:`~mipnet.report.recheck.recheck`, a fresh model) share what
    the problems left of that budget (claims left without time are reported as not re-proved).
    """
    from ..distributed import run_many

    say = log or (lambda s: None)
    t0 = time.perf_counter()
    increasing, decreasing = [str(f) for f in increasing], [str(f) for f in decreasing]
    check_request(net, increasing, decreasing, eps, alpha, k)
    X = net._check_input(X)
    out_arg, versus = monotone_output(net, output) if (increasing or decreasing) else (None, None)

    # 1. every independent problem, fanned out together
    tasks: list[tuple[str, Callable[[tuple], Any], tuple]] = []
    sign = [(f, 1) for f in increasing] + [(f, -1) for f in decreasing]
    for f, s in sign:
        tasks.append(("mono", _monotonicity_task, (net, f, s, out_arg, versus, solver, time_limit)))
    rob_rows = np.zeros(0, dtype=int)
    n_outside = 0
    if eps is not None:  # rows spread over the data, among those inside the model's input domain
        inside = np.flatnonzero(net.domain.contains(X, tol=1e-7))
        n_outside = X.shape[0] - inside.size
        if inside.size == 0:
            raise DataError("no row of the data lies inside the model's input domain: robustness cannot be checked")
        rob_rows = inside[np.unique(np.linspace(0, inside.size - 1, min(rows, inside.size)).round().astype(int))]
        for i in rob_rows:
            tasks.append(("rob", _robustness_task, (net, X[i], float(eps), norm, None, solver, time_limit, int(i))))
    n_cls = len(net.class_names or [])
    if alpha is not None:
        assert k is not None  # check_request: alpha and k come together
        for m in range(n_cls):
            tasks.append(("res", _resilience_task, (net, m, float(alpha), int(k), resilience_norm, solver,
                                                    time_limit)))
    total = Deadline(float(time_limit) * max(1, len(tasks)))  # the whole audit's budget
    say(f"{len(tasks)} verification problems on {scheduler or 'a local Dask cluster'}")
    results = run_many(_call, [(fn, a) for _, fn, a in tasks], scheduler=scheduler, n_workers=workers,
                       progress=(lambda d, n: say(f"  {d}/{n} problems done")))
    by_kind: dict[str, list[Any]] = {"mono": [], "rob": [], "res": []}
    for (kind, _, _), r in zip(tasks, results):
        by_kind[kind].append(r)

    cdir = Path(cert_dir) if cert_dir is not None else None
    props: list[PropertyResult] = []
    n_props = int(bool(sign)) + int(eps is not None) + int(alpha is not None)

    def recheck_limit() -> float:  # the re-proofs share what the problems left of the audit's budget
        return total.remaining() / max(1, n_props - len(props))

    if sign:
        props.append(_monotonicity_property(net, by_kind["mono"], increasing, decreasing, out_arg, versus, X,
                                            recheck_limit=recheck_limit()))
    if eps is not None:
        props.append(_robustness_property(net, X, rob_rows, by_kind["rob"], float(eps), norm, solver, time_limit,
                                          target, n_outside, recheck_limit=recheck_limit()))
    if alpha is not None:
        props.append(_resilience_property(net, by_kind["res"], recheck_limit=recheck_limit()))
    for p in props:
        if cdir is not None:
            path = cdir / f"{p.key}.json"
            save_certificate(p.certificate, path)
            p.cert_path = str(path)
    # 2. training certificate in the model's metadata
    training = rc = None
    meta = net.metadata.get("certificate") if isinstance(net.metadata, dict) else None
    if isinstance(meta, dict) and "data_sha256" in meta:
        training = training_certificate(net, meta)
        rc = recheck(training, net, None, second_solver=None, time_limit=total.remaining())
        if cdir is not None:
            save_certificate(training, cdir / "training.json")
    # 3. quality on the data, exact explanation
    quality = _quality(net, X, y)
    explanation = _explanation(net, X, explain_regions)
    now = _dt.datetime.now().astimezone().replace(microsecond=0).isoformat(sep=" ")
    return Audit(net, model_name, data_name, X, y, props, training, rc, quality, explanation,
                 time.perf_counter() - t0, now, scheduler or "local Dask cluster")


def _call(job: tuple[Callable[[tuple], Any], tuple]) -> Any:
    fn, args = job
    return fn(args)


# ============================================================================ properties
def _fmt(v: Any, spec: str = ".4g") -> str:
    if v is None:
        return "-"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    if not math.isfinite(f):
        return str(f)
    return format(f, spec)


def _changes(net: Network, x: np.ndarray, xp: np.ndarray, top: int = 4) -> str:
    """'priors_count 2 -> 3, age 31 -> 30.5' for the largest changes (in feature units)."""
    d = np.abs(xp - x)
    idx = [i for i in np.argsort(-d) if d[i] > 1e-9][:top]
    parts = [f"{net.feature_names[i]} {_fmt(x[i])} &rarr; {_fmt(xp[i])}" for i in idx]
    more = int(np.sum(d > 1e-9)) - len(idx)
    return ", ".join(parts) + (f" (+{more} smaller)" if more > 0 else "") if parts else "no change"


def _monotonicity_property(net: Network, reports: list[Any], increasing: list[str], decreasing: list[str],
                           output: Any, versus: Any, X: np.ndarray, recheck_limit: float = 60.0) -> PropertyResult:
    from ..verify.monotonic import GlobalReport, output_coefficients

    feats = [f for r in reports for f in r.features]
    r0 = reports[0]
    merged = GlobalReport(feats, r0.output, r0.mode, sum(r.build_time for r in reports), r0.n_binaries,
                          r0.n_products, r0.options)
    cert = monotonicity_certificate(net, merged, increasing=increasing, decreasing=decreasing, output=output,
                                    versus=versus)
    coef, desc = output_coefficients(net, output, versus)
    rows, figs = [], []
    for f in feats:
        w = f.witness
        if w is not None:
            l = net.feature_names.index(f.feature)
            wit = (f"{f.feature} {_fmt(w.x[l])} &rarr; {_fmt(w.x_prime[l])} (all else equal) moves the score "
                   f"{_fmt(w.f_x)} &rarr; {_fmt(w.f_x_prime)}")
        else:
            wit = html.escape(f.note) if f.status == "unknown" and f.note else "-"
        rows.append({"feature": html.escape(f.feature), "direction": f.direction, "verdict": f.status,
                     "bound": _fmt(f.bound), "witness": wit, "how": html.escape(f.how or ""),
                     "time": f"{f.solve_time:.2f}&nbsp;s"})
        figs.append((f"The score along {f.feature}", _png(_profile_figure(net, coef, desc, f, X))))
    n_bad = sum(f.status == "violated" for f in feats)
    n_unk = sum(f.status == "unknown" for f in feats)
    sentence = (f"The {html.escape(desc)} is proved monotone in every one of the {len(feats)} feature(s) on the "
                f"whole input domain." if merged.status == "holds" else
                f"{n_bad} of {len(feats)} feature(s) violate the required direction (a concrete pair of inputs "
                f"shows it)" + (f"; {n_unk} undecided within the time limit." if n_unk else ".")
                if n_bad else f"{n_unk} of {len(feats)} feature(s) undecided within the time limit.")
    return PropertyResult("monotonicity", "Monotonicity (global, whole domain)", merged.status, sentence, rows,
                          cert, recheck(cert, net, second_solver=None, time_limit=recheck_limit), figs)


def _robustness_property(net: Network, X: np.ndarray, rows_idx: np.ndarray, results: list[Any], eps: float,
                         norm: str, solver: str, time_limit: float, target: str | None,
                         n_outside: int = 0, recheck_limit: float = 60.0) -> PropertyResult:
    from ..verify.robustness import normalise_norm

    norm = normalise_norm(norm)
    Xs = X[rows_idx]
    for j, r in enumerate(results):
        r.index = j  # position in the certificate's sample list (the data row is in the table)
    cert = robustness_certificate(net, Xs, results, eps=eps, norm=norm, solver=solver,
                                  options={"time_limit": time_limit}, target=target, rows=rows_idx.tolist())
    rows = []
    for i, r in zip(rows_idx, results):
        wit = html.escape(r.reason) if r.verdict == "unknown" and r.reason else "-"
        if r.counterexample is not None:
            wit = f"class {html.escape(str(r.label))} &rarr; {html.escape(str(r.adversarial_class))}: " + \
                  _changes(net, X[i], np.asarray(r.counterexample))
        rows.append({"row": str(int(i)), "class": html.escape(str(r.label)), "verdict": r.verdict,
                     "bound": _fmt(r.bound), "witness": wit, "time": f"{r.time:.2f}&nbsp;s"})
    counts = {v: sum(r.verdict == v for r in results) for v in ("holds", "violated", "unknown")}
    ball = (f"every input within {'L-inf' if norm == 'inf' else 'L1'} distance {eps:g} that lies in the model's "
            "input domain (the ball intersected with the domain)")
    sentence = (f"Of {len(results)} data rows, {counts['holds']} keep their class for {ball} (proved), "
                f"{counts['violated']} change class for some such input (shown), {counts['unknown']} undecided.")
    if n_outside:
        sentence += (f" ({n_outside} data row(s) lie outside the model's input domain, the range it was built for, "
                     "and were not audited.)")
    verdict = cert.status
    fig = _robustness_figure(results, eps)
    return PropertyResult("robustness", f"Robustness (eps = {eps:g})", verdict, sentence, rows, cert,
                          recheck(cert, net, second_solver=None, time_limit=recheck_limit),
                          [("Worst-case margins", _png(fig))])


def _resilience_property(net: Network, results: list[Any], recheck_limit: float = 60.0) -> PropertyResult:
    cert = resilience_certificate(net, results)
    rows = []
    for r in results:
        wit = "-"
        if r.a is not None and r.b is not None:
            wit = _changes(net, np.asarray(r.a), np.asarray(r.b))
        rows.append({"class": html.escape(r.class_name), "verdict": "holds" if r.status in ("optimal", "infeasible")
                     else "unknown", "Phi": _fmt(r.phi), "bound": _fmt(r.bound),
                     "gap": "-" if r.gap is None else f"{100 * r.gap:.2f} %", "witness": wit,
                     "time": f"{r.timings.get('total', 0.0):.2f}&nbsp;s"})
    r0 = results[0]
    vals = [r.phi for r in results if r.phi is not None]
    sentence = (f"The smallest change (L{r0.norm} norm) that takes a confidently classified input (logit margin "
                f">= ln {r0.alpha:g}) to at least {r0.k} other class(es) is "
                f"{_fmt(min(vals)) if vals else 'not found'}; the per-class values below are "
                f"{'all proved optimal' if cert.status == 'holds' else 'not all proved (see the gaps)'}.")
    return PropertyResult("resilience", f"Maximum resilience (alpha = {r0.alpha:g}, k = {r0.k})", cert.status,
                          sentence, rows, cert, recheck(cert, net, second_solver=None, time_limit=recheck_limit))


# ============================================================================ quality and explanation
def _quality(net: Network, X: np.ndarray, y: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"n_rows": int(X.shape[0])}
    if net.task == "classify":
        assert net.class_names is not None  # a classifier has class names
        pred = net.predict_index(net.forward(X))
        q["predicted"] = {str(c): int(np.sum(pred == i)) for i, c in enumerate(net.class_names)}
        if y is not None:
            from ..verify.robustness import class_indices

            try:
                yi = class_indices(net, list(y))
            except DataError as exc:
                q["note"] = f"accuracy not computed: {exc}"
                return q
            q["accuracy"] = float(np.mean(pred == yi))
            q["confusion"] = [[int(np.sum((yi == a) & (pred == b))) for b in range(len(net.class_names))]
                              for a in range(len(net.class_names))]
    elif y is not None:
        yv = np.asarray(y, dtype=np.float64)
        f = net.forward(X)[:, 0]
        q["mae"] = float(np.mean(np.abs(f - yv)))
        ss = float(np.sum((yv - yv.mean()) ** 2))
        q["r2"] = 1.0 - float(np.sum((f - yv) ** 2)) / ss if ss > 0 else None
    return q


def _explanation(net: Network, X: np.ndarray, top: int) -> dict[str, Any] | None:
    from ..explain import interpret

    try:
        interp = interpret(net, X)
    except UnsupportedError as exc:
        return {"note": f"no exact explanation: {exc}"}
    regions = []
    sd = X.std(axis=0)
    for k in range(min(top, interp.n_regions)):
        w, b = interp.margin(k)
        eff = w * np.where(sd > 0, sd, 1.0)
        order = [i for i in np.argsort(-np.abs(eff)) if abs(w[i]) > 1e-12][:8]
        regions.append({"k": k, "count": int(interp.counts[k]), "share": float(interp.counts[k] / X.shape[0]),
                        "bias": b, "terms": [(net.feature_names[i], float(w[i]), float(eff[i])) for i in order],
                        "n_nonzero": int(np.sum(np.abs(w) > 1e-12)),
                        "figure": _png(_region_figure(net, w, eff, k, interp)) if order else None})
    ex = interp.exactness(X)
    return {"n_regions": interp.n_regions, "regions": regions, "exactness": ex,
            "score": "logit 1 minus logit 0" if net.n_outputs == 2 else "the logit" if net.n_outputs == 1
            else "the margin of the region's top class"}


# ============================================================================ figures
def _png(fig: Figure) -> bytes:
    from ..explain.figures import to_png

    return to_png(fig, dpi=100)


def _dense_chain(net: Network) -> list[Dense] | None:
    """The Dense layers when the net is a plain MLP (elementwise layers in between), else None."""
    from ..layers import Normalize

    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    plain = all(isinstance(layer, (Dense, Normalize)) or layer.activation for layer in net.layers)
    return dense if dense and plain else None


def sparsity_figure(net: Network) -> Figure:
    """The surviving weights and neurons: a node-link diagram of an MLP (red positive, blue negative,
    line width ~ |w|; grey hollow = unused input or dead neuron), else one 'spy' panel per weight tensor."""
    dense = _dense_chain(net)
    if dense is not None and max([dense[0].in_features] + [d.out_features for d in dense]) <= 60:
        return _graph_figure(net, dense)
    mats = [(i, w.reshape(w.shape[0], -1)) for i, layer in enumerate(net.layers)
            if (w := getattr(layer, "weight", None)) is not None]
    fig = Figure(figsize=(3.2 * len(mats) + 1, 3.4))
    axes = fig.subplots(1, len(mats), squeeze=False)[0]
    for ax, (i, W) in zip(axes, mats):
        ax.imshow(W != 0, cmap="Greys", aspect="auto", interpolation="nearest")
        ax.set_title(f"layer {i}: {np.count_nonzero(W)}/{W.size} weights", fontsize=9)
        ax.set_xlabel("input")
        ax.set_ylabel("output")
    fig.tight_layout()
    return fig


def _graph_figure(net: Network, dense: list[Dense]) -> Figure:
    sizes = [dense[0].in_features] + [d.out_features for d in dense]
    used_in = np.abs(dense[0].weight).sum(axis=0) > 0
    alive = [used_in]
    for a, b in zip(dense[:-1], dense[1:]):
        alive.append((np.abs(a.weight).sum(axis=1) > 0) & (np.abs(b.weight).sum(axis=0) > 0))
    alive.append(np.ones(dense[-1].out_features, dtype=bool))
    height = max(3.0, 0.28 * max(sizes) + 1.0)
    fig = Figure(figsize=(2.6 * len(sizes) + 2.5, height))
    ax = fig.subplots()
    ys = [np.linspace(1, 0, n) if n > 1 else np.array([0.5]) for n in sizes]
    wmax = max(float(np.abs(d.weight).max()) for d in dense) or 1.0
    for li, d in enumerate(dense):
        rows, cols = np.nonzero(d.weight)
        for r, c in zip(rows, cols):
            w = d.weight[r, c]
            ax.plot([li, li + 1], [ys[li][c], ys[li + 1][r]], color="tab:red" if w > 0 else "tab:blue",
                    lw=0.4 + 2.6 * abs(w) / wmax, alpha=0.35 + 0.5 * abs(w) / wmax, zorder=1)
    for li, n in enumerate(sizes):
        on = alive[li]
        ax.scatter(np.full(n, li)[on], ys[li][on], s=70, color="#2b3a4a", zorder=2)
        ax.scatter(np.full(n, li)[~on], ys[li][~on], s=70, facecolors="white", edgecolors="#b0b7bf", zorder=2)
    if sizes[0] <= 60:
        for j, name in enumerate(net.feature_names):
            ax.text(-0.08, ys[0][j], name, ha="right", va="center", fontsize=7,
                    color="#1d2228" if used_in[j] else "#a0a7af")
    outs = [str(c) for c in net.output_names]
    for j, name in enumerate(outs):
        ax.text(len(sizes) - 1 + 0.08, ys[-1][j], name, ha="left", va="center", fontsize=8)
    labels = ["inputs"] + [f"hidden {i + 1}\n{int(alive[i + 1].sum())}/{sizes[i + 1]} alive"
                           for i in range(len(sizes) - 2)] + ["output"]
    for li, lab in enumerate(labels):
        ax.text(li, 1.08, lab, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-1.6, len(sizes) - 1 + 0.9)
    ax.set_ylim(-0.06, 1.22)
    ax.axis("off")
    nz = sum(int(np.count_nonzero(d.weight)) for d in dense)
    tot = sum(d.weight.size for d in dense)
    ax.set_title(f"surviving weights: {nz} of {tot} (red positive, blue negative; hollow = unused / dead)",
                 fontsize=9)
    return fig


def progress_points(cert: dict[str, Any]) -> list[tuple[float, float | None, float | None]]:
    """(seconds, incumbent, bound) points from a training certificate's ``progress`` or ``trace`` field
    (items as dicts with time/incumbent/bound or as triples, like :attr:`mipnet.solve.Result.trace`)."""
    raw = cert.get("progress") or cert.get("trace") or []
    out = []
    for p in raw if isinstance(raw, list) else []:
        if isinstance(p, dict):
            p = (p.get("time"), p.get("incumbent"), p.get("bound"))
        if isinstance(p, (list, tuple)) and len(p) == 3 and p[0] is not None:
            out.append((float(p[0]), None if p[1] is None else float(p[1]), None if p[2] is None else float(p[2])))
    return out


def training_figure(cert: dict[str, Any]) -> Figure:
    """Incumbent and bound over time when the trainer recorded them (``progress``), else the final interval."""
    pts = progress_points(cert)
    fig = Figure(figsize=(7.5, 3.0))
    ax = fig.subplots()
    if pts:
        t = [p[0] for p in pts]
        ax.step(t, [np.nan if p[1] is None else p[1] for p in pts], where="post",
                label="incumbent (best network found)")
        ax.step(t, [np.nan if p[2] is None else p[2] for p in pts], where="post",
                label="bound (no network can do better)")
        ax.set_xlabel("seconds")
        ax.set_ylabel("objective")
        ax.legend(fontsize=8)
        ax.set_title("progress of the training solver", fontsize=9)
    else:
        inc, bnd = cert.get("incumbent"), cert.get("bound")
        inc = float(inc) if inc is not None else float("nan")
        bnd = float(bnd) if bnd is not None else float("nan")
        ax.barh([0], [inc - bnd if math.isfinite(bnd) else 0.0], left=[bnd if math.isfinite(bnd) else inc],
                height=0.4, color="#f2c6a0", label="gap")
        ax.plot([inc], [0], "o", color="tab:red", label=f"incumbent {inc:.4g} (the model's objective)")
        if math.isfinite(bnd):
            ax.plot([bnd], [0], "|", ms=30, mew=3, color="tab:green", label=f"proved bound {bnd:.4g}")
        ax.set_yticks([])
        ax.set_xlabel("training objective (lower is better)")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
        ax.set_title("final certificate: no network of this class has an objective below the bound", fontsize=9)
    fig.tight_layout()
    return fig


def _profile_figure(net: Network, coef: np.ndarray, desc: str, verdict: Any, X: np.ndarray) -> Figure:
    """The score along the feature, all else fixed: through the witness pair, or at the data's median row."""
    l = net.feature_names.index(verdict.feature)
    dom = net.domain
    base = np.asarray(verdict.witness.x) if verdict.witness is not None else X[np.argsort(X[:, l])[len(X) // 2]]
    lo = dom.lower[l] if np.isfinite(dom.lower[l]) else X[:, l].min()
    hi = dom.upper[l] if np.isfinite(dom.upper[l]) else X[:, l].max()
    grid = np.arange(math.ceil(lo), math.floor(hi) + 1) if dom.integer[l] and hi - lo <= 400 else \
        np.linspace(lo, hi, 200)
    P = np.repeat(base[None], grid.size, axis=0)
    P[:, l] = grid
    f = net.forward(P) @ coef
    fig = Figure(figsize=(5.2, 2.8))
    ax = fig.subplots()
    ax.plot(grid, f, "-o" if grid.size <= 40 else "-", ms=3, color="#2b3a4a")
    if verdict.witness is not None:
        w = verdict.witness
        ax.plot([w.x[l], w.x_prime[l]], [w.f_x, w.f_x_prime], "o", color="tab:red", ms=7,
                label="witness pair")
        ax.legend(fontsize=8)
    ax.set_xlabel(verdict.feature)
    ax.set_ylabel("score")
    where = "through the witness" if verdict.witness is not None else "at a typical data row"
    ax.set_title(f"{desc} vs {verdict.feature} ({where}): {verdict.status}", fontsize=9)
    fig.tight_layout()
    return fig


def _robustness_figure(results: list[Any], eps: float) -> Figure:
    fig = Figure(figsize=(7.5, 2.8))
    ax = fig.subplots()
    colors = {"holds": "tab:green", "violated": "tab:red", "unknown": "tab:orange"}
    for j, r in enumerate(results):
        val = r.bound if r.verdict == "holds" else (r.margin_forward if r.margin_forward is not None else r.margin)
        if val is None:
            continue
        ax.bar(j, val, color=colors.get(r.verdict, "grey"))
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("audited row (in table order)")
    ax.set_ylabel("margin")
    ax.set_title(f"green: proved lower bound of the margin within eps = {eps:g} (> 0 = robust); "
                 "red: margin of the counterexample", fontsize=8)
    fig.tight_layout()
    return fig


def _region_figure(net: Network, w: np.ndarray, eff: np.ndarray, k: int, interp: Any) -> Figure:
    order = [i for i in np.argsort(-np.abs(eff)) if abs(w[i]) > 1e-12][:10][::-1]
    fig = Figure(figsize=(5.6, max(1.6, 0.3 * len(order) + 0.9)))
    ax = fig.subplots()
    ax.barh(np.arange(len(order)), [eff[i] for i in order],
            color=["tab:red" if eff[i] > 0 else "tab:blue" for i in order])
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels([net.feature_names[i] for i in order], fontsize=8)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("effect of a one-standard-deviation increase on the score", fontsize=8)
    ax.set_title(f"region {k + 1}: {int(interp.counts[k])} rows", fontsize=9)
    fig.tight_layout()
    return fig


# ============================================================================ HTML
def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _badge(verdict: str) -> str:
    cls = verdict if verdict in ("holds", "violated") else "unknown"
    return f'<span class="verdict {cls}">{VERDICT_WORDS.get(verdict, html.escape(verdict))}</span>'


def _table(rows: list[dict[str, str]], numeric: Sequence[str] = ()) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c == "verdict":
                cells.append(f"<td>{_badge(v)}</td>")
            else:
                cells.append(f'<td class="num">{v}</td>' if c in numeric else f"<td>{v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _section_summary(a: Audit) -> str:
    items = []
    for p in a.properties:
        items.append(f"<tr><td>{html.escape(p.name)}</td><td>{_badge(p.verdict)}</td></tr>")
    if a.training is not None:
        g = a.training.answer.get("gap")
        items.append(f"<tr><td>Training certificate</td><td>{html.escape(str(a.training.status))}, gap "
                     f"{'-' if g is None else f'{100 * float(g):.2f} %'}</td></tr>")
    if "accuracy" in a.quality:
        items.append(f"<tr><td>Accuracy on {html.escape(a.data_name)}</td><td>{100 * a.quality['accuracy']:.1f} %"
                     f" of {a.quality['n_rows']} rows</td></tr>")
    return ('<div class="box"><h3>At a glance</h3><table class="summary">' + "".join(items) + "</table>"
            '<p class="muted">"holds" means proved for every input the property covers, not only tested; '
            '"violated" means a concrete input shows the problem; "undecided" means the solver ran out of time.'
            "</p></div>")


def _section_model(a: Audit) -> str:
    net = a.net
    rows = []
    for i, layer in enumerate(net.layers):
        rows.append({"#": str(i), "layer": html.escape(layer.kind), "output shape": html.escape(str(net.shapes[i + 1])),
                     "parameters": str(layer.n_params()), "non-zero": str(layer.n_nonzero())})
    units = net.active_units()
    alive = "; ".join(f"layer {u['layer']}: {u['active']} of {u['total']} {u['kind']} in use" for u in units)
    return (f"<h2>1. The model</h2><p>A {html.escape(net.task == 'classify' and 'classifier' or 'regressor')} "
            f"with {net.n_inputs} input features, {len(net.layers)} layers and {net.n_nonzero()} of "
            f"{net.n_weights()} weights non-zero (biases and input scaling not counted). {html.escape(alive)}.</p>"
            f"{_table(rows, ('parameters', 'non-zero'))}{_img(_png(sparsity_figure(net)), 'sparsity diagram')}"
            f"<p class=\"muted\">Model fingerprint (SHA-256): <code>{net.fingerprint()}</code></p>")


def _section_training(a: Audit) -> str:
    if a.training is None:
        return ("<h2>2. Training certificate</h2><p>The model file carries no training certificate (it was not "
                "trained by mipnet's MILP trainer, or the certificate was removed).</p>")
    c = a.training
    ans, q = c.answer, c.question
    g = ans.get("gap")
    terms = ans.get("terms") or {}
    rows = [{"term": html.escape(k), "value": _fmt(v, ".6g")} for k, v in terms.items()]
    meta = a.net.metadata.get("certificate", {})
    prog = "" if progress_points(meta) else (
        '<p class="muted">The trainer did not record the incumbent and the bound over time; '
        'the final values are shown.</p>')
    rc = a.training_recheck
    rc_line = "" if rc is None else (f"<p>Independent re-check (objective recomputed from the weights; bound re-proved "
                                     f"by a fresh solve where the training rows are at hand): <b>{rc.status}</b>"
                                     + (f" ({html.escape('; '.join(rc.problems()))})" if rc.problems() else "")
                                     + "</p>")
    return (f"<h2>2. Training certificate</h2><p>The weights were found by solving the training problem "
            f"({html.escape(str(q.get('hypothesis')))} network class, {html.escape(str(q.get('loss')))} loss, "
            f"{q.get('n_samples')} training rows) with {html.escape(str(c.solver.get('name')))} "
            f"{html.escape(str(c.solver.get('version')))}. Status <b>{html.escape(str(c.status))}</b>: "
            f"objective {_fmt(ans.get('incumbent'), '.6g')}, proved bound {_fmt(ans.get('bound'), '.6g')}, gap "
            f"{'-' if g is None else f'{100 * float(g):.2f} %'} (0 % = no better network of this class exists), "
            f"{_fmt(ans.get('time'), '.1f')} s.</p>{_table(rows, ('value',))}"
            f"{_img(_png(training_figure(meta)), 'training certificate')}{prog}{rc_line}")


def _section_quality(a: Audit) -> str:
    q = a.quality
    out = [f"<h2>3. Accuracy on the data</h2><p>{q['n_rows']} rows of <code>{html.escape(a.data_name)}</code>."]
    if "accuracy" in q:
        out.append(f" The model classifies <b>{100 * q['accuracy']:.1f} %</b> of them correctly.</p>")
        assert a.net.class_names is not None  # accuracy is computed for classifiers
        names = [str(c) for c in a.net.class_names]
        rows = [{"true class": html.escape(n), **{f"predicted {html.escape(m)}": str(v)
                                                 for m, v in zip(names, q["confusion"][i])}}
                for i, n in enumerate(names)]
        out.append(_table(rows, tuple(f"predicted {html.escape(m)}" for m in names)))
    elif "mae" in q:
        out.append(f" Mean absolute error {q['mae']:.4g}" + (f", R<sup>2</sup> {q['r2']:.3f}" if q.get("r2") is not None
                                                             else "") + ".</p>")
    else:
        out.append(" " + html.escape(q.get("note", "The data have no target column: accuracy is not computed."))
                   + "</p>")
    if "predicted" in q:
        out.append("<p>Predictions: " + ", ".join(f"{html.escape(k)}: {v}" for k, v in q["predicted"].items())
                   + ".</p>")
    return "".join(out)


def _section_properties(a: Audit) -> str:
    out = ["<h2>4. Properties</h2>"]
    if not a.properties:
        out.append("<p>No property was requested.</p>")
    for p in a.properties:
        rc = p.recheck
        out.append(f"<h3>{html.escape(p.name)} {_badge(p.verdict)}</h3><p>{p.sentence}</p>")
        out.append(_table(p.rows, ("bound", "Phi", "time")))
        out.append(f"<p class=\"muted\">Re-checked independently (witnesses with the network's own arithmetic, "
                   f"'holds' claims re-proved by a fresh solve on a model rebuilt from the weights): "
                   f"<b>{rc.status}</b>" + (f" ({html.escape('; '.join(rc.problems()))})" if rc.problems() else "")
                   + f". Solver: {html.escape(str(p.certificate.solver.get('name')))} "
                   f"{html.escape(str(p.certificate.solver.get('version')))}. Certificate: "
                   f"<code>{html.escape(Path(p.cert_path).name if p.cert_path else 'not written')}</code>.</p>")
        if p.figures:
            out.append("<details open><summary>Figures</summary>" + "".join(_img(png, t) for t, png in p.figures)
                       + "</details>")
    return "".join(out)


def _section_explanation(a: Audit) -> str:
    e = a.explanation
    out = ["<h2>5. How the model decides: local linear rules</h2>"]
    if e is None or "regions" not in e:
        out.append(f"<p>{html.escape((e or {}).get('note', 'not available'))}</p>")
        return "".join(out)
    ex = e["exactness"]
    classes = a.net.class_names or []  # a classifier's, used only when a.net.task == "classify"
    out.append(f"<p>On the data the network behaves like {e['n_regions']} simple linear rules, one per region of "
               f"inputs that switch on the same neurons. Within a region the score ({html.escape(e['score'])}) is "
               f"exactly a weighted sum of the features; a positive score means class "
               f"<b>{html.escape(str(classes[-1])) if a.net.task == 'classify' else 'higher'}</b>. "
               f"These rules reproduce the network exactly on {100 * ex['exact_fraction']:.0f} % of the rows "
               f"(largest difference {ex['max_abs_error']:.2g}). The largest regions:</p>")
    for r in e["regions"]:
        terms = " ".join(f"{'+' if w >= 0 else '&minus;'} {abs(w):.3g}&middot;{html.escape(n)}"
                         for n, w, _ in r["terms"])
        more = r["n_nonzero"] - len(r["terms"])
        out.append(f"<h3>Region {r['k'] + 1}: {r['count']} rows ({100 * r['share']:.0f} %)</h3>"
                   f"<p><code>score = {r['bias']:.3g} {terms}{f' + {more} more' if more > 0 else ''}</code></p>"
                   + (_img(r["figure"], "region rule") if r["figure"] is not None else
                      "<p>The score is constant here: no feature changes it within this region (every hidden "
                      "neuron it passes through is off).</p>"))
    return "".join(out)


def _section_certificates(a: Audit) -> str:
    rows = []
    for p in a.properties:
        rows.append({"property": html.escape(p.name), "file": html.escape(p.cert_path or "not written"),
                     "seal (SHA-256)": f"<code>{p.certificate.compute_seal()[:16]}...</code>"})
    if a.training is not None:
        rows.append({"property": "training", "file": html.escape(
            str(Path(a.properties[0].cert_path).parent / "training.json") if a.properties and a.properties[0].cert_path
            else "not written"), "seal (SHA-256)": f"<code>{a.training.compute_seal()[:16]}...</code>"})
    return ("<h2>6. Certificate files</h2><p>Each file records the question, the model's and the data's "
            "SHA-256, the solver and the answer with its witnesses. Anyone can re-check them against the model: "
            "<code>mipnet recheck FILE.json MODEL [DATA.csv]</code>.</p>" + _table(rows))


def render_html(a: Audit) -> str:
    """The self-contained page (a string) of an audit."""
    from .. import __version__

    template = resources.files("mipnet.report").joinpath("templates").joinpath("report.html")
    tpl = string.Template(template.read_text("utf-8"))
    body = "".join([_section_summary(a), _section_model(a), _section_training(a), _section_quality(a),
                    _section_properties(a), _section_explanation(a), _section_certificates(a)])
    subtitle = (f"Model <code>{html.escape(a.model_name)}</code>, data <code>{html.escape(a.data_name)}</code>; "
                f"{len(a.properties)} propert{'y' if len(a.properties) == 1 else 'ies'} checked in {a.time:.1f} s "
                f"({html.escape(a.scheduler)}).")
    return tpl.substitute(title=html.escape(f"Audit of {a.model_name}"), subtitle=subtitle, body=body,
                          created=html.escape(a.created), mipnet_version=__version__)


def write_report(a: Audit, path: str | Path) -> Path:
    from ..io.atomic import atomic_write_text

    p = Path(path)
    atomic_write_text(p, render_html(a))
    return p


def default_cert_dir(report: str | Path) -> Path:
    """``report.html`` -> ``report-certificates/`` beside it."""
    p = Path(report)
    return p.with_name(p.stem + "-certificates")


def run_demo_audit(net: Network, X: Any, y: Sequence[Any] | None, output: str | Path, *,
                   increasing: Sequence[str] = (), decreasing: Sequence[str] = (), eps: float | None = None,
                   rows: int = 10, time_limit: float = 20.0, scheduler: str | None = "serial",
                   workers: int | None = None, model_name: str = "demo model", data_name: str = "held-out data",
                   log: Callable[[str], None] | None = print) -> Audit:
    """The audit step of ``mipnet demo``: verify, explain and write ``output`` (HTML) with its certificates.

    ``X`` is a matrix or a DataFrame with the model's feature columns. Returns the :class:`Audit`.
    """
    if hasattr(X, "columns"):
        from ..tabular import features_for

        X = features_for(net, X)
    a = run_audit(net, X, y, increasing=increasing, decreasing=decreasing, eps=eps, rows=rows,
                  time_limit=time_limit, scheduler=scheduler, workers=workers, cert_dir=default_cert_dir(output),
                  model_name=model_name, data_name=data_name, log=log)
    write_report(a, output)
    if log is not None:
        for p in a.properties:
            log(f"{p.name}: {p.verdict}")
        log(f"wrote {output} (certificates in {default_cert_dir(output)})")
    return a


__all__ = ["Audit", "PropertyResult", "run_audit", "render_html", "write_report", "run_demo_audit",
           "sparsity_figure", "training_figure", "default_cert_dir", "check_request", "monotone_output"]
