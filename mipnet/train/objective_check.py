"""The training objective check: what the solver proved, and every objective term recomputed with numpy.

(Formerly ``mipnet.train.certificate``, which re-exports everything here; the certificate *file* of a training
result and its solver-independent re-check are :mod:`mipnet.certificates.training`.)

A :class:`Certificate` records what the solver proved (status, incumbent, best bound, gap, wall time,
nodes, solver and version) about which problem (hypothesis class, loss, coefficients, N, SHA-256 of
the training data), and every objective term *recomputed with numpy* from the returned network and
the data:

    loss     = (1/N) sum_n loss_n   with, on the outputs f of the network (raw features in):
               hinge:            max(0, m - y_n f(x_n)),       y_n = +1 for the second class, else -1
               multiclass_hinge: max(0, m + max_{k != y_n} f_k(x_n) - f_{y_n}(x_n))
               logistic:         log(1 + exp(-y_n f(x_n)))  (the margin m is not used)
               zero_one:         [margin_n < m - 1e-6]  (margin_n the quantity of the hinge; a margin
                                 within the solvers' feasibility tolerance of m counts as met, as in
                                 the MILP, where the optimum puts margins exactly on m)
               l1 / squared:     |r_n| / r_n^2,  r_n = (f(x_n) - y_n) / sigma_y  (standardised target)
    l1       = c_1 sum |W|,  l2 = c_2 sum W^2,  l0 = c_0 #{W != 0}   over every Dense and Conv2D weight
               (no biases); the linear term's units (``metadata["linear_units"]``, :mod:`.linear_term`) count
               their weights w0 once (not the copy -w0 nor the out-weights +-1), as the MILP does
    neurons  = c_n #{hidden units with a nonzero in-weight, bias or out-weight}, the linear units left out
    layers   = c_l #{hidden Dense layers of the network}  (a layer the trainer switched off is the
               identity and is not in the returned network, so this is a plain count)
    channels = c_ch #{conv channels with a nonzero filter weight, bias or outgoing weight}

``terms`` are these true values; ``model_terms`` are the solver model's values at the same network.
They agree to 1e-6 except for terms the model writes as a tangent outer approximation (HiGHS: l2,
squared loss; every solver: the logistic loss), where model <= true. When the model's point is the solver's own
(or a weights-fixed MIP's) rather than the LP at the returned weights, its epigraph auxiliaries (|w|, hinge
slacks) need not be tight: ``formulation["model_point"] == "not tight"`` records it, and then model >= true
is what is checked (the outer-approximated terms are not compared). ``incumbent`` is the true objective of the
returned network, ``bound`` the best proved lower bound (valid also for an outer approximation, which only lowers
the optimum), ``gap = (incumbent - bound) / |incumbent|``. ``bound_source`` says which: the solver's
("milp"), the sample groups' ("groups") or, sign class with the hinge loss, the dual bound of
:mod:`.dual_bound` ("dual: transport" / "dual: hybrid" / "dual: column generation", also when the MILP was
not built in time); ``dual_bound`` records the latter's multipliers so that it is re-checked without trust
(:func:`mipnet.certificates.training._dual_claim`).

Training on a random subsample (``max_samples``, ``mipnet train --samples``) records the chosen rows:
``rows`` (indices into the full data, sorted) and ``source_rows`` (the full data's row count), so that the
certificate can be re-checked on the full data file (``data_sha256`` is the hash of the selected rows).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError
from ..layers import Weighted
from ..network import Network
from .logistic import logistic_loss

TOLERANCE = 1e-6
#: margins within this distance below m count as met by the 0-1 loss (the solvers' feasibility tolerance)
ZERO_ONE_TIE = 1e-6
TERMS = ("loss", "l1", "l2", "l0", "neurons", "layers", "channels")


def _label_text(v: Any) -> str:
    """A target's text in the hash: a whole float as its integer (a regression target 1.0 as the trainer holds
    it, 1 as a CSV column of whole numbers reads: the genuine certificate was refuted as "other data")."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53:
        return str(int(v))
    return str(v)


def data_hash(X: np.ndarray, y: np.ndarray, legacy: bool = False) -> str:
    """SHA-256 of the training data: float64 feature matrix (C order, with its shape) and the targets
    (:func:`_label_text`; ``legacy``: ``str`` of each, as certificates before that rule hashed them)."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    h = hashlib.sha256()
    h.update(f"{X.shape}".encode())
    h.update(X.tobytes())
    text = str if legacy else _label_text
    h.update("\x1f".join(text(v) for v in np.asarray(y).ravel().tolist()).encode())
    return h.hexdigest()


def row_hash(x: np.ndarray) -> str:
    """SHA-256 of one data row's own values (float64, as in :func:`data_hash`): binds a certified sample to
    its row of the data file."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64).ravel())
    return hashlib.sha256(f"{x.shape}".encode() + x.tobytes()).hexdigest()


@dataclass
class Certificate:
    status: str
    incumbent: float | None
    bound: float | None
    gap: float | None
    terms: dict[str, float]
    model_terms: dict[str, float]
    solver_incumbent: float | None
    wall_time: float
    solve_time: float
    nodes: int | None
    solver: str
    solver_version: str
    n_samples: int
    data_sha256: str
    hypothesis: str
    loss: str
    margin: float
    coefficients: dict[str, float]
    task: str
    classes: list[Any] | None = None
    target_scale: float = 1.0
    outer_approximated: list[str] = field(default_factory=list)
    formulation: dict[str, Any] = field(default_factory=dict)
    warm_start_objective: float | None = None
    heuristic_objective: float | None = None
    group_bound: dict[str, Any] | None = None
    #: [seconds, incumbent, bound] as the solver went (the model's objective; HiGHS's MIP callback)
    trace: list[list[float | None]] = field(default_factory=list)
    #: the rows of the full data trained on (a random subsample), None = every row; ``source_rows`` its row count
    rows: list[int] | None = None
    source_rows: int | None = None
    #: where ``bound`` comes from: "milp" (the solver), "groups" (sample groups), "dual: transport" /
    #: "dual: hybrid" / "dual: column generation" (:mod:`.dual_bound`); None = no bound
    bound_source: str | None = None
    #: the dual bound's record (sign class, hinge): its value and what re-checks it without trusting it, the
    #: transport plan ``pairs`` [[i, j, pi]] (rows i with y = +1, j with y = -1), extra multipliers ``rows``
    #: [[n, alpha]], the scale ``t`` and, with ``rows``, the ``pricing`` bound used (mipnet.certificates.training)
    dual_bound: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("incumbent", "bound", "gap", "solver_incumbent"):
            if d[k] is not None and not math.isfinite(d[k]):
                d[k] = None
        if d["classes"] is not None:
            d["classes"] = [c if isinstance(c, (int, float, str, bool)) else str(c) for c in d["classes"]]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Certificate":
        return cls(**d)

    @property
    def objective(self) -> float:
        return float(sum(self.terms.values()))

    def _selection_lines(self) -> list[str]:
        sel = (self.formulation or {}).get("penalty_selection")
        if not sel:
            return []
        from .penalty_cv import selection_method, selection_score

        grid = ", ".join(f"{c:g}" for c in sel["grid"])
        return [f"l1 chosen     {sel['l1']:g} of {grid} by {selection_method(sel)}, {selection_score(sel)}"]

    def _constraint_lines(self) -> list[str]:
        """The domain constraints' numpy checks (:mod:`.constraints`), one line each."""
        recs = (self.formulation or {}).get("domain_constraints") or []
        return [
            f"constraint    {r['constraint']}: {'holds' if r['holds'] else 'VIOLATED'} (measured {r['measured']:.6g})"
            for r in recs
        ]

    def lines(self) -> list[str]:
        """A readable summary, one fact per line."""

        def f(v: float | None, fmt: str = ".6g") -> str:
            return "n/a" if v is None else format(v, fmt)

        out = [
            f"status        {self.status}",
            f"objective     {f(self.incumbent)}  (best bound {f(self.bound)}"
            + (f" from {self.bound_source}" if self.bound_source else "")
            + f", gap {'n/a' if self.gap is None else format(self.gap * 100, '.2f') + ' %'})",
        ]
        for k, v in self.terms.items():
            extra = ""
            if k in self.outer_approximated and k in self.model_terms:  # (the cutting planes keep no model value)
                extra = f"  (model {self.model_terms[k]:.6g}, outer approx.)"
            out.append(f"  {k:12s}{v:.6g}{extra}")
        out += [
            f"class         {self.hypothesis}, loss {self.loss} "
            + (
                "(of the standardised target: the target minus its mean, divided by its scale)"
                if self.task == "regress"
                else f"(margin {self.margin:g})"
            ),
            *self._selection_lines(),
            *self._constraint_lines(),
            f"solver        {self.solver} {self.solver_version}, {f(self.solve_time, '.1f')} s, nodes {self.nodes}",
            f"data          N = {self.n_samples}"
            + (f" (rows of the {self.source_rows}-row data, recorded)" if self.rows is not None else "")
            + f", sha256 {self.data_sha256[:16]}...",
        ]
        return out


def _targets(y: np.ndarray, task: str, classes: list[Any] | None, n_out: int) -> np.ndarray:
    if task == "regress":
        return np.asarray(y, dtype=np.float64)
    assert classes is not None
    lookup = {str(c): i for i, c in enumerate(classes)}
    try:
        idx = np.array([lookup[str(v)] for v in np.asarray(y, dtype=object).ravel()])
    except KeyError as exc:
        raise DataError(f"label {exc.args[0]!r} is not one of the certificate's classes {classes}") from None
    return np.where(idx == 1, 1.0, -1.0) if n_out == 1 else idx


def sample_losses(f: np.ndarray, target: np.ndarray, loss: str, margin: float, scale: float = 1.0) -> np.ndarray:
    """Per-sample loss values for outputs f (N, K) and encoded targets (module docstring)."""
    if loss in ("l1", "squared"):
        r = (f[:, 0] - target) / scale
        return np.abs(r) if loss == "l1" else r * r
    if f.shape[1] == 1:
        mg = target * f[:, 0]
    else:
        y = target.astype(int)
        rows = np.arange(len(y))
        other = f.copy()
        other[rows, y] = -np.inf
        mg = f[rows, y] - other.max(axis=1)
    if loss == "logistic":
        return logistic_loss(mg)
    if loss == "zero_one":
        return (mg < margin - ZERO_ONE_TIE).astype(np.float64)  # as the MILP counts it (discrete_values)
    return np.maximum(0.0, margin - mg)


def sparsity_counts(net: Network) -> dict[str, float]:
    """What the l0, unit and channel terms and the budgets ``max_nonzeros``, ``max_neurons``, ``max_channels`` count
    on ``net``: ``nonzeros`` #{W != 0} over every Dense and Conv2D weight (the linear term's weights once),
    ``neurons`` the active units between consecutive Dense layers (a nonzero in-weight, bias or out-weight; the
    linear term's units apart), ``channels`` the active Conv2D channels (:func:`~.conv.channel_activity`)."""
    weighted = [l for l in net.layers if isinstance(l, Weighted)]
    dense = [l for l in weighted if l.unit_name == "neurons"]
    lin: dict[str, Any] = {}
    if (net.metadata or {}).get("linear_units"):  # the linear term's units, counted once (:mod:`.linear_term`)
        from .linear_term import linear_corrections

        lin = linear_corrections(net)
    active: list[np.ndarray] = []
    for a, b in zip(dense[:-1], dense[1:]):
        act = (np.abs(a.weight).sum(axis=1) + np.abs(a.bias) + np.abs(b.weight).sum(axis=0)) > 0
        if not active and "units" in lin:
            act = act & ~lin["units"]
        active.append(act)
    out = {
        "nonzeros": float(sum(np.count_nonzero(l.weight) for l in weighted)) - lin.get("nz", 0.0),
        "neurons": float(sum(int(a.sum()) for a in active)),
        "channels": 0.0,
    }
    if any(l.unit_name == "channels" for l in weighted):
        from .conv import channel_activity

        out["channels"] = float(sum(int(a.sum()) for a in channel_activity(net)))
    return out


def penalty_terms(net: Network, coefficients: dict[str, float]) -> dict[str, float]:
    """l1, l2, l0, neurons, layers of ``net`` (Dense weights; units between consecutive Dense layers;
    layers: every Dense layer but the output one; the counts of :func:`sparsity_counts`)."""
    weighted = [l for l in net.layers if isinstance(l, Weighted)]
    dense = [l for l in weighted if l.unit_name == "neurons"]
    Ws = [l.weight for l in weighted]
    lin: dict[str, Any] = {}
    if (net.metadata or {}).get("linear_units"):  # the linear term's units, counted once (:mod:`.linear_term`)
        from .linear_term import linear_corrections

        lin = linear_corrections(net)
    counts = sparsity_counts(net)
    out: dict[str, float] = {}
    if coefficients.get("l1", 0) > 0:
        out["l1"] = coefficients["l1"] * (float(sum(np.abs(W).sum() for W in Ws)) - lin.get("abs", 0.0))
    if coefficients.get("l2", 0) > 0:
        out["l2"] = coefficients["l2"] * (float(sum((W * W).sum() for W in Ws)) - lin.get("sq", 0.0))
    if coefficients.get("l0", 0) > 0:
        out["l0"] = coefficients["l0"] * counts["nonzeros"]
    if coefficients.get("neuron_penalty", 0) > 0:
        out["neurons"] = coefficients["neuron_penalty"] * counts["neurons"]
    if coefficients.get("layer_penalty", 0) > 0:
        out["layers"] = coefficients["layer_penalty"] * float(max(len(dense) - 1, 0))
    if coefficients.get("channel_penalty", 0) > 0:
        out["channels"] = coefficients["channel_penalty"] * counts["channels"]
    return out


#: ``formulation["model_point"]``: the model's terms were read at a point whose auxiliaries need not be tight
NOT_TIGHT = "not tight"


def recompute_terms(net: Network, X: np.ndarray, y: np.ndarray, cert: Certificate) -> dict[str, float]:
    """Every objective term of ``net`` on the data, with numpy only."""
    f = net.forward(np.asarray(X, dtype=np.float64))
    target = _targets(y, cert.task, cert.classes, f.shape[1])
    losses = sample_losses(f, target, cert.loss, cert.margin, cert.target_scale)
    terms = {"loss": float(losses.sum() / cert.n_samples)}
    terms.update(penalty_terms(net, cert.coefficients))
    return terms


def check_certificate(
    net: Network, X: np.ndarray, y: np.ndarray, cert: Certificate, tol: float = TOLERANCE
) -> dict[str, Any]:
    """Re-check a certificate: data hash, every term recomputed vs recorded, incumbent = sum of terms.

    Returns ``{"ok": bool, "hash_ok": bool, "differences": {term: recomputed - recorded}, ...}``;
    outer-approximated terms must satisfy model <= true instead of equality.
    """
    hash_ok = cert.data_sha256 in (data_hash(X, y), data_hash(X, y, legacy=True))
    terms = recompute_terms(net, X, y, cert)
    diffs = {k: terms.get(k, 0.0) - cert.terms.get(k, 0.0) for k in set(terms) | set(cert.terms)}
    model_diffs = {}
    for k in cert.model_terms:
        d = terms.get(k, 0.0) - cert.model_terms[k]
        model_diffs[k] = d
    loose = cert.formulation.get("model_point") == NOT_TIGHT

    def _model_ok(k: str, d: float) -> bool:
        scale = tol * max(1.0, abs(terms.get(k, 0.0)))
        if k in cert.outer_approximated:
            return loose or d >= -tol
        return d <= scale if loose else abs(d) <= scale

    model_ok = all(_model_ok(k, d) for k, d in model_diffs.items())
    inc_ok = cert.incumbent is not None and abs(sum(terms.values()) - cert.incumbent) <= tol * max(
        1.0, abs(cert.incumbent)
    )
    ok = (
        hash_ok
        and model_ok
        and inc_ok
        and all(abs(d) <= tol * max(1.0, abs(terms.get(k, 0.0))) for k, d in diffs.items())
    )
    return {
        "ok": bool(ok),
        "hash_ok": hash_ok,
        "terms": terms,
        "differences": diffs,
        "model_differences": model_diffs,
        "incumbent_ok": inc_ok,
    }
