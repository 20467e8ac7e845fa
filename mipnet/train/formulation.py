"""The training MILP: weights as bounded variables, one ReLU binary per hidden unit per sample.

Data: standardised samples x_n in R^d, n = 1..N; targets y_n in {-1, +1} (binary), a class index
(multiclass) or a standardised real (regression). Network: Dense_0 -> ReLU -> ... -> Dense_L.
Every sample is encoded by the one encoder (:func:`mipnet.encode.encode_network`) on its own block,
with the *same* weight terms (:class:`~mipnet.encode.VariableWeights`) shared by all samples:

    z^1_n = W_0 x_n + b_0                 linear in (W_0, b_0): x_n is data
    h^l_n = ReLU(z^l_n)                   the encoder's big-M with binary a^l_n (per sample)
    z^{l+1}_n = W_l h^l_n + b_l           product W_l h^l_n: the hypothesis class's product rule

Per-sample big-M (``tight_bounds``): the encoder's interval bounds with x_n constant are
|W_0 x_n + b_0| <= B_w ||x_n||_1 + B_b, per sample. The plain formulation (``tight_bounds=False``)
uses the bounds of the data's bounding box instead: B_w sum_i max_n |x_ni| + B_b, one M for all samples.

**Hypothesis classes** (the product rule and the weight variables):

* ``sign`` (one hidden layer, one output): W_0 in [-B_w, B_w], output weights v_j = p_j - q_j with
  binaries p_j + q_j <= 1 (positive homogeneity: v_j ReLU(w_j x + b_j) = sign(v_j) ReLU(|v_j| w_j x
  + |v_j| b_j)). v_j = 0 prunes neuron j and forces its weights and bias to 0:
  |W_0[j, i]| <= B_w (p_j + q_j), |b_0[j]| <= B_b (p_j + q_j).
* ``quantized`` (any depth and outputs): W_0 continuous; W_l (l >= 1) = s_l k with k in {-Q..Q}
  written k = -Q + sum_t 2^t beta_t, beta binary, sum_t 2^t beta_t <= 2Q.
* ``continuous``: every W_l in [-B_w, B_w]; the products stay bilinear (Gurobi / SCIP only).

Exact product of a binary beta and a bounded continuous h in [L, U] (sign and quantized classes):

    y = beta h:  L beta <= y <= U beta,   h - U (1 - beta) <= y <= h - L (1 - beta).

**Losses** (mean over the N samples; with ``sample_weight`` c_n, the weighted sum (1/D) sum_n c_n loss_n over D =
``loss_denominator`` rows):

* ``hinge``: xi_n >= m - y_n f(x_n), xi_n >= 0
* ``multiclass_hinge`` (Crammer-Singer): xi_n >= m + f_k(x_n) - f_{y_n}(x_n) for all k != y_n, xi_n >= 0
* ``zero_one``: e_n binary, y_n f(x_n) >= m - M_n e_n (multiclass: f_{y_n} - f_k >= m - M_nk e_n);
  the count of samples without margin m
* ``l1`` (regression): r_n >= +-(f(x_n) - y_n)
* ``squared``: r_n >= (f(x_n) - y_n)^2; for HiGHS (linear only) the tangent-line outer approximation
  r_n >= 2 a (f - y) - a^2 for a on a grid of the residual's bounds (a lower approximation, so the
  solver's bound stays valid; the certificate reports the true value too).

**Exact data reduction** (:func:`merge_rows`): rows with the same (standardised x, target) have the same loss for
every network, so they are one block with weight c_n = their count and D = the original row count: the objective
is the unmerged one for every network, with one set of ReLU binaries per distinct row. Everything else that
reads the rows is exact on the merged rows too: the Lipschitz pair cuts and the convex-combination cuts
(:mod:`.hull_cuts`) are valid inequalities between any two (or more) inputs, the completion and the LP heuristic
(:mod:`.warmstart`) read the model's objective, the sign patterns' directional relaxation (:mod:`.signs`) is
per row and sign of y_n, unchanged by a positive weight; the sample groups (:mod:`.groups`) carry the weights.
Identical x with different labels stay separate rows (one per label).

**Penalties** (over the Dense weights, biases excluded): l1 sum |w| (t >= +-w), l2 sum w^2 (quadratic for
Gurobi/SCIP, tangent outer approximation for HiGHS), l0 sum s_w with |w| <= |w|_max s_w, neuron
penalty sum u_j with u_j = 1 needed for any nonzero in-weight, bias or out-weight of hidden unit j
(sign class: u_j = p_j + q_j), layer penalty c_l * (number of hidden layers present, below).
Budgets: sum s_w <= K (``max_nonzeros``), sum u_j <= J (``max_neurons``).

**Layer switches** (``layer_penalty > 0``, quantized and continuous classes): hidden Dense layer l >= 1
(counted in ``hidden``; conv nets: the dense head) whose input width equals its output width is
*skippable*: its input h^{l-1} is a ReLU output, h >= 0, so ReLU(h) = h and removing the pair
Dense_l + ReLU is the identity. A binary r_l (1 = layer present) per skippable layer; the value fed
to the next layer is

    g^l_n = r_l ReLU(W_l h^{l-1}_n + b_l) + (1 - r_l) h^{l-1}_n,

per sample, both products of a binary and a bounded continuous value written with the exact
product rule above (y1 = r_l a with a = ReLU(z) in [L_a, U_a], y2 = (1 - r_l) h with h in [L_h, U_h],
g = y1 + y2 in [min(L_a, L_h), max(U_a, U_h)]), through the encoder's ``after`` hook. A skipped layer
is all zero, |W_l[j, i]| <= |w|_max r_l and |b_l[j]| <= B_b r_l, so *a skippable layer whose weights
and bias are all exactly zero is the identity* (the convention of the numpy side: forward pass,
warm start, returned network, certificate). With unit switches: u^l_j <= r_l (the units of a skipped
layer are not counted), r_l <= sum_j u^l_j, and the out-weights of g^l_j are gated by the unit that
produces it in the network without the skipped layers: for each m <= l down to the first layer
without a switch,

    |W_{l+1}[k, j]| <= |w|_max (u^m_j + sum_{i = m+1..l} r_i + [m skippable] (1 - r_m)),

which binds only when m is the nearest present layer (r_{m+1} = .. = r_l = 0, r_m = 1); with
m = l and no switch it is the plain gating |W_{l+1}[k, j]| <= |w|_max u^l_j. Layer term:
c_l (#hidden layers without a switch + sum_l r_l), a constant when no layer is skippable.

**Lipschitz pair cuts** (sign class with l1 > 0, ``lipschitz_pairs`` partners per sample): for samples
n, m with t_n > t_m, f(x_n) - f(x_m) <= sum_i |x_ni - x_mi| sum_j t_ji with t >= |W_0| the l1
variables (:meth:`TrainingProblem._lipschitz_cuts`). Valid for every network of the class; they stop
the relaxation from separating the classes with zero weights.

**Conv architectures** (``architecture``, :mod:`.conv`): the template comes from the spec, the
parametrised layers are Conv2D and Dense (``params`` in layer order, conv first, ``hidden_offset`` =
number of conv layers), weights keep their layer's shape, and :meth:`TrainingProblem._extra_terms`
adds the channel switches; everything below applies unchanged.

**Symmetry breaking** (hidden units of one layer are interchangeable):
sign class: p_{j+1} <= p_j, p_{j+1} + q_{j+1} <= p_j + q_j (positive units first, then negative,
then pruned), b_j >= b_{j+1} - 2 B_b (1 - p_{j+1}) and b_j >= b_{j+1} - 2 B_b (2 - q_j - q_{j+1})
(biases non-increasing within a sign group). Other classes: u_{j+1} <= u_j with switches, and
b_j >= b_{j+1} - 2 B_b (1 - u_{j+1}) (biases non-increasing among active units; without switches
b_j >= b_{j+1}).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pyomo.environ as pyo

from ..deadline import Deadline, OutOfTime
from ..encode import NetworkEncoding, Terms, VariableWeights, bilinear_product, encode_network
from ..encode.terms import constraint_list, new_binaries, new_vars
from ..errors import DataError, UnsupportedError
from ..layers import Conv2D, Dense, Layer, ReLU
from ..network import Network

HYPOTHESES = ("auto", "sign", "quantized", "continuous")
CLASSIFY_LOSSES = ("auto", "hinge", "multiclass_hinge", "zero_one")
REGRESS_LOSSES = ("auto", "l1", "squared")
QUADRATIC_SOLVERS = ("gurobi", "scip")
#: building the model under a deadline: samples encoded between two checks; the rest of the build (losses,
#: penalties, cuts) per second of sample encoding (measured 0.1-0.25 at N = 300-3000)
BUILD_CHECK_EVERY = 16
BUILD_TAIL = 0.25


def _check_build(dl: Deadline, spent: float, done: int, total: int, after: float) -> None:
    """Raise OutOfTime if the deadline has passed, or if ``done`` of ``total`` samples encoded in ``spent``
    seconds show that the rest of the build and ``after`` x the whole build's time would not end before it."""
    if dl.expired():
        raise OutOfTime("the time limit passed while the training model was being built")
    if spent < 0.5 or done < 0.05 * total:
        return  # too early for a projection
    rest = spent * (total - done) / done
    build = (spent + rest) * (1.0 + BUILD_TAIL)
    need = build - spent + after * build
    if need > dl.remaining():
        raise OutOfTime(f"building the training model ({total} samples) would need about {need:.1f} s more, "
                        f"{dl.remaining():.1f} s are left")


@dataclass
class TrainConfig:
    """Everything that defines the optimisation problem (not how long it is solved)."""

    hidden: tuple[int, ...] = (3,)
    hypothesis: str = "auto"
    loss: str = "auto"
    margin: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    l0: float = 0.0
    neuron_penalty: float = 0.0
    layer_penalty: float = 0.0
    max_nonzeros: int | None = None
    max_neurons: int | None = None
    weight_bound: float = 1.0
    bias_bound: float = 1.0
    levels: int = 1
    scale: float = 1.0
    tight_bounds: bool = True
    symmetry_breaking: bool = True
    #: Lipschitz pair cuts (sign class with l1 > 0): partners per sample, 0 = off
    lipschitz_pairs: int = 20
    oa_points: int = 9
    #: conv architectures (:mod:`mipnet.train.architecture`); None = the dense ``hidden`` net
    architecture: tuple[tuple[Any, ...], ...] | None = None
    channel_penalty: float = 0.0
    max_channels: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        if self.architecture is not None:
            d["architecture"] = [list(e) for e in self.architecture]
        return d


def resolve_config(config: TrainConfig, task: str, n_classes: int) -> TrainConfig:
    """Fill the ``auto`` choices and validate; returns a new config."""
    hidden = tuple(int(h) for h in config.hidden)
    conv = config.architecture is not None
    if conv:  # the dense head's widths come from the architecture
        from .architecture import dense_widths, parse_architecture

        assert config.architecture is not None
        arch = parse_architecture(config.architecture)
        hidden = dense_widths(arch)
        config = replace(config, architecture=arch)
    if (not hidden and not conv) or any(h < 1 for h in hidden):
        raise DataError(f"hidden layer sizes must be positive integers, got {list(config.hidden)}")
    n_out = 1 if task == "regress" or n_classes == 2 else n_classes
    hyp = config.hypothesis
    if hyp not in HYPOTHESES:
        raise DataError(f"hypothesis class must be one of {HYPOTHESES[1:]}, got {hyp!r}")
    if hyp == "auto":
        hyp = "sign" if len(hidden) == 1 and n_out == 1 and not conv else "quantized"
    if hyp == "sign" and conv:
        raise UnsupportedError("conv architectures use hypothesis='quantized' (or 'continuous' on SCIP/Gurobi)")
    if hyp == "sign" and (len(hidden) != 1 or n_out != 1):
        raise UnsupportedError("the sign class has one hidden layer and one output; use hypothesis='quantized'")
    loss = config.loss
    if task == "classify":
        if loss not in CLASSIFY_LOSSES:
            raise DataError(f"classification loss must be one of {CLASSIFY_LOSSES[1:]}, got {loss!r}")
        if loss == "auto":
            loss = "hinge" if n_out == 1 else "multiclass_hinge"
        if loss == "hinge" and n_out > 1:
            loss = "multiclass_hinge"
        if loss == "multiclass_hinge" and n_out == 1:
            loss = "hinge"
    else:
        if loss not in REGRESS_LOSSES:
            raise DataError(f"regression loss must be one of {REGRESS_LOSSES[1:]}, got {loss!r}")
        if loss == "auto":
            loss = "l1"
    for name in ("l1", "l2", "l0", "neuron_penalty", "layer_penalty", "channel_penalty", "margin"):
        v = float(getattr(config, name))
        if not np.isfinite(v) or v < 0:
            raise DataError(f"{name} must be a finite number >= 0, got {v}")
    for name in ("weight_bound", "bias_bound", "scale"):
        v = float(getattr(config, name))
        if not np.isfinite(v) or v <= 0:
            raise DataError(f"{name} must be a finite number > 0, got {v}")
    if int(config.levels) < 1:
        raise DataError(f"levels (Q) must be >= 1, got {config.levels}")
    for name in ("max_nonzeros", "max_neurons", "max_channels"):
        v = getattr(config, name)
        if v is not None and int(v) < 0:
            raise DataError(f"{name} must be >= 0, got {v}")
    if int(config.oa_points) < 2:
        raise DataError("oa_points must be at least 2")
    return replace(config, hidden=hidden, hypothesis=hyp, loss=loss, levels=int(config.levels))


def template_network(n_in: int, hidden: tuple[int, ...], n_out: int) -> Network:
    """Dense -> ReLU -> ... -> Dense with zero weights: the architecture the MILP fills in."""
    sizes = [n_in, *hidden, n_out]
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(np.zeros((b, a)), np.zeros(b)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, task="classify" if n_out >= 1 else "regress")


@dataclass
class LayerParams:
    """The parameters of one Dense layer as Pyomo terms, with their representation.

    ``kind``: ``continuous`` (Var), ``sign`` (p - q) or ``quantized`` (s (-Q + sum 2^t beta_t)).
    ``expansion[k] = (scale, offset, [(coef, binary), ...])`` for discrete weight k (flat index).
    """

    kind: str
    weight: np.ndarray  # object (out, in)
    bias: np.ndarray  # object (out,)
    w_lower: np.ndarray
    w_upper: np.ndarray
    b_lower: np.ndarray
    b_upper: np.ndarray
    w_var: Any = None
    b_var: Any = None
    expansion: dict[int, tuple[float, float, list[tuple[float, Any]]]] = field(default_factory=dict)
    p: np.ndarray | None = None  # sign class binaries
    q: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape

    def variable_weights(self) -> VariableWeights:
        return VariableWeights(self.weight, self.bias, self.w_lower, self.w_upper, self.b_lower, self.b_upper)

    @property
    def w_abs_max(self) -> np.ndarray:
        return np.maximum(np.abs(self.w_lower), np.abs(self.w_upper))


class ExpansionProduct:
    """The exact product rule of the sign and quantized classes, for :func:`encode_network`.

        w h = s (offset h + sum_t c_t (beta_t h)),  each beta_t h linearised exactly (module doc).
    """

    def __init__(self) -> None:
        self.expansion: dict[int, tuple[float, float, list[tuple[float, Any]]]] = {}
        self._count: dict[int, int] = {}

    def register(self, w: Any, scale: float, offset: float, bits: list[tuple[float, Any]]) -> None:
        self.expansion[id(w)] = (scale, offset, bits)

    def __call__(self, block: pyo.Block, w: Any, w_lo: float, w_hi: float, x: Any, x_lo: float, x_hi: float) -> Any:
        entry = self.expansion.get(id(w))
        if entry is None:
            raise UnsupportedError("a product of two continuous variables needs the continuous class (SCIP/Gurobi)")
        scale, offset, bits = entry
        k = self._count.get(id(block), 0)
        self._count[id(block)] = k + 1
        n = len(bits)
        y = new_vars(block, f"prod{k}", np.full(n, min(0.0, x_lo)), np.full(n, max(0.0, x_hi)))
        cons = constraint_list(block, f"prod{k}_def")
        parts = []
        for t, (c, beta) in enumerate(bits):
            add_product_rows(cons, y[t], beta, x, x_lo, x_hi)
            parts.append(c * y[t])
        expr = pyo.quicksum(parts)
        if offset != 0.0:
            expr = expr + offset * x
        return scale * expr if scale != 1.0 else expr


def add_product_rows(cons: pyo.ConstraintList, y: Any, beta: Any, x: Any, lo: float, hi: float) -> None:
    """y = beta x exactly for beta in {0, 1} and x in [lo, hi] (module docstring's product rule):
    lo beta <= y <= hi beta,  x - hi (1 - beta) <= y <= x - lo (1 - beta)."""
    cons.add(y <= hi * beta)
    cons.add(y >= lo * beta)
    cons.add(y <= x - lo * (1 - beta))
    cons.add(y >= x - hi * (1 - beta))


def tangent_points(lo: float, hi: float, k: int) -> np.ndarray:
    """Tangent points of the outer approximation of a^2 on [lo, hi]: 0 and +-M 2^{-i/2}, i = 0..2k,
    M = max(|lo|, |hi|), restricted to [lo, hi]. Between neighbours a < sqrt(2) a the approximation
    error of r^2 is at most ((sqrt(2) - 1) a)^2 / 4, about 4.3 % of a^2."""
    M = max(abs(float(lo)), abs(float(hi)))
    mags = M * 2.0 ** (-np.arange(2 * k + 1) / 2.0)
    pts = np.concatenate([[0.0], mags, -mags])
    pts = pts[(pts >= lo - 1e-12) & (pts <= hi + 1e-12)]
    return np.unique(np.concatenate([pts, [float(lo), float(hi)]]))


def _bits_for(levels: int) -> list[float]:
    """Binary-expansion coefficients 2^t with sum >= 2Q (k + Q in {0..2Q})."""
    n = int(np.ceil(np.log2(2 * levels + 1)))
    return [float(2**t) for t in range(n)]


def merge_rows(X: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, target) rows in the order of their first occurrence: (X_u, target_u, counts, inverse) with
    X[i] == X_u[inverse[i]], target[i] == target_u[inverse[i]] (bit-for-bit equal float64 rows are merged)."""
    X = np.asarray(X, dtype=np.float64)
    target = np.asarray(target)
    if X.shape[0] == 0:
        return X, target, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    Z = np.ascontiguousarray(np.column_stack([X.reshape(X.shape[0], -1), target.astype(np.float64)]))
    Z[Z == 0.0] = 0.0  # -0.0 and 0.0 are one value
    _, first, inverse, counts = np.unique(Z, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).ravel()
    order = np.argsort(first, kind="stable")  # first-occurrence order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    keep = first[order]
    return X[keep], target[keep], counts[order].astype(np.int64), rank[inverse]


class TrainingProblem:
    """Builds the Pyomo model for standardised data; see the module docstring for the formulation.

    ``X`` (N, d) standardised inputs; ``target``: y in {-1, +1} (binary), class index (multiclass)
    or standardised value (regression). ``solver`` decides quadratic terms versus outer approximations.
    ``sample_weight``: a positive weight per row (the counts of :func:`merge_rows`), the loss is
    (1/D) sum_n c_n loss_n with D = ``loss_denominator`` (default: the sum of the weights, N without weights).
    """

    def __init__(self, X: np.ndarray, target: np.ndarray, task: str, n_classes: int, config: TrainConfig,
                 solver: str = "highs", penalty_weight: float = 1.0, loss_denominator: float | None = None,
                 deadline: Deadline | None = None, after_build: float = 0.0,
                 sample_weight: np.ndarray | None = None) -> None:
        # ``deadline``: building stops (OutOfTime) once it has passed, or once the samples encoded so far show
        # that the rest of the build plus ``after_build`` x the build time (the caller's translation to the
        # solver) would not end before it (see :func:`_check_build`)
        self.deadline = deadline
        self.after_build = float(after_build)
        self.X = np.asarray(X, dtype=np.float64)
        self.target = np.asarray(target)
        self.task = task
        self.n_classes = n_classes
        self.config = config = resolve_config(config, task, n_classes)
        self.solver = solver
        self.penalty_weight = float(penalty_weight)
        self.N, self.d = self.X.shape
        if sample_weight is None:
            self.sample_weight = np.ones(self.N)
        else:
            self.sample_weight = np.asarray(sample_weight, dtype=np.float64).ravel()
            if self.sample_weight.shape != (self.N,) or not np.all(np.isfinite(self.sample_weight)) \
                    or np.any(self.sample_weight <= 0):
                raise DataError(f"sample_weight must be {self.N} finite positive numbers (one per row)")
        D = float(loss_denominator) if loss_denominator else float(self.sample_weight.sum())
        #: the loss is (1/D) sum_n c_n loss_n (an int when the weights are counts)
        self.loss_denominator: float = int(D) if D.is_integer() else D
        self.n_out = 1 if task == "regress" or n_classes == 2 else n_classes
        self.quadratic = solver in QUADRATIC_SOLVERS
        if config.hypothesis == "continuous":
            self.product: Any = bilinear_product
        else:
            self.product = ExpansionProduct()
        self.template = self._template()
        # parametrised layers (Dense and Conv2D) in order; params[k] belongs to layer dense_idx[k]
        self.dense_idx = [i for i, l in enumerate(self.template.layers) if isinstance(l, (Dense, Conv2D))]
        # params[hidden_offset + l] feeds hidden Dense layer l (conv layers come first)
        self.hidden_offset = len(self.dense_idx) - len(config.hidden) - 1
        self.model = pyo.ConcreteModel()
        self.params: list[LayerParams] = []
        self.switch_groups: list[tuple[Any, list[Any]]] = []  # (binary, weight terms it gates) for canonicalising
        self.nonzero_ind: list[list[Any]] = []  # per Dense layer: flat indicator expr per weight (or None)
        self.neuron_ind: list[np.ndarray] = []  # per hidden layer: indicator expr per unit (or None)
        self.layer_switch: list[Any] = []  # per hidden layer: r_l (1 = present) or None (not skippable)
        self.oa_terms: dict[str, list[tuple[Any, np.ndarray]]] = {}  # term -> [(var, tangent points)]
        self.abs_vars: dict[int, Any] = {}  # layer -> t >= |W| (continuous layers, when l1 > 0)
        self.cut_pairs: list[tuple[int, int]] = []
        t0 = time.monotonic()
        self._build()
        #: seconds the model took to build (translation and presolve costs are estimated from it)
        self.build_seconds = time.monotonic() - t0

    def _template(self) -> Network:
        """The architecture the MILP fills in (all parameters zero)."""
        return template_network(self.d, self.config.hidden, self.n_out)

    # ------------------------------------------------------------------ weights
    def _build_params(self) -> None:
        cfg, m = self.config, self.model
        for l, i in enumerate(self.dense_idx):
            layer = self.template.layers[i]
            assert isinstance(layer, (Dense, Conv2D))  # dense_idx: the parametrised layers
            wshape = tuple(layer.weight.shape)
            n_out = wshape[0]
            blo, bhi = np.full(n_out, -cfg.bias_bound), np.full(n_out, cfg.bias_bound)
            b_var = new_vars(m, f"b{l}", blo, bhi)
            kind = "continuous"
            if l >= 1 and cfg.hypothesis == "sign":
                kind = "sign"
            elif l >= 1 and cfg.hypothesis == "quantized":
                kind = "quantized"
            if kind == "continuous":
                wlo, whi = np.full(wshape, -cfg.weight_bound), np.full(wshape, cfg.weight_bound)
                w_var = new_vars(m, f"W{l}", wlo, whi)
                self.params.append(LayerParams(kind, w_var, b_var, wlo, whi, blo, bhi, w_var, b_var))
                continue
            weight = np.empty(wshape, dtype=object)
            lp = LayerParams(kind, weight, b_var, np.zeros(wshape), np.zeros(wshape), blo, bhi,
                             None, b_var)
            if kind == "sign":
                p = new_binaries(m, f"p{l}", wshape)
                q = new_binaries(m, f"q{l}", wshape)
                cons = constraint_list(m, f"pq{l}")
                for idx in np.ndindex(wshape):
                    cons.add(p[idx] + q[idx] <= 1)
                    weight[idx] = p[idx] - q[idx]
                    self.product.register(weight[idx], 1.0, 0.0, [(1.0, p[idx]), (-1.0, q[idx])])
                    lp.expansion[int(np.ravel_multi_index(idx, wshape))] = (1.0, 0.0, [(1.0, p[idx]),
                                                                                            (-1.0, q[idx])])
                lp.p, lp.q = p, q
                lp.w_lower[:], lp.w_upper[:] = -1.0, 1.0
            else:
                Q, s = cfg.levels, cfg.scale
                coefs = _bits_for(Q)
                beta = new_binaries(m, f"beta{l}", wshape + (len(coefs),))
                cons = constraint_list(m, f"beta{l}_range")
                for idx in np.ndindex(wshape):
                    bits = [(c, beta[idx + (t,)]) for t, c in enumerate(coefs)]
                    if sum(coefs) > 2 * Q:
                        cons.add(sum(c * b for c, b in bits) <= 2 * Q)
                    weight[idx] = s * (sum(c * b for c, b in bits) - Q)
                    if not isinstance(self.product, ExpansionProduct):
                        continue
                    self.product.register(weight[idx], s, -float(Q), bits)
                    lp.expansion[int(np.ravel_multi_index(idx, wshape))] = (s, -float(Q), bits)
                lp.w_lower[:], lp.w_upper[:] = -s * Q, s * Q
            self.params.append(lp)

    # ------------------------------------------------------------------ samples
    def _inputs(self) -> list[Terms]:
        if self.config.tight_bounds:
            return [Terms.constant(x) for x in self.X]
        lo, hi = self.X.min(axis=0), self.X.max(axis=0)
        out = []
        for x in self.X:
            t = Terms.constant(x)
            out.append(Terms(t.expr, lo.copy(), hi.copy()))
        return out

    def _encode_samples(self) -> None:
        m = self.model
        m.S = pyo.Block(range(self.N))
        dl = getattr(self, "deadline", None)
        self.encodings = []
        t0 = time.monotonic()
        for n, inp in enumerate(self._inputs()):
            if dl is not None and n and n % BUILD_CHECK_EVERY == 0:
                _check_build(dl, time.monotonic() - t0, n, self.N, getattr(self, "after_build", 0.0))
            self.encodings.append(self.encode(m.S[n], inp))
        if dl is not None and dl.expired():
            raise OutOfTime("the time limit passed while the training model was being built")
        self.outputs: list[Terms] = [enc.outputs for enc in self.encodings]

    def encode(self, block: pyo.Block, inputs: Terms) -> NetworkEncoding:
        """The template applied to ``inputs`` on ``block`` with the shared weight terms, the class's
        product rule and the layer switches: every sample, and any further point (monotone pairs)."""
        weights: list[VariableWeights | None] = [None] * len(self.template.layers)
        for k, i in enumerate(self.dense_idx):
            weights[i] = self.params[k].variable_weights()
        return encode_network(block, self.template, inputs, weights=weights, product=self.product,
                              after=self._switch_hook(block))

    # ------------------------------------------------------------------ layer switches
    def _layer_switches(self) -> None:
        """r_l per skippable hidden layer (module docstring) with |W_l| <= |w|_max r_l, |b_l| <= B_b r_l."""
        cfg, m = self.config, self.model
        H = len(cfg.hidden)
        self.layer_switch = [None] * H
        if cfg.layer_penalty <= 0 or cfg.hypothesis not in ("quantized", "continuous"):
            return
        skippable = [l for l in range(1, H) if cfg.hidden[l - 1] == cfg.hidden[l]]
        if not skippable:
            return
        r = new_binaries(m, "layer_on", (len(skippable),))
        cons = constraint_list(m, "layer_on_force")
        o = self.hidden_offset
        for t, l in enumerate(skippable):
            lp = self.params[o + l]
            wmax = lp.w_abs_max
            for idx in np.ndindex(lp.shape):
                cons.add(lp.weight[idx] <= wmax[idx] * r[t])
                cons.add(-lp.weight[idx] <= wmax[idx] * r[t])
            for j in range(lp.shape[0]):
                cons.add(lp.bias[j] <= cfg.bias_bound * r[t])
                cons.add(-lp.bias[j] <= cfg.bias_bound * r[t])
            self.switch_groups.append((r[t], [*lp.weight.ravel(), *lp.bias]))
            self.layer_switch[l] = r[t]

    def _switch_hook(self, block: pyo.Block) -> Callable[[int, Terms], Terms] | None:
        """The encoder hook that replaces the ReLU output of each switched layer l by g^l (module doc)."""
        o = self.hidden_offset
        relu_of = {self.dense_idx[o + l] + 1: (l, r) for l, r in enumerate(self.layer_switch) if r is not None}
        if not relu_of:
            return None
        seen: dict[int, Terms] = {}

        def after(i: int, y: Terms) -> Terms:
            if i in relu_of:  # layer i - 1 is the switched Dense layer, seen[i - 2] its input h^{l-1}
                l, r = relu_of[i]
                y = _switched_value(block, f"skip{l}", r, y, seen[i - 2])
            seen[i] = y
            return y

        return after

    def _link_layer_switches(self) -> None:
        """With unit switches: u^l_j <= r_l and r_l <= sum_j u^l_j."""
        cons = None
        for l, r in enumerate(self.layer_switch):
            u = self.neuron_ind[l]
            if r is None or u[0] is None:
                continue
            if cons is None:
                cons = constraint_list(self.model, "layer_on_units")
            for uj in u:
                cons.add(uj <= r)
            cons.add(r <= pyo.quicksum(u))

    def relu_binaries(self, n: int) -> list[np.ndarray]:
        """Sample n's ReLU binaries per hidden layer (object arrays, None for stable units)."""
        enc = self.encodings[n]
        out = []
        for i, l in enumerate(self.template.layers):
            if isinstance(l, ReLU):
                b = enc.binaries[i]
                assert b is not None  # the encoder makes a binary array for every ReLU layer
                out.append(b)
        return out

    def pre_activation_bounds(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        enc = self.encodings[n]
        return [(enc.terms[i + 1].lower, enc.terms[i + 1].upper) for i in self.dense_idx]

    # ------------------------------------------------------------------ losses
    def _loss(self) -> Any:
        cfg, m, N = self.config, self.model, self.N
        mg = float(cfg.margin)
        inv = 1.0 / self.loss_denominator
        loss = cfg.loss
        self.loss_vars: dict[str, Any] = {}
        if loss == "hinge":
            xi = new_vars(m, "xi", np.zeros(N), np.full(N, np.inf))
            cons = constraint_list(m, "hinge")
            for n in range(N):
                cons.add(xi[n] >= mg - float(self.target[n]) * self.outputs[n].expr[0])
            self.loss_vars["xi"] = xi
            return inv * self._weighted(xi)
        if loss == "multiclass_hinge":
            xi = new_vars(m, "xi", np.zeros(N), np.full(N, np.inf))
            cons = constraint_list(m, "mhinge")
            for n in range(N):
                f, k_n = self.outputs[n].expr, int(self.target[n])
                for k in range(self.n_out):
                    if k != k_n:
                        cons.add(xi[n] >= mg + f[k] - f[k_n])
            self.loss_vars["xi"] = xi
            return inv * self._weighted(xi)
        if loss == "zero_one":
            e = new_binaries(m, "err", (N,))
            cons = constraint_list(m, "zero_one")
            for n in range(N):
                o = self.outputs[n]
                if self.n_out == 1:
                    yn = float(self.target[n])
                    lb = o.lower[0] if yn > 0 else -o.upper[0]
                    M = max(mg - lb, 0.0) + 1e-6
                    cons.add(yn * o.expr[0] >= mg - M * e[n])
                else:
                    yn = int(self.target[n])
                    for k in range(self.n_out):
                        if k != yn:
                            M = max(mg - (o.lower[yn] - o.upper[k]), 0.0) + 1e-6
                            cons.add(o.expr[yn] - o.expr[k] >= mg - M * e[n])
            self.loss_vars["err"] = e
            return inv * self._weighted(e)
        # regression
        res_lo = np.array([o.lower[0] for o in self.outputs]) - self.target.astype(float)
        res_hi = np.array([o.upper[0] for o in self.outputs]) - self.target.astype(float)
        if loss == "l1":
            r = new_vars(m, "res", np.zeros(N), np.maximum(np.abs(res_lo), np.abs(res_hi)))
            cons = constraint_list(m, "l1loss")
            for n in range(N):
                diff = self.outputs[n].expr[0] - float(self.target[n])
                cons.add(r[n] >= diff)
                cons.add(r[n] >= -diff)
            self.loss_vars["res"] = r
            return inv * self._weighted(r)
        r = new_vars(m, "sq", np.zeros(N), np.maximum(res_lo**2, res_hi**2))
        cons = constraint_list(m, "sqloss")
        pts_all = []
        for n in range(N):
            diff = self.outputs[n].expr[0] - float(self.target[n])
            if self.quadratic:
                cons.add(r[n] >= diff * diff)
            else:
                pts = tangent_points(res_lo[n], res_hi[n], cfg.oa_points)
                for a in pts:
                    cons.add(r[n] >= 2.0 * float(a) * diff - float(a) ** 2)
                pts_all.append(pts)
        if not self.quadratic:
            self.oa_terms["loss"] = [(r[n], pts_all[n]) for n in range(N)]
        self.loss_vars["sq"] = r
        return inv * self._weighted(r)

    def _weighted(self, v: Any) -> Any:
        """sum_n c_n v_n (the plain sum without weights)."""
        c = self.sample_weight
        return pyo.quicksum(v[n] if c[n] == 1.0 else float(c[n]) * v[n] for n in range(self.N))

    # ------------------------------------------------------------------ penalties
    def _abs_terms(self) -> list[Any]:
        """|w| for every weight (sign class: p + q exactly; otherwise t >= +-w)."""
        m, out = self.model, list[Any]()
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None  # the sign class's binaries
                out.extend((lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape))
                continue
            t = new_vars(m, f"absw{l}", np.zeros(lp.shape), lp.w_abs_max)
            self.abs_vars[l] = t
            cons = constraint_list(m, f"absw{l}_def")
            for idx in np.ndindex(lp.shape):
                cons.add(t[idx] >= lp.weight[idx])
                cons.add(t[idx] >= -lp.weight[idx])
                out.append(t[idx])
        return out

    def _square_terms(self) -> list[Any]:
        """w^2 for every weight: quadratic (Gurobi/SCIP) or tangent outer approximation (HiGHS)."""
        m, out, oa = self.model, list[Any](), list[tuple[Any, np.ndarray]]()
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None
                out.extend((lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape))  # v^2 = |v| for v in {-1,0,1}
                continue
            wmax = lp.w_abs_max
            t = new_vars(m, f"sqw{l}", np.zeros(lp.shape), wmax**2)
            cons = constraint_list(m, f"sqw{l}_def")
            for idx in np.ndindex(lp.shape):
                w = lp.weight[idx]
                if self.quadratic:
                    cons.add(t[idx] >= w * w)
                else:
                    pts = tangent_points(-wmax[idx], wmax[idx], self.config.oa_points)
                    for a in pts:
                        cons.add(t[idx] >= 2.0 * float(a) * w - float(a) ** 2)
                    oa.append((t[idx], pts))
                out.append(t[idx])
        if oa:
            self.oa_terms["l2"] = oa
        return out

    def _nonzero_indicators(self) -> list[Any]:
        """s_w in {0, 1} with |w| <= |w|_max s_w (sign class: p + q)."""
        m, out = self.model, []
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None
                inds = [(lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape)]
            else:
                s = new_binaries(m, f"nz{l}", lp.shape)
                cons = constraint_list(m, f"nz{l}_def")
                wmax = lp.w_abs_max
                inds = []
                for idx in np.ndindex(lp.shape):
                    cons.add(lp.weight[idx] <= wmax[idx] * s[idx])
                    cons.add(-lp.weight[idx] <= wmax[idx] * s[idx])
                    inds.append(s[idx])
                    self.switch_groups.append((s[idx], [lp.weight[idx]]))
            self.nonzero_ind.append(inds)
            out.extend(inds)
        return out

    def _neuron_indicators(self, need_switch: bool) -> None:
        """u_j per hidden unit; sign class: p_j + q_j with the forcing of its weights (always on)."""
        m, cfg = self.model, self.config
        o = self.hidden_offset
        for l in range(len(cfg.hidden)):
            inc, out = self.params[o + l], self.params[o + l + 1]
            H = inc.shape[0]
            if out.kind == "sign":
                assert out.p is not None and out.q is not None
                u = np.array([out.p[0, j] + out.q[0, j] for j in range(H)], dtype=object)
                cons = constraint_list(m, f"unit{l}_force")
                for j in range(H):
                    for i in range(inc.shape[1]):
                        cons.add(inc.weight[j, i] <= cfg.weight_bound * u[j])
                        cons.add(-inc.weight[j, i] <= cfg.weight_bound * u[j])
                    cons.add(inc.bias[j] <= cfg.bias_bound * u[j])
                    cons.add(-inc.bias[j] <= cfg.bias_bound * u[j])
                self.neuron_ind.append(u)
                continue
            if not need_switch:
                self.neuron_ind.append(np.full(H, None, dtype=object))
                continue
            u = new_binaries(m, f"unit{l}", (H,))
            cons = constraint_list(m, f"unit{l}_def")
            win = inc.w_abs_max
            for j in range(H):
                gated = []
                for i in range(inc.shape[1]):
                    cons.add(inc.weight[j, i] <= win[j, i] * u[j])
                    cons.add(-inc.weight[j, i] <= win[j, i] * u[j])
                    gated.append(inc.weight[j, i])
                cons.add(inc.bias[j] <= cfg.bias_bound * u[j])
                cons.add(-inc.bias[j] <= cfg.bias_bound * u[j])
                gated.append(inc.bias[j])
                self.switch_groups.append((u[j], gated + list(out.weight[:, j])))
            self.neuron_ind.append(u)
            self._gate_out_weights(l, cons)

    def _gate_out_weights(self, l: int, cons: pyo.ConstraintList) -> None:
        """|W_{l+1}[k, j]| <= |w|_max (u^m_j + sum_{i=m+1..l} r_i + [m switched] (1 - r_m)) for m = l, l-1, ..
        down to the first layer without a switch: the unit that produces g^l_j gates its out-weights."""
        out = self.params[self.hidden_offset + l + 1]
        wout = out.w_abs_max
        slack: list[Any] = []  # r_{m+1}, .., r_l
        m = l
        while True:
            r = self.layer_switch[m]
            extra = slack + ([1 - r] if r is not None else [])
            u = self.neuron_ind[m]
            for j in range(out.shape[1]):
                rhs = u[j] + pyo.quicksum(extra) if extra else u[j]
                for k in range(out.shape[0]):
                    cons.add(out.weight[k, j] <= wout[k, j] * rhs)
                    cons.add(-out.weight[k, j] <= wout[k, j] * rhs)
            if r is None:
                return
            slack.append(r)
            m -= 1

    def _symmetry(self) -> None:
        m, cfg = self.model, self.config
        cons = constraint_list(m, "symmetry")
        B2 = 2.0 * cfg.bias_bound
        o = self.hidden_offset
        for l in range(len(cfg.hidden)):
            b, H = self.params[o + l].bias, cfg.hidden[l]
            out = self.params[o + l + 1]
            u = self.neuron_ind[l]
            for j in range(H - 1):
                if out.kind == "sign":
                    assert out.p is not None and out.q is not None
                    p, q = out.p[0], out.q[0]
                    cons.add(p[j + 1] <= p[j])
                    cons.add(p[j + 1] + q[j + 1] <= p[j] + q[j])
                    cons.add(b[j] >= b[j + 1] - B2 * (1 - p[j + 1]))
                    cons.add(b[j] >= b[j + 1] - B2 * (2 - q[j] - q[j + 1]))
                elif u[j] is not None:
                    cons.add(u[j + 1] <= u[j])
                    cons.add(b[j] >= b[j + 1] - B2 * (1 - u[j + 1]))
                else:
                    cons.add(b[j] >= b[j + 1])

    def _build(self) -> None:
        cfg, m = self.config, self.model
        self._build_params()
        self._layer_switches()
        self._encode_samples()
        terms: dict[str, Any] = {"loss": self._loss()}
        pw = self.penalty_weight
        if cfg.l1 > 0:
            terms["l1"] = pw * cfg.l1 * pyo.quicksum(self._abs_terms())
        if cfg.l2 > 0:
            terms["l2"] = pw * cfg.l2 * pyo.quicksum(self._square_terms())
        if cfg.l0 > 0 or cfg.max_nonzeros is not None:
            nz = self._nonzero_indicators()
            if cfg.l0 > 0:
                terms["l0"] = pw * cfg.l0 * pyo.quicksum(nz)
            if cfg.max_nonzeros is not None:
                m.budget_nonzeros = pyo.Constraint(expr=pyo.quicksum(nz) <= int(cfg.max_nonzeros))
        need_switch = cfg.neuron_penalty > 0 or cfg.max_neurons is not None
        self._neuron_indicators(need_switch)
        self._link_layer_switches()
        terms.update(self._extra_terms())
        units = [u for layer in self.neuron_ind for u in layer if u is not None]
        if cfg.neuron_penalty > 0:
            terms["neurons"] = pw * cfg.neuron_penalty * pyo.quicksum(units)
        if cfg.max_neurons is not None:
            m.budget_neurons = pyo.Constraint(expr=pyo.quicksum(units) <= int(cfg.max_neurons))
        if cfg.layer_penalty > 0:
            switches = [r for r in self.layer_switch if r is not None]
            fixed = float(len(self.layer_switch) - len(switches))  # hidden layers that are always present
            present = fixed + pyo.quicksum(switches) if switches else fixed
            terms["layers"] = pw * cfg.layer_penalty * present
        if cfg.symmetry_breaking:
            self._symmetry()
        if cfg.lipschitz_pairs > 0 and cfg.hypothesis == "sign" and 0 in self.abs_vars:
            self._lipschitz_cuts(int(cfg.lipschitz_pairs))
        self.terms = {}
        for name, expr in terms.items():
            e = pyo.Expression(expr=expr)
            m.add_component(f"term_{name}", e)
            self.terms[name] = e
        m.obj = pyo.Objective(expr=pyo.quicksum(list(self.terms.values())), sense=pyo.minimize)

    def _lipschitz_cuts(self, k: int) -> None:
        """Valid inequalities linking the outputs of two samples to the l1 mass of the weights.

        In the sign class f(x) = sum_j v_j ReLU(w_j x + b_j) + c with |v_j| <= 1, and ReLU is
        1-Lipschitz, so for any two samples

            f(x_n) - f(x_m) <= sum_j |w_j (x_n - x_m)| <= sum_i |x_ni - x_mi| T_i,   T_i = sum_j t_ji,

        with t >= |W_0| the l1 variables. Every network satisfies them (with t = |W_0|), but the LP
        relaxation no longer separates two samples' outputs with zero weights: the separation must
        be paid for in the l1 term. Pairs: for each sample n, the k partners m with t_n > t_m and
        the largest (t_n - t_m) / ||x_n - x_m||_1 (binary: the nearest samples of the other class).
        """
        T = [pyo.quicksum(self.abs_vars[0][j, i] for j in range(self.params[0].shape[0])) for i in range(self.d)]
        y = self.target.astype(float)
        pairs: set[tuple[int, int]] = set()
        for n in range(self.N):
            dy = y[n] - y
            dist = np.abs(self.X - self.X[n]).sum(axis=1)
            cand = np.flatnonzero((dy > 0) & (dist > 0))
            if cand.size == 0:
                continue
            score = dy[cand] / dist[cand]
            for m in cand[np.argsort(-score)[:k]]:
                pairs.add((n, int(m)))
        cons = constraint_list(self.model, "lipschitz")
        for n, m_ in sorted(pairs):
            dx = np.abs(self.X[n] - self.X[m_])
            cons.add(self.outputs[n].expr[0] - self.outputs[m_].expr[0]
                     <= pyo.quicksum(float(dx[i]) * T[i] for i in range(self.d) if dx[i] > 0))
        self.cut_pairs = sorted(pairs)

    def _extra_terms(self) -> dict[str, Any]:
        """Further objective terms of a subclass (conv: channel switches)."""
        return {}

    # ------------------------------------------------------------------ read back
    def skipped_layers(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Per hidden layer: True iff it has a layer switch and its weights and bias are all exactly zero,
        i.e. it is the identity (module docstring)."""
        o = self.hidden_offset
        return np.array([r is not None and not np.any(weights[o + l][0]) and not np.any(weights[o + l][1])
                         for l, r in enumerate(self.layer_switch)], dtype=bool)

    def skipped_params(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """:meth:`skipped_layers` per parametrised layer (conv layers and the output layer: False)."""
        out = np.zeros(len(self.dense_idx), dtype=bool)
        skip = self.skipped_layers(weights)
        out[self.hidden_offset : self.hidden_offset + skip.size] = skip
        return out

    def consumers(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
        """For each parametrised layer k but the last, the layer that reads its units in the network
        without the skipped layers: the first k' > k that is not skipped (k + 1 without switches)."""
        skip = self.skipped_params(weights)
        out = []
        for k in range(len(self.dense_idx) - 1):
            c = k + 1
            while skip[c]:
                c += 1
            out.append(c)
        return out

    def zero_dead_units(self, w: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """A hidden unit without outgoing weight (in its consumer, past skipped layers) gets zero incoming
        weights and bias (required by the switches); repeated until nothing changes; ``w`` is changed in place
        and returned. The function is kept: a layer that becomes all zero had only dead units, so as the
        identity it feeds zero weights too. Conv problems (:class:`~.conv.ConvTrainingProblem`) zero channels too."""
        changed = True
        while changed:
            changed = False
            skip = self.skipped_params(w)
            cons = self.consumers(w)
            for l in range(len(w) - 1):
                if skip[l]:
                    continue
                dead = np.all(w[cons[l]][0] == 0, axis=0) & (np.any(w[l][0] != 0, axis=1) | (w[l][1] != 0))
                if dead.any():
                    w[l][0][dead] = 0.0
                    w[l][1][dead] = 0.0
                    changed = True
        return w

    def _filled(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
        net = self.template.copy()
        for i, (W, b) in zip(self.dense_idx, weights):
            layer = net.layers[i]
            assert isinstance(layer, (Dense, Conv2D))  # dense_idx: the parametrised layers
            layer.weight = np.asarray(W, dtype=np.float64).reshape(layer.weight.shape).copy()
            layer.bias = np.asarray(b, dtype=np.float64).copy()
        return net

    def network_with(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
        """The template with ``weights`` (one (W, b) per parametrised layer), standardised inputs; the
        Dense + ReLU pair of every skipped layer (all zero, the identity) is left out."""
        net = self._filled(weights)
        o = self.hidden_offset
        drop: set[int] = set()
        for l in np.flatnonzero(self.skipped_layers(weights)):
            i = self.dense_idx[o + l]
            drop.update((i, i + 1))
        if not drop:
            return net
        return Network([layer for i, layer in enumerate(net.layers) if i not in drop], domain=net.domain,
                       input_shape=net.input_shape, class_names=net.class_names, output_names=net.output_names,
                       task=net.task, metadata=net.metadata)

    def template_trace(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Numpy forward pass of the template on the training data: element i is the input of template
        layer i, the last the output. A skipped layer's Dense output is W h + b = 0 (as in the MILP) and
        its ReLU returns the Dense layer's input h (the identity)."""
        net = self._filled(weights)
        o = self.hidden_offset
        ident = {self.dense_idx[o + l] + 1 for l in np.flatnonzero(self.skipped_layers(weights))}
        vals = [self.X.reshape((self.N,) + tuple(net.input_shape))]
        for i, layer in enumerate(net.layers):
            vals.append(vals[i - 1] if i in ident else layer.forward(vals[i]))
        return vals

    def pre_activations(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[np.ndarray], np.ndarray]:
        """Numpy forward pass on the training data: per template ReLU layer its input (N, flat; zero for a
        skipped layer), and the outputs."""
        trace = self.template_trace(weights)
        pre = [trace[i].reshape(self.N, -1) for i, l in enumerate(self.template.layers) if isinstance(l, ReLU)]
        return pre, trace[-1]

    def selection_values(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        """Values of further binaries implied by ``weights`` (a ComponentMap; conv: max-pool selections)."""
        from pyomo.common.collections import ComponentMap

        return ComponentMap()

    def weight_values(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Current (W, b) per Dense layer; discrete weights rounded to their exact grid values."""
        out = []
        for lp in self.params:
            b = np.array([_val(e) for e in lp.bias])
            if lp.kind == "continuous":
                W = np.vectorize(_val, otypes=[float])(lp.weight)
            else:
                W = np.zeros(lp.shape)
                for k, (s, off, bits) in lp.expansion.items():
                    W.flat[k] = s * (off + sum(c * round(_val(bv)) for c, bv in bits))
            W[np.abs(W) < 1e-9] = 0.0
            b[np.abs(b) < 1e-9] = 0.0
            out.append((W, b))
        return self._present_zero_layers(out)

    def _present_zero_layers(self, out: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """A switched layer with r_l = 1 but all-zero weights and bias outputs g^l = ReLU(0) = 0, so the
        weights reading it (the next layer's, and through skipped layers the next present one's) do not
        matter: they are zeroed, and the convention (all zero = identity, then fed into zero weights)
        computes the same function at a no larger objective."""
        o = self.hidden_offset
        for l, r in enumerate(self.layer_switch):
            k = o + l
            if r is None or round(_val(r)) == 0 or np.any(out[k][0]) or np.any(out[k][1]):
                continue
            c = k + 1
            while True:
                out[c][0][...] = 0.0
                rc = self.layer_switch[c - o] if c - o < len(self.layer_switch) else None
                if rc is None or round(_val(rc)) == 1:
                    break
                c += 1
        return out

    def binaries(self) -> list[Any]:
        return [v for v in self.model.component_data_objects(pyo.Var) if v.is_binary()]

    def objective_value(self) -> float:
        return float(pyo.value(self.model.obj))

    def term_values(self) -> dict[str, float]:
        return {k: float(pyo.value(e)) for k, e in self.terms.items()}

    def size(self) -> dict[str, int]:
        n_var = sum(1 for _ in self.model.component_data_objects(pyo.Var))
        n_bin = len(self.binaries())
        n_con = sum(1 for _ in self.model.component_data_objects(pyo.Constraint, active=True))
        return {"variables": n_var, "binaries": n_bin, "constraints": n_con}


def _is_num(e: Any) -> bool:
    return isinstance(e, (int, float, np.floating, np.integer))


def _binary_times(block: pyo.Block, name: str, beta: Any, x: Terms) -> np.ndarray:
    """y = beta x elementwise, beta in {0, 1} (a binary or 1 - binary), x in [L, U]: the exact product
    rule L beta <= y <= U beta, x - U (1 - beta) <= y <= x - L (1 - beta); constants give c beta."""
    xe, L, U = x.expr.ravel(), x.lower.ravel(), x.upper.ravel()
    out = np.empty(xe.size, dtype=object)
    var_idx = [j for j in range(xe.size) if not _is_num(xe[j])]
    for j in range(xe.size):
        if _is_num(xe[j]):
            c = float(xe[j])
            out[j] = c * beta if c != 0.0 else 0.0
    if var_idx:
        y = new_vars(block, name, np.minimum(0.0, L[var_idx]), np.maximum(0.0, U[var_idx]))
        cons = constraint_list(block, f"{name}_def")
        for t, j in enumerate(var_idx):
            add_product_rows(cons, y[t], beta, xe[j], float(L[j]), float(U[j]))
            out[j] = y[t]
    return out.reshape(x.shape)


def _switched_value(block: pyo.Block, name: str, r: Any, a: Terms, h: Terms) -> Terms:
    """g = r a + (1 - r) h (module docstring), bounds [min(L_a, L_h), max(U_a, U_h)]."""
    on = _binary_times(block, f"{name}_on", r, a).ravel()
    off = _binary_times(block, f"{name}_off", 1 - r, h).ravel()
    g = np.empty(on.size, dtype=object)
    for j in range(on.size):
        if _is_num(on[j]) and float(on[j]) == 0.0:
            g[j] = off[j]
        elif _is_num(off[j]) and float(off[j]) == 0.0:
            g[j] = on[j]
        else:
            g[j] = on[j] + off[j]
    return Terms(g.reshape(a.shape), np.minimum(a.lower, h.lower), np.maximum(a.upper, h.upper))


def _val(e: Any) -> float:
    if isinstance(e, (int, float, np.floating)):
        return float(e)
    v = pyo.value(e, exception=False)
    return 0.0 if v is None else float(v)
