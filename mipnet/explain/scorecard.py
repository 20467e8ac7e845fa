"""The whole model as a scorecard: an exact, readable form of a small ReLU network in the features' own units.

**Collapsing the affine layers.** A network of Normalize / Dense / Flatten / Identity layers and ReLU-type
activations on flat features is a chain of affine maps separated by activations. Every run of affine layers
between two activations is one map z = A x + c, composed exactly from the layers' linear maps
(:meth:`~mipnet.layers.Layer.linear_map`): with the input scaling Normalize(s, o) in front of Dense(W, b),

    W (s * x + o) + b = (W diag(s)) x + (W o + b),

so the first layer's weights w_ji = W_ji s_i act on the raw feature values x_i (age in years, not in standard
deviations). A one-hidden-layer network is then

    f_k(x) = c_k + sum_j V_kj g(w_j . x + b_j),      g(z) = max(alpha z, z)   (ReLU: alpha = 0).

**The scorecard** rewrites f exactly as base points, a linear part and units that count when positive:

    f_k(x) = scale * ( p0_k + sum_i a_ki x_i + sum_{j in U} P_kj max(0, w_j . x + b_j) ),

by these identities, each exact:

* LeakyReLU:  max(alpha z, z) = alpha z + (1 - alpha) max(0, z)  (the alpha part joins the linear part);
* a pair of units p, q with w_q = -w_p, b_q = -b_p, V_q = -V_p (the linear skip term of ``train(linear=True)``
  is written in the network as such pairs, :mod:`mipnet.train.linear_term`; any pair of that form is found):
  V_p max(0, z) - V_p max(0, -z) = V_p z, a linear term;
* a unit with w_j = 0 is the constant max(0, b_j): it joins the base points;
* a unit with V_j = 0 contributes nothing and is left out;
* ``scale`` > 0 is the output weights' common grid step when they are small integer multiples of one number
  (the quantized class: integers times a per-layer scale; the sign class: +-1), so that the points P_kj are
  integers. Dividing by ``scale`` > 0 changes neither the sign of a single score nor the argmax of several.

The decision rule: one output -> class 1 when the points are > 0 (the network's ``predict``); several outputs ->
the class with the most points; regression -> the prediction is ``scale`` times the points. A binary network
trained with the logistic loss (its certificate says so) is a log-odds: the card also prints the risk
P(class 1) = 1 / (1 + exp(-scale * points)) at a few totals of points.

**Units that read only 0/1 features** (every w_ji != 0 on a feature of :func:`indicator_features`, at most
:data:`mipnet.explain.rules.MAX_INPUTS` of them) are printed as rules, "+3 points if A and not B": the unit's
values max(0, w_j . c + b_j) on the combinations c in {0, 1}^S split into disjoint sub-cubes of constant value
(:mod:`mipnet.explain.rules`; with one-hot groups, only the combinations the domain allows), checked against
``network.forward`` on every such combination before anything is shown; a unit over the size cap keeps the
"per unit of (...) when that is positive" form.

**Deeper networks** have no scorecard; :func:`readable` then returns their exact layer-by-layer sparse form
(:class:`LayerForm`, the first layer in the features' own units) instead.

Both forms carry the numbers (vectorised arrays); :meth:`Scorecard.evaluate` / :meth:`LayerForm.evaluate`
compute them, and the constructor checks them against ``network.forward`` on random inputs of the domain
(to 1e-9 relative) before returning anything; the text is rendered from the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from ..domain import Domain
from ..errors import MipnetError, UnsupportedError
from ..network import Network
from .openbox import magnitude_trace
from .rules import UnitRules, rules_error, unit_rules

#: largest |points| for which the output weights count as a small integer grid
MAX_POINTS = 1000
#: the grid steps tried are min|V| / k for k = 1..MAX_DIVISOR
MAX_DIVISOR = 12
#: relative tolerance of "this number is an integer multiple of the grid step" and of the exactness check
TOL = 1e-9
#: random inputs on which every readable form is checked against the network
N_CHECK = 64


# ----------------------------------------------------------------------------- the affine blocks


@dataclass(frozen=True)
class _Blocks:
    """z^(l) = A_l h^(l-1) + c_l; h^(l) = max(alpha_l z, z) for l < L (one slope per activation)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    slopes: list[float]


def _blocks(net: Network, max_hidden: int | None = None) -> _Blocks:
    """The network as affine maps separated by ReLU-type activations (module docstring). With ``max_hidden``,
    a network with more ReLU-type layers is refused (the scorecard's error) once every layer has been checked
    and before any matrix is formed (a deep 2-M-weight net's products took a second, for a refusal)."""
    if len(net.input_shape) != 1:
        raise UnsupportedError(
            f"the scorecard reads networks on flat features; this one takes inputs of shape {net.input_shape} "
            "(a convolutional network): use 'mipnet explain MODEL DATA' for its local linear rules"
        )
    n = net.n_inputs
    A, c = np.eye(n), np.zeros(n)
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    slopes: list[float] = []
    for i, layer in enumerate(net.layers):
        if len(net.shapes[i]) != 1 or layer.unit_name == "channels":
            raise UnsupportedError(
                f"layer {i} ({layer.kind}) works on images: the scorecard reads Dense networks on flat features"
            )
        if not (layer.gated or layer.passthrough or layer.affine):
            raise UnsupportedError(
                f"layer {i} ({layer.kind}) is not a ReLU-type or affine layer: the scorecard reads networks of "
                "Dense, Normalize, ReLU and LeakyReLU layers"
            )
    hidden = sum(1 for layer in net.layers if layer.gated)
    if max_hidden is not None and hidden > max_hidden:
        raise UnsupportedError(
            f"the scorecard covers networks with one hidden layer; this one has {hidden} "
            "(see mipnet.explain.scorecard.readable for its layer-by-layer form)"
        )
    for i, layer in enumerate(net.layers):
        shape = net.shapes[i]
        if layer.gated:
            weights.append(A)
            biases.append(c)
            slopes.append(float(layer.negative_slope))
            A, c = np.eye(int(shape[0])), np.zeros(int(shape[0]))
        elif layer.passthrough:
            continue
        else:  # affine (checked above)
            M = layer.linear_matrix(shape)
            A, c = M @ A, M @ c + layer.linear_map(shape)[1]
    weights.append(A)
    biases.append(c)
    return _Blocks(weights, biases, slopes)


def indicator_features(net: Network) -> np.ndarray:
    """Boolean mask of the 0/1 features of the domain: integer (or one-hot) with bounds exactly [0, 1]."""
    d = net.domain
    in_group = np.zeros(d.n_features, dtype=bool)
    for g in d.onehot_groups:
        in_group[g] = True
    return np.asarray((d.integer | in_group) & (d.lower == 0.0) & (d.upper == 1.0), dtype=bool)


def grid_step(V: np.ndarray) -> float:
    """The largest s > 0 with every V / s an integer of size <= MAX_POINTS among s = min|V| / k, k <= MAX_DIVISOR;
    1.0 when V is already such integers or no such s exists."""
    nz = np.abs(V[V != 0])
    if nz.size == 0 or _on_grid(nz, 1.0):
        return 1.0
    m = float(nz.min())
    for k in range(1, MAX_DIVISOR + 1):
        if _on_grid(nz, m / k):
            return m / k
    return 1.0


def _on_grid(values: np.ndarray, s: float) -> bool:
    q = values / s
    r = np.round(q)  # a non-zero value is never the integer 0 (3e-10 on the grid of 1 printed "+0 points")
    return bool(np.all(np.abs(q - r) <= TOL * np.maximum(1.0, q)) and np.all(r != 0) and q.max() <= MAX_POINTS)


# ----------------------------------------------------------------------------- numbers as text


def fmt(v: float, digits: int = 6) -> str:
    """A number as text: an integer (to 1e-9 relative, or to the ``digits`` asked for when they are finer; never 0
    for a non-zero number: 2e-10 is "2e-10") without decimals; otherwise ``digits`` significant digits, or the
    shortest exact form (``repr``) when ``digits`` is 0 (--digits 15 printed -123456.0001 as -123456)."""
    v = float(v)
    r = round(v)
    snap = min(TOL, 0.5 * 10.0 ** (1 - digits)) if digits > 0 else 0.0
    if abs(v) < 1e15 and (v == r or (digits > 0 and r != 0 and abs(v - r) <= snap * abs(v))):
        return str(int(r))
    return repr(v) if digits <= 0 else format(v, f".{digits}g")


def expression(
    w: np.ndarray, b: float, names: list[str], indicator: np.ndarray, digits: int, constant_first: bool = True
) -> str:
    """b + sum_i w_i x_i as text: the constant, the features (``2*age``), then the 0/1 features (``+ 4 if juv``);
    zero terms left out."""
    parts: list[tuple[float, str]] = []
    if b != 0 or not np.any(w):
        parts.append((b, ""))
    for flag in (False, True):
        for i in np.flatnonzero((w != 0) & (indicator == flag)):
            parts.append((float(w[i]), f" if {names[i]}" if flag else f"*{names[i]}"))
    out = []
    for n, (v, tail) in enumerate(parts):
        mag = fmt(abs(v), digits)
        body = tail[1:] if tail.startswith("*") and mag == "1" else mag + tail  # 1*age -> age
        out.append((body if v >= 0 else f"-{body}") if n == 0 else f"{'+' if v >= 0 else '-'} {body}")
    return " ".join(out)


def sample_domain(d: Domain, n: int, seed: int) -> np.ndarray:
    """n random inputs of the domain (inside its finite bounds, integers rounded, one-hot groups one category)."""
    rng = np.random.default_rng(seed)
    lo = np.where(np.isfinite(d.lower), d.lower, np.where(np.isfinite(d.upper), d.upper - 10.0, -10.0))
    hi = np.where(np.isfinite(d.upper), d.upper, lo + 20.0)
    X = rng.uniform(lo, hi, size=(n, d.n_features))
    X[:, d.integer] = np.clip(np.round(X[:, d.integer]), np.ceil(lo[d.integer]), np.floor(hi[d.integer]))
    for g in d.onehot_groups:
        X[:, g] = 0.0
        X[np.arange(n), np.asarray(g)[rng.integers(len(g), size=n)]] = 1.0
    return X


def magnitude(net: Network, X: np.ndarray) -> np.ndarray:
    """Per input and output, a bound on the size of the sums the forward pass adds up (the last element of
    :func:`~mipnet.explain.openbox.magnitude_trace`)."""
    return magnitude_trace(net, X)[-1]


def _check(net: Network, form: Scorecard | LayerForm, seed: int = 0) -> float:
    """max |form(x) - f(x)| / max(1, size of the sums) on N_CHECK random inputs of the domain
    (:func:`sample_domain`, :func:`magnitude`); raises if it exceeds TOL."""
    X = sample_domain(net.domain, N_CHECK, seed)
    f = net.forward(X)
    err = float(np.max(np.abs(form.evaluate(X) - f) / np.maximum(1.0, magnitude(net, X))))
    if not err <= TOL:
        raise MipnetError(f"internal error: the readable form differs from the network by {err:.3g}; not shown")
    return err


def _checked(err: float, digits: int) -> str:
    exact = "numbers exact" if digits <= 0 else f"numbers rounded to {digits} significant digits"
    return f"(checked against the network on {N_CHECK} random inputs: largest difference {err:.1g}; {exact})"


def _decision(task: str, classes: list[str], outputs: list[str], K: int, score: str) -> str:
    if task == "regress":
        return f"prediction of {', '.join(outputs)} = {score}"
    if K == 1:
        return f"decision: predict {classes[1]} when {score} > 0, otherwise {classes[0]}"
    return (
        f"decision: predict the class with the largest {score} ({', '.join(classes)}; a tie goes to the first listed)"
    )


# ----------------------------------------------------------------------------- the scorecard

#: the totals of points whose risk a logistic-loss scorecard prints
RISK_POINTS = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]


@dataclass
class Scorecard:
    """f_k(x) = scale * (base_k + linear_k . x + sum_j points_kj max(0, weights_j . x + biases_j)) (module
    docstring); ``units`` are the hidden units' indices in the network's hidden layer."""

    feature_names: list[str]
    indicator: np.ndarray  #: (d,) the 0/1 features, shown as "if <feature>"
    task: str
    class_names: list[str]
    output_names: list[str]
    scale: float
    base: np.ndarray  #: (K,)
    linear: np.ndarray  #: (K, d)
    weights: np.ndarray  #: (H, d) the units' weights in the features' own units
    biases: np.ndarray  #: (H,)
    points: np.ndarray  #: (K, H)
    units: list[int]
    hidden_width: int  #: units in the network's hidden layer (0: no hidden layer)
    paired: int = 0  #: of those, the units written as the linear part (pairs w, -w)
    max_error: float = 0.0  #: checked against the network's forward pass on random inputs
    #: units (positions in ``units``) that read only 0/1 features, as rules (:mod:`mipnet.explain.rules`)
    rules: dict[int, UnitRules] = field(default_factory=dict)
    rules_error: float = 0.0  #: checked against the forward pass on every allowed 0/1 combination of their inputs
    groups: list[list[int]] = field(default_factory=list)  #: the domain's one-hot groups (the rules read them)
    #: trained with the logistic loss (the certificate says so): the output is a log-odds, its risk is printed
    logistic: bool = False

    def evaluate(self, X: Any, rules: bool = False) -> np.ndarray:
        """The network's outputs (N, K) computed from the scorecard's numbers; with ``rules``, each rule unit's
        max(0, w . x + b) is computed from its rules instead (equal on the 0/1 inputs the domain allows)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        h = np.maximum(0.0, X @ self.weights.T + self.biases)
        if rules:
            for pos, ur in self.rules.items():
                h[:, pos] = ur.evaluate(X)
        return self.scale * (self.base + X @ self.linear.T + h @ self.points.T)

    def unit_names(self) -> list[str]:
        return [f"h{j + 1}" for j in self.units]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "scorecard",
            "features": list(self.feature_names),
            "indicators": [self.feature_names[i] for i in np.flatnonzero(self.indicator)],
            "task": self.task,
            "classes": list(self.class_names),
            "outputs": list(self.output_names),
            "scale": self.scale,
            "base": self.base.tolist(),
            "linear": self.linear.tolist(),
            "units": [
                {"unit": n, "weights": w.tolist(), "bias": float(b), "points": p.tolist()}
                | ({"rules": self.rules[pos].to_dict(self.feature_names)} if pos in self.rules else {})
                for pos, (n, w, b, p) in enumerate(zip(self.unit_names(), self.weights, self.biases, self.points.T))
            ],
            "hidden_width": self.hidden_width,
            "max_error": self.max_error,
        } | ({"risk": {"points": RISK_POINTS, "probability": self.risks().tolist()}} if self.logistic else {})

    def risks(self, points: Any = RISK_POINTS) -> np.ndarray:
        """P(class 1) at these totals of points: 1 / (1 + exp(-scale * points)) (the logistic loss's model)."""
        return np.asarray(expit(self.scale * np.asarray(points, dtype=np.float64)))

    def _points(self, v: np.ndarray, digits: int) -> str:
        """Points of one line: ``+3 points`` (one output) or ``points (+3 to A, -1 to B)`` (several, zeros left out)."""
        if v.size == 1:
            mag = fmt(abs(v[0]), digits)
            return f"{'+' if v[0] >= 0 else '-'}{mag} point{'' if mag == '1' else 's'}"
        each = [f"{'+' if x >= 0 else '-'}{fmt(abs(x), digits)} to {n}" for x, n in zip(v, self._targets()) if x != 0]
        return f"points ({', '.join(each) or '0'})"

    def _targets(self) -> list[str]:
        return (
            self.class_names
            if self.task == "classify" and len(self.class_names) == self.base.size
            else self.output_names
        )

    def head(self) -> str:
        """What the scorecard covers, in one line."""
        n_lin = int(np.count_nonzero(np.any(self.linear != 0, axis=0)))
        lin = f"linear part on {n_lin} feature(s)" if n_lin else "no linear part"
        real = self.hidden_width - self.paired
        used = f"{len(self.units)} of {real} hidden units used" if real else ""
        if self.paired:
            used += f"{', ' if used else ''}{self.paired} {'more ' if used else ''}units written as the linear part"
        used = used or "a linear model"
        return f"Scorecard ({used}, {lin}; exact, in the features' own units)"

    def rows(self, digits: int = 6) -> list[tuple[str, str]]:
        """(label, points) per line of the card: start, the linear part per feature, the units; zeros left out."""
        names, ind = self.feature_names, self.indicator
        rows: list[tuple[str, str]] = [("start", self._points(self.base, digits))]
        for i in np.flatnonzero(np.any(self.linear != 0, axis=0)):
            each = f"if {names[i]}" if ind[i] else f"per unit of {names[i]}"
            rows.append((names[i], f"{self._points(self.linear[:, i], digits)} {each}"))
        for pos, (n, w, b, p) in enumerate(zip(self.unit_names(), self.weights, self.biases, self.points.T)):
            if pos in self.rules:
                rows.extend(self._rule_rows(f"unit {n}", self.rules[pos], p, digits))
                continue
            e = expression(w, float(b), names, ind, digits)
            rows.append((f"unit {n}", f"{self._points(p, digits)} per unit of ({e}) when that is positive"))
        return rows

    def _rule_rows(self, label: str, ur: UnitRules, p: np.ndarray, digits: int) -> list[tuple[str, str]]:
        """A rule unit's lines: ``+3 points if A and not B`` per rule (one line when it has one rule)."""
        names = self.feature_names
        reads = ", ".join(names[i] for i in ur.inputs)
        if not ur.rules:
            return [(label, f"0 points (reads only the 0/1 features {reads}; never positive on them)")]
        each = [f"{self._points(p * r.value, digits)} if {r.condition(names)}" for r in ur.rules]
        if len(ur.rules) == 1 and not (ur.rules[0].when or ur.rules[0].unless):  # the same on every combination
            return [(label, f"{self._points(p * ur.rules[0].value, digits)} always (a constant: reads {reads})")]
        if len(each) == 1:
            return [(label, f"{each[0]} (otherwise 0)")]
        head = f"reads only the 0/1 features {reads}; the points of the one line that applies (otherwise 0):"
        return [(label, head), *(("", f"  {e}") for e in each)]

    def notes(self, digits: int = 6) -> list[str]:
        """The lines after the card: the factor of the points (if not 1), the decision rule, the check."""
        out = []
        score = "points"
        if self.scale != 1.0:
            score = f"{fmt(self.scale, digits)} * points"
            if self.task == "classify":
                out.append(f"the network's score is {score} (a positive factor: the decision is the same)")
                score = "points"
        out.append(_decision(self.task, self.class_names, self.output_names, self.base.size, score))
        if self.logistic and len(self.class_names) == 2:
            factor = "" if self.scale == 1.0 else f"{fmt(self.scale, digits)} * "
            out.append(
                f"risk (trained with the logistic loss): P({self.class_names[1]}) = 1 / (1 + exp(-{factor}points)); "
                + ", ".join(f"{p:+g} points: {100 * r:.0f} %" for p, r in zip(RISK_POINTS, self.risks()))
            )
        out.append(_checked(self.max_error, digits))
        if self.rules:
            out.append(
                f"(the rules of {len(self.rules)} unit(s) checked against the network on every 0/1 combination of "
                f"their features{self._allowed_words()}, the others at random: largest difference "
                f"{self.rules_error:.1g})"
            )
        return out

    def _allowed_words(self) -> str:
        """How the one-hot groups restrict the rules' combinations ("" without groups among their inputs)."""
        read = {i for ur in self.rules.values() for i in ur.inputs}
        if not any(read & set(g) for g in self.groups):
            return ""
        return " that the domain allows (one level per one-hot group)"

    def lines(self, digits: int = 6) -> list[str]:
        """The scorecard as text lines (numbers with ``digits`` significant digits; 0: exact)."""
        rows = self.rows(digits)
        width = max(len(r[0]) for r in rows)
        body = [f"  {label:<{width}}  {text}" for label, text in rows]
        return [self.head(), "points = the sum of these lines:", *body, *self.notes(digits)]

    def render(self, digits: int = 6) -> str:
        return "\n".join(self.lines(digits))


def scorecard(net: Network) -> Scorecard:
    """The exact scorecard of a network with at most one hidden layer (module docstring); UnsupportedError for
    deeper networks (see :func:`readable`) and for layers that are not Dense / Normalize / ReLU-type."""
    bl = _blocks(net, max_hidden=1)
    d = net.n_inputs
    if len(bl.weights) == 1:  # no hidden layer: a linear model
        W1, b1, alpha = np.zeros((0, d)), np.zeros(0), 0.0
        V, c = np.zeros((bl.weights[0].shape[0], 0)), bl.biases[0]
        base, linear = c.copy(), bl.weights[0].copy()
    else:
        W1, b1, alpha = bl.weights[0], bl.biases[0], bl.slopes[0]
        V, c = bl.weights[1], bl.biases[1]
        # max(alpha z, z) = alpha z + (1 - alpha) max(0, z)
        linear = alpha * (V @ W1)
        base = c + alpha * (V @ b1)
        V = (1.0 - alpha) * V
    H = W1.shape[0]
    keep = np.any(V != 0, axis=0)

    # pairs w_q = -w_p, b_q = -b_p, V_q = -V_p: V_p (max(0, z) - max(0, -z)) = V_p z
    def key(j: int, sign: float) -> bytes:  # + 0.0 makes -0.0 the +0.0 of the partner's bytes
        return (sign * np.concatenate([W1[j], [b1[j]], V[:, j]]) + 0.0).tobytes()

    rows = {key(j, 1.0): j for j in range(H) if keep[j]}
    paired = 0
    for p in range(H):
        if not keep[p] or not np.any(W1[p]):
            continue
        q = rows.get(key(p, -1.0))
        if q is not None and q != p and keep[q]:
            linear = linear + np.outer(V[:, p], W1[p])
            base = base + V[:, p] * b1[p]
            keep[p] = keep[q] = False
            paired += 2
    const = keep & ~np.any(W1 != 0, axis=1)  # w_j = 0: the constant max(0, b_j)
    base = base + V[:, const] @ np.maximum(0.0, b1[const])
    keep &= ~const
    s = grid_step(V[:, keep])
    classes = [str(k) for k in (net.class_names or [])]
    card = Scorecard(
        feature_names=list(net.feature_names),
        indicator=indicator_features(net),
        task=net.task,
        class_names=classes,
        output_names=[str(n) for n in net.output_names],
        scale=s,
        base=base / s,
        linear=linear / s,
        weights=W1[keep],
        biases=b1[keep],
        points=V[:, keep] / s,
        units=[int(j) for j in np.flatnonzero(keep)],
        hidden_width=H,
        paired=paired,
        logistic=net.task == "classify" and base.size == 1 and _trained_loss(net) == "logistic",
    )
    card.max_error = _check(net, card)
    card.groups = [[int(i) for i in g] for g in net.domain.onehot_groups]
    _add_rules(net, card)
    return card


def _trained_loss(net: Network) -> str | None:
    """The training loss its certificate records (None for a network without one)."""
    cert = (net.metadata or {}).get("certificate")
    return str(cert.get("loss")) if isinstance(cert, dict) and cert.get("loss") else None


def _add_rules(net: Network, card: Scorecard) -> None:
    """The units that read only 0/1 features as rules (:mod:`mipnet.explain.rules`), checked against the
    forward pass on every 0/1 combination of their inputs; a unit over the size cap keeps its expression."""
    for pos in range(len(card.units)):
        ur = unit_rules(card.weights[pos], float(card.biases[pos]), card.indicator, net.domain.onehot_groups)
        if ur is not None:
            card.rules[pos] = ur
    card.rules_error = rules_error(card, net)
    if not card.rules_error <= TOL:
        raise MipnetError(
            f"internal error: the rules differ from the network by {card.rules_error:.3g} on 0/1 inputs; not shown"
        )


# ----------------------------------------------------------------------------- deeper networks


@dataclass
class LayerForm:
    """The exact layer-by-layer sparse form: h^(l) = max(alpha_l z, z), z = weights[l] h^(l-1) + biases[l],
    h^(0) = x in the features' own units; the last map gives the outputs."""

    feature_names: list[str]
    indicator: np.ndarray
    task: str
    class_names: list[str]
    output_names: list[str]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    slopes: list[float]
    max_error: float = 0.0

    def evaluate(self, X: Any) -> np.ndarray:
        h = np.atleast_2d(np.asarray(X, dtype=np.float64))
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = h @ W.T + b
            h = np.maximum(self.slopes[l] * z, z) if l < len(self.slopes) else z
        return h

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "layers",
            "features": list(self.feature_names),
            "task": self.task,
            "classes": list(self.class_names),
            "outputs": list(self.output_names),
            "layers": [
                {"weight": W.tolist(), "bias": b.tolist(), "slope": self.slopes[l] if l < len(self.slopes) else None}
                for l, (W, b) in enumerate(zip(self.weights, self.biases))
            ],
            "max_error": self.max_error,
        }

    def lines(self, digits: int = 6) -> list[str]:
        L = len(self.slopes)
        used = [np.ones(W.shape[0], dtype=bool) for W in self.weights]
        for l in range(L - 1, -1, -1):  # a unit no later unit reads is left out of the text
            used[l] = np.any(self.weights[l + 1][used[l + 1]] != 0, axis=0)
        out = [
            f"This network has {L} hidden layers: the scorecard covers one hidden layer. Its exact layer-by-layer "
            "sparse form, the first layer in the features' own units (units no later layer reads left out):"
        ]
        names, ind = self.feature_names, self.indicator
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            last = l == L
            a = self.slopes[l] if not last else 0.0
            out.append(
                "outputs:" if last else f"layer {l + 1} ({'ReLU' if a == 0 else f'LeakyReLU {fmt(a, digits)}'}):"
            )
            for j in np.flatnonzero(used[l]):
                e = expression(W[j], float(b[j]), names, ind, digits)
                if last:
                    label = self.output_names[j]
                    out.append(f"  {label} = {e}")
                elif a == 0:
                    out.append(f"  h{l + 1}_{j + 1} = max(0, {e})")
                else:
                    out.append(f"  h{l + 1}_{j + 1} = max({fmt(a, digits)} * z, z), z = {e}")
            names = [f"h{l + 1}_{j + 1}" for j in range(W.shape[0])]
            ind = np.zeros(W.shape[0], dtype=bool)
        out.append(_decision(self.task, self.class_names, self.output_names, self.weights[-1].shape[0], "output"))
        out.append(_checked(self.max_error, digits))
        return out

    def render(self, digits: int = 6) -> str:
        return "\n".join(self.lines(digits))


def readable(net: Network) -> Scorecard | LayerForm:
    """The scorecard of a network with at most one hidden layer, else its exact layer-by-layer sparse form."""
    bl = _blocks(net)
    if len(bl.weights) <= 2:
        return scorecard(net)
    form = LayerForm(
        feature_names=list(net.feature_names),
        indicator=indicator_features(net),
        task=net.task,
        class_names=[str(k) for k in (net.class_names or [])],
        output_names=[str(n) for n in net.output_names],
        weights=bl.weights,
        biases=bl.biases,
        slopes=bl.slopes,
    )
    form.max_error = _check(net, form)
    return form


__all__ = ["Scorecard", "LayerForm", "scorecard", "readable", "indicator_features", "grid_step", "fmt", "expression"]
