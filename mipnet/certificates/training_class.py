"""The training re-check's class claim: the returned network belongs to the hypothesis class its certificate's bound
is about (:func:`class_claim`). A bound on the best network of a class says nothing of a network outside it: the
layout, the linear units, the weight boxes and grids, and the sign class's width are checked on the network itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import Network
from .checks import RecheckReport
from .format import CertificateFile

__all__ = ["BOX_TOL", "class_claim"]


def class_claim(rep: RecheckReport, cert: CertificateFile, net: Network) -> None:
    """The network is of the class its recorded configuration names, as far as the bound depends on it: exact
    linear units (:mod:`~mipnet.train.linear_term`) only where the configuration has the linear term (a bound of the
    class without it says nothing of a network with it); the weights in the class's boxes and grids
    (:func:`_class_boxes`, dense nets); and in the sign class with one hidden layer at most J = min(hidden,
    max_neurons) hidden units besides the linear ones (a unit is active with any nonzero in-weight, bias or
    out-weight)."""
    from ..layers import Weighted
    from ..train.linear_term import linear_units_of

    cfg = cert.question.get("config")
    if not isinstance(cfg, dict):
        return
    lin = linear_units_of(net)
    name = "network of the recorded class"
    if lin and not cfg.get("linear"):
        rep.add(name, "integrity", False, "the network has a linear term that its recorded configuration does not name")
        return
    if cfg.get("architecture"):  # conv nets: the recorded architecture's layout, the same boxes and grids
        _budget_claim(rep, cfg, net)
        _conv_class_boxes(rep, cfg, net)
        return
    _budget_claim(rep, cfg, net)
    skip = {int(u) for pos, neg, _ in lin for u in (pos, neg)}
    _class_boxes(rep, cfg, net, skip)
    hidden = list(cfg.get("hidden") or [])
    dense = [layer for layer in net.layers if isinstance(layer, Weighted) and layer.unit_name == "neurons"]
    if cfg.get("hypothesis") != "sign" or len(hidden) != 1 or len(dense) != 2:
        return
    W, b = np.asarray(dense[0].weight, dtype=np.float64), np.asarray(dense[0].bias, dtype=np.float64)
    V = np.asarray(dense[1].weight, dtype=np.float64)
    if W.ndim != 2 or V.ndim != 2 or V.shape[1] != W.shape[0]:
        return
    act = (np.abs(W).sum(axis=1) + np.abs(b) + np.abs(V).sum(axis=0)) > 0
    units = int(sum(1 for j in np.flatnonzero(act) if int(j) not in skip))
    J = int(hidden[0]) if cfg.get("max_neurons") is None else min(int(hidden[0]), int(cfg["max_neurons"]))
    rep.add(name, "integrity", units <= J, f"{units} hidden units (linear units apart), width {J}")


def _budget_claim(rep: RecheckReport, cfg: dict[str, Any], net: Network) -> None:
    """The budgets the recorded configuration names, counted on the network as the objective's terms count them
    (:func:`~mipnet.train.objective_check.sparsity_counts`): #{W != 0} <= max_nonzeros, active units <=
    max_neurons, active channels <= max_channels. A bound over a class with a budget says nothing of a network
    over it."""
    from ..train.objective_check import sparsity_counts

    named = [(k, c) for k, c in (("max_nonzeros", "nonzeros"), ("max_neurons", "neurons"), ("max_channels", "channels"))
             if cfg.get(k) is not None]  # fmt: skip
    if not named:
        return
    counts = sparsity_counts(net)
    over = [f"{int(counts[c])} {c} > {k} {int(cfg[k])}" for k, c in named if counts[c] > int(cfg[k])]
    rep.add(
        "budgets of the recorded class",
        "integrity",
        not over,
        "; ".join(over) if over else ", ".join(f"{int(counts[c])} {c} <= {int(cfg[k])}" for k, c in named),
    )


#: slack of the weight-box and grid checks (the solver's values are read back with its feasibility tolerance)
BOX_TOL = 1e-6


def _class_boxes(rep: RecheckReport, cfg: dict[str, Any], net: Network, linear_units: set[int]) -> None:
    """A dense trained network as the trainer returns it: ``Normalize, Dense, (ReLU, Dense)*`` (and, regression, the
    target's ``Normalize``), with, on the standardised inputs the first ``Normalize`` gives (whether it is the
    training data's standardisation is checked with the data, in :mod:`mipnet.certificates.training`):

    * every bias |b| <= B_b; the first Dense (continuous in every class; with the linear term, its w0 rows too)
      |W| <= B_w;
    * the later Dense layers by the class: sign, v in {-1, 0, +1}; quantized, W / s an integer in [-Q, Q];
      continuous, |W| <= B_w. The linear units' out-weights +-1 are not grid weights (the linear part enters the
      output directly in the MILP) and are left out of the last layer's check.

    A hidden layer switched off (layer switches) is left out of the network: then the first Dense may be a grid
    layer, and it passes with either rule. A network outside the boxes is not of the class the bound is about."""
    from ..layers import Weighted

    name = "weights in the recorded class's boxes"
    kinds = [layer.kind for layer in net.layers]
    body = kinds[1:-1] if kinds[-1:] == ["Normalize"] and len(kinds) > 2 else kinds[1:]
    layout_ok = (
        kinds[:1] == ["Normalize"]
        and len(body) % 2 == 1
        and all(k == ("Dense" if i % 2 == 0 else "ReLU") for i, k in enumerate(body))
    )
    hidden = list(cfg.get("hidden") or [])
    dense = [layer for layer in net.layers if isinstance(layer, Weighted) and layer.unit_name == "neurons"]
    if not layout_ok or len(dense) > len(hidden) + 1:
        rep.add(name, "integrity", False, f"layers {', '.join(kinds)}: not the layout of a trained dense network")
        return
    skipped = len(dense) < len(hidden) + 1
    _boxes_verdict(rep, cfg, dense, linear_units, skipped)


def _boxes_verdict(
    rep: RecheckReport, cfg: dict[str, Any], params: list[Any], linear_units: set[int], skipped: bool
) -> None:
    """The rule of :func:`_class_boxes` on the parametrised layers ``params`` in order: every bias |b| <= B_b, the
    first layer's weights |W| <= B_w, the later ones on the class's grid (``skipped``: a hidden layer was switched
    off, so the first may be a grid layer); the linear units' out-weights left out of the last layer."""
    name = "weights in the recorded class's boxes"
    bw, bb = float(cfg.get("weight_bound", 1.0)), float(cfg.get("bias_bound", 1.0))
    hyp, s, Q = str(cfg.get("hypothesis")), float(cfg.get("scale", 1.0)), int(cfg.get("levels", 1))

    def boxed(W: np.ndarray, box: float) -> bool:
        return bool(float(np.max(np.abs(W), initial=0.0)) <= box * (1 + BOX_TOL) + BOX_TOL)

    def on_grid(W: np.ndarray) -> bool:
        if hyp == "sign":
            return bool(np.all(np.isin(W, (-1.0, 0.0, 1.0))))
        if hyp == "quantized":
            k = W / s
            return bool(np.all(np.abs(k - np.round(k)) <= BOX_TOL) and np.all(np.abs(np.round(k)) <= Q))
        return boxed(W, bw)

    bad = []
    for i, layer in enumerate(params):
        W = np.asarray(layer.weight, dtype=np.float64)
        b = np.asarray(layer.bias, dtype=np.float64)
        if not boxed(b, bb):
            bad.append(f"{layer.kind} {i + 1}: |b| up to {float(np.max(np.abs(b))):.9g} > {bb:g}")
        if i == len(params) - 1 and linear_units:
            W = W[:, [j for j in range(W.shape[1]) if j not in linear_units]]
        ok = boxed(W, bw) if i == 0 else on_grid(W)
        if i == 0 and skipped and not ok:
            ok = on_grid(W)
        if not ok:
            rule = f"|W| <= {bw:g}" if i == 0 or hyp == "continuous" else f"the {hyp} class's grid"
            bad.append(f"{layer.kind} {i + 1}: weights outside {rule}")
    rep.add(name, "integrity", not bad, "; ".join(bad) if bad else f"{hyp} class, B_w {bw:g}, B_b {bb:g}")


def _conv_layout(spec: Any) -> tuple[list[str], int]:
    """The layer kinds of a trained conv net of the architecture ``spec`` up to its dense head (as
    :func:`~mipnet.train.architecture.template_conv_network` lays it out: a Flatten before the first Dense), and
    the number of hidden Dense layers of the head."""
    kinds: list[str] = []
    flat, dense = False, 0
    for e in spec:
        if e[0] == "conv":
            kinds += ["Conv2D", "ReLU"]
        elif e[0] in ("maxpool", "avgpool"):
            kinds.append("MaxPool2D" if e[0] == "maxpool" else "AvgPool2D")
        elif e[0] == "flatten":
            kinds.append("Flatten")
            flat = True
        else:
            if not flat:
                kinds.append("Flatten")
                flat = True
            dense += 1
    if not flat:
        kinds.append("Flatten")
    return kinds, dense


def _conv_class_boxes(rep: RecheckReport, cfg: dict[str, Any], net: Network) -> None:
    """A conv net as the conv trainer returns it: ``[AvgPool2D (downsampling)], Normalize``, the recorded
    architecture's layers up to its dense head, then m of its hidden ``Dense, ReLU`` pairs (layer switches may drop
    some) and the output ``Dense``; its parametrised layers (the first a Conv2D) under the boxes and grids of
    :func:`_boxes_verdict`."""
    from ..errors import MipnetError
    from ..train.architecture import parse_architecture

    name = "weights in the recorded class's boxes"
    try:
        front, hidden = _conv_layout(parse_architecture(cfg["architecture"]))
    except (MipnetError, TypeError, ValueError, IndexError, KeyError):
        rep.add(name, "integrity", False, f"the recorded architecture {cfg.get('architecture')!r} is unreadable")
        return
    kinds = [layer.kind for layer in net.layers]
    lead = 1 if kinds[:1] == ["AvgPool2D"] else 0
    body = kinds[lead + 1 :]
    if body[-1:] == ["Normalize"] and len(body) > 1:
        body = body[:-1]
    head = body[len(front) :]
    m = (len(head) - 1) // 2
    ok = (
        kinds[lead : lead + 1] == ["Normalize"]
        and body[: len(front)] == front
        and len(head) % 2 == 1
        and head == ["Dense", "ReLU"] * m + ["Dense"]
        and m <= hidden
    )
    if not ok:
        rep.add(name, "integrity", False, f"layers {', '.join(kinds)}: not the layout of the recorded architecture")
        return
    params = [layer for layer in net.layers[lead + 1 :] if layer.kind in ("Conv2D", "Dense")]
    _boxes_verdict(rep, cfg, params, set(), m < hidden)
