"""The training re-check's class claim: the returned network belongs to the hypothesis class its certificate's bound
is about (:func:`class_claim`). A bound on the best network of a class says nothing of a network outside it: the
layout, the linear units, the weight boxes and grids, and the sign class's width are checked on the network itself.
The claims that bind the record to the data the class is measured on live here too: the classes' order, the target
scale, the input standardisation (dense rows and conv images) and the l1 chosen by cross-validation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import Network
from ..train.scaling import column_scale
from .checks import RecheckReport
from .format import CertificateFile

__all__ = [
    "BOX_TOL",
    "class_claim",
    "classes_claim",
    "selection_claim",
    "standardisation_claim",
    "target_scale_claim",
]


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
    task = str(cert.question.get("task") or "classify")
    if not _class_boxes(rep, cfg, net, skip, task):
        return
    _width_claim(rep, cfg, net, len(skip))
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


def _width_claim(rep: RecheckReport, cfg: dict[str, Any], net: Network, n_linear: int) -> None:
    """Each hidden Dense layer at most as wide as the recorded ``hidden`` width (pruning only removes units; the
    first also holds the linear units); with a hidden layer switched off (layer switches) each at most the widest.
    A wider network is not of the class the bound is about."""
    from ..layers import Weighted

    hidden = [int(h) for h in (cfg.get("hidden") or [])]
    dense = [layer for layer in net.layers if isinstance(layer, Weighted) and layer.unit_name == "neurons"]
    widths = [int(np.asarray(layer.weight).shape[0]) for layer in dense[:-1]]
    if len(widths) == len(hidden):
        allowed = [h + (n_linear if i == 0 else 0) for i, h in enumerate(hidden)]
    else:  # a layer switched off (_class_boxes admitted it): each layer at most the widest
        allowed = [max(hidden, default=0) + (n_linear if i == 0 else 0) for i in range(len(widths))]
    over = [f"hidden layer {i + 1}: {w} units > {a}" for i, (w, a) in enumerate(zip(widths, allowed)) if w > a]
    rep.add(
        "hidden widths of the recorded class",
        "integrity",
        not over,
        "; ".join(over) if over else f"widths {widths} within {allowed}",
    )


def _class_boxes(rep: RecheckReport, cfg: dict[str, Any], net: Network, linear_units: set[int], task: str) -> bool:
    """A dense trained network as the trainer returns it: ``Normalize, Dense, (ReLU, Dense)*`` (and, regression, the
    target's ``Normalize``), with, on the standardised inputs the first ``Normalize`` gives (whether it is the
    training data's standardisation is checked with the data, in :mod:`mipnet.certificates.training`):

    * every bias |b| <= B_b; the first Dense (continuous in every class; with the linear term, its w0 rows too)
      |W| <= B_w;
    * the later Dense layers by the class: sign, v in {-1, 0, +1}; quantized, W / s an integer in [-Q, Q];
      continuous, |W| <= B_w. The linear units' out-weights +-1 are not grid weights (the linear part enters the
      output directly in the MILP) and are left out of the last layer's check.

    A hidden layer switched off (layer switches: a layer penalty, a layer as wide as its input) is left out of the
    network: then the first Dense may be a grid layer, and it passes with either rule. The trailing ``Normalize``
    is a regression's (a classifier's scores are not rescaled). A network outside the boxes is not of the class
    the bound is about. Returns False when the layout itself is not a trained one."""
    from ..layers import Weighted

    name = "weights in the recorded class's boxes"
    kinds = [layer.kind for layer in net.layers]
    tail = task == "regress" and kinds[-1:] == ["Normalize"] and len(kinds) > 2
    body = kinds[1:-1] if tail else kinds[1:]
    layout_ok = (
        kinds[:1] == ["Normalize"]
        and len(body) % 2 == 1
        and all(k == ("Dense" if i % 2 == 0 else "ReLU") for i, k in enumerate(body))
    )
    hidden = list(cfg.get("hidden") or [])
    dense = [layer for layer in net.layers if isinstance(layer, Weighted) and layer.unit_name == "neurons"]
    skipped = len(dense) < len(hidden) + 1
    # layer switches: a layer penalty, and a hidden layer l >= 1 as wide as its input (:mod:`~mipnet.train.formulation`)
    switches = float(cfg.get("layer_penalty") or 0.0) > 0 and any(a == b for a, b in zip(hidden, hidden[1:]))
    if not layout_ok or len(dense) > len(hidden) + 1 or (skipped and not switches):
        why = "not the layout of a trained dense network"
        if layout_ok and skipped and not switches:
            why = f"{len(dense) - 1} hidden layers where the class has {len(hidden)} (no layer switches)"
        rep.add(name, "integrity", False, f"layers {', '.join(kinds)}: {why}")
        return False
    _boxes_verdict(rep, cfg, dense, linear_units, skipped)
    return True


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
        ok = boxed(W, bw) if i == 0 else on_grid(W)  # (the first hidden layer has no switch: always in the box)
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


def _conv_geometry(spec: Any, layers: list[Any]) -> str | None:
    """The image layers against the recorded entries (as :func:`~mipnet.train.architecture.template_conv_network`
    builds them): each Conv2D's kernel, stride and padding, at most the recorded channels (pruning may drop some);
    each pool's kernel, stride and padding as built. None when they agree, else what differs (a 3x3 stride-2 filter
    in place of the recorded 2x2 re-checked OK: a wider class)."""
    rest = iter(layers)
    for e in spec:
        if e[0] == "conv":
            conv = next(rest)
            next(rest)  # its ReLU
            k, s, p = int(e[2]), int(e[3]["stride"]), int(e[3]["padding"])
            got = (tuple(conv.weight.shape[2:]), tuple(conv.stride), tuple(conv.padding))
            if got != ((k, k), (s, s), (p, p)) or conv.weight.shape[0] > int(e[1]):
                return (
                    f"Conv2D of {conv.weight.shape[0]} channels, kernel {got[0]}, stride {got[1]}, padding {got[2]}; "
                    f"recorded conv{e[1]}x{k} stride {s} padding {p}"
                )
        elif e[0] in ("maxpool", "avgpool"):
            pool = next(rest)
            k, s = int(e[1]), int(e[2]["stride"])
            got = (tuple(pool.kernel), tuple(pool.stride), tuple(pool.padding))
            if got != ((k, k), (s, s), (0, 0)):
                return f"{pool.kind} kernel {got[0]}, stride {got[1]}, padding {got[2]}; recorded {e[0]}{k} stride {s}"
    return None


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
    wrong = _conv_geometry(parse_architecture(cfg["architecture"]), net.layers[lead + 1 : lead + 1 + len(front)])
    head_at = lead + 1 + len(front)
    widths = [int(np.prod(net.shapes[i + 1])) for i in range(head_at, len(net.layers)) if kinds[i] == "Dense"]
    widest = max((int(e[1]) for e in parse_architecture(cfg["architecture"]) if e[0] == "dense"), default=0)
    if wrong is None and any(w > widest for w in widths[:-1]):
        wrong = f"hidden Dense widths {widths[:-1]} above the recorded {widest}"
    if wrong is not None:
        rep.add(name, "integrity", False, f"not of the recorded architecture: {wrong}")
        return
    params = [layer for layer in net.layers[lead + 1 :] if layer.kind in ("Conv2D", "Dense")]
    _boxes_verdict(rep, cfg, params, set(), m < hidden)


def classes_claim(rep: RecheckReport, cert: CertificateFile, net: Network) -> None:
    """A classifier's recorded classes, in order, are the model's class names: the loss is recomputed against
    that order, so a certificate listing them swapped would vouch for a network that predicts the other label."""
    q = cert.question
    classes = q.get("classes")
    if str(q.get("task") or "classify") != "classify" or not isinstance(classes, list):
        return
    names = [str(c) for c in (net.class_names or [])]
    mine = [str(c) for c in classes]
    rep.add("classes = the model's classes, in order", "integrity", mine == names, f"certificate {mine}, model {names}")


def target_scale_claim(rep: RecheckReport, cert: CertificateFile, net: Network, y: np.ndarray) -> None:
    """A regression's target scale (the loss is measured in units of sigma_y) is the training targets' own, and the
    network's trailing ``Normalize(sigma_y, mu_y)`` maps back with them (checked with the data)."""
    from ..train.outcome import encode_targets

    if str(cert.question.get("task") or "classify") != "regress":
        return
    _, _, _, y_mu, y_sd = encode_targets(np.asarray(y, dtype=np.float64), "regress")
    rec = (cert.result or {}).get("target_scale")
    ok = isinstance(rec, (int, float)) and abs(float(rec) - y_sd) <= 1e-9 * max(1.0, abs(y_sd))
    last = net.layers[-1] if net.layers else None
    if last is not None and last.kind == "Normalize":
        sc = np.asarray(getattr(last, "scale", np.nan), dtype=np.float64).ravel()
        off = np.asarray(getattr(last, "offset", np.nan), dtype=np.float64).ravel()
        ok = ok and sc.size == 1 and off.size == 1
        ok = (
            ok
            and abs(float(sc[0]) - y_sd) <= 1e-9 * max(1.0, y_sd)
            and abs(float(off[0]) - y_mu) <= 1e-9 * max(1.0, abs(y_mu))
        )
    rep.add(
        "target scale is the training targets'",
        "integrity",
        ok,
        f"sigma_y {y_sd:.9g}, mu_y {y_mu:.9g} of the data; recorded {rec!r}",
    )


def selection_claim(rep: RecheckReport, cert: CertificateFile) -> None:
    """The record of ``--l1 cv`` (``formulation.penalty_selection``) agrees with itself and with the certificate:
    the chosen l1 is the penalty coefficient the objective counts, one of the grid, the one the selection rule
    (:func:`mipnet.train.penalty_cv.chosen_index`) picks from the recorded scores and full-data fits, and the splits
    done at most folds x repeats. The scores are the surrogate's (a heuristic choice, not a proof): the re-check
    binds them to the choice, it does not re-run the cross-validation."""
    from ..train.penalty_cv import chosen_index

    sel = ((cert.result or {}).get("formulation") or {}).get("penalty_selection")
    if sel is None:
        return
    name = "l1 chosen by cross-validation, as recorded"
    try:
        grid = [float(c) for c in sel["grid"]]
        mean = [float(v) for v in sel["mean_accuracy"]]
        nonzero = [int(v) for v in sel["full_data_nonzero"]]
        l1, folds, repeats, splits = float(sel["l1"]), int(sel["folds"]), int(sel["repeats"]), int(sel["splits"])
        std = list(sel["std_accuracy"])
    except (KeyError, TypeError, ValueError):
        rep.add(name, "integrity", False, "the selection record is not readable")
        return
    coef = (cert.question.get("coefficients") or {}).get("l1")
    problems = []
    if not (len(grid) == len(mean) == len(nonzero) == len(std) > 0):
        problems.append("grid, scores and fits differ in length")
    elif not all(0.0 <= v <= 1.0 for v in mean):
        problems.append("a held-out accuracy outside [0, 1]")
    elif l1 not in grid:
        problems.append(f"l1 {l1:g} is not on the grid")
    elif grid[chosen_index(grid, mean, nonzero)] != l1:
        problems.append(f"the rule picks l1 {grid[chosen_index(grid, mean, nonzero)]:g} from these scores, not {l1:g}")
    if not isinstance(coef, (int, float)) or float(coef) != l1:
        problems.append(f"the objective's l1 is {coef!r}, the selection's {l1:g}")
    if not 1 <= splits <= folds * repeats:
        problems.append(f"{splits} splits of {folds} x {repeats}")
    rep.add(name, "integrity", not problems, "; ".join(problems) or f"l1 {l1:g} of {len(grid)} candidates")


def standardisation_claim(rep: RecheckReport, cert: CertificateFile, net: Network, X: np.ndarray) -> None:
    """The first layer of a trained network is the training data's standardisation ``Normalize(1/sd, -mu/sd)``
    (sd of a constant column 1), as the trainer built it: the weight boxes hold on that scale. Checked whenever the
    recorded configuration has a box (every dense training configuration)."""
    cfg = cert.question.get("config")
    if not isinstance(cfg, dict) or not net.layers:
        return
    if cfg.get("architecture"):  # images: [AvgPool2D (downsampling)], then Normalize per channel of the images
        _conv_standardisation_claim(rep, net, X)
        return
    if net.layers[0].kind != "Normalize":
        return
    mu, sd = column_scale(X)
    ok = _is_standardisation(net.layers[0], 1.0 / sd, -mu / sd)
    rep.add(
        "input standardisation is the training data's",
        "integrity",
        ok,
        "Normalize(1/sd, -mu/sd) of the training rows" if ok else "the first Normalize differs from the data's",
    )


def _conv_standardisation_claim(rep: RecheckReport, net: Network, X: np.ndarray) -> None:
    """A conv net's Normalize (after its downsampling AvgPool2D, if any) is the per-channel standardisation of the
    training images as that pool sees them (the conv trainer's :func:`~mipnet.train.conv_trainer.prepare_images`):
    the conv weights' boxes are measured on that scale (a Normalize scaled x 50 put every weight 50 times outside
    its box, and re-checked OK)."""
    lead = 1 if net.layers[0].kind == "AvgPool2D" else 0
    ok = len(net.layers) > lead and net.layers[lead].kind == "Normalize" and len(net.input_shape) == 3
    if ok:
        imgs = np.asarray(X, dtype=np.float64).reshape((X.shape[0],) + tuple(net.input_shape))
        if lead:
            imgs = net.layers[0].forward(imgs)
        mu, sd = column_scale(imgs, axis=(0, 2, 3))
        ok = _is_standardisation(net.layers[lead], (1.0 / sd)[:, None, None], (-mu / sd)[:, None, None])
    rep.add(
        "input standardisation is the training data's",
        "integrity",
        ok,
        "Normalize per channel of the training images" if ok else "the Normalize differs from the images' own",
    )


def _is_standardisation(norm: Any, scale: np.ndarray, offset: np.ndarray) -> bool:
    """Whether the Normalize layer ``norm`` is ``Normalize(scale, offset)``: same shapes, values to 1e-6."""
    have_scale = np.asarray(getattr(norm, "scale", np.nan), dtype=np.float64)
    have_offset = np.asarray(getattr(norm, "offset", np.nan), dtype=np.float64)
    return (
        have_scale.shape == scale.shape
        and have_offset.shape == offset.shape
        and bool(np.allclose(have_scale, scale, rtol=1e-6, atol=0.0))
        and bool(np.allclose(have_offset, offset, rtol=1e-6, atol=1e-9))
    )
