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

The hypothesis classes (weight variables and the exact product rule of a binary and a bounded value):
:mod:`.hypothesis`. Losses, penalties and budgets: :mod:`.objective`. Reading a solution back into weights and
a network: :mod:`.readback`. The configuration (:class:`TrainConfig`, :func:`resolve_config`): :mod:`.config`.
This module builds the model (:class:`TrainingProblem`) from them; every name it had before the split is still
importable from here.

**Linear term and domain constraints** (``TrainConfig.linear``, ``TrainConfig.constraints``; one hidden layer):
continuous weights w0 added to every sample's outputs, w0 x_n linear because x_n is data (:mod:`.linear_term`);
the constraints' rows, with their own binaries and, for output orderings, two extra encoded points
(:mod:`.constraints` for the math, :mod:`.constraint_rows` for the rows).

**Exact data reduction** (:func:`merge_rows`): rows with the same (standardised x, target) have the same loss for
every network, so they are one block with weight c_n = their count and D = the original row count: the objective
is the unmerged one for every network, with one set of ReLU binaries per distinct row. Everything else that
reads the rows is exact on the merged rows too: the Lipschitz pair cuts and the convex-combination cuts
(:mod:`.hull_cuts`) are valid inequalities between any two (or more) inputs, the completion and the LP heuristic
(:mod:`.warmstart`) read the model's objective, the sign patterns' directional relaxation (:mod:`.signs`) is
per row and sign of y_n, unchanged by a positive weight; the sample groups (:mod:`.groups`) carry the weights.
Identical x with different labels stay separate rows (one per label).

**Layer switches** (``layer_penalty > 0``, quantized and continuous classes): hidden Dense layer l >= 1
(counted in ``hidden``; conv nets: the dense head) whose input width equals its output width is
*skippable*: its input h^{l-1} is a ReLU output, h >= 0, so ReLU(h) = h and removing the pair
Dense_l + ReLU is the identity. A binary r_l (1 = layer present) per skippable layer; the value fed
to the next layer is

    g^l_n = r_l ReLU(W_l h^{l-1}_n + b_l) + (1 - r_l) h^{l-1}_n,

per sample, both products of a binary and a bounded continuous value written with the exact
product rule of :mod:`.hypothesis` (y1 = r_l a with a = ReLU(z) in [L_a, U_a], y2 = (1 - r_l) h with h in
[L_h, U_h], g = y1 + y2 in [min(L_a, L_h), max(U_a, U_h)]), through the encoder's ``after`` hook. A skipped layer
is all zero, |W_l[j, i]| <= |w|_max r_l and |b_l[j]| <= B_b r_l, so *a skippable layer whose weights
and bias are all exactly zero is the identity* (the convention of the numpy side: forward pass,
warm start, returned network, certificate). With unit switches: u^l_j <= r_l (the units of a skipped
layer are not counted), r_l <= sum_j u^l_j, and the out-weights of g^l_j are gated by the unit that
produces it in the network without the skipped layers: for each m <= l down to the first layer
without a switch,

    |W_{l+1}[k, j]| <= |w|_max (u^m_j + sum_{i = m+1..l} r_i + [m skippable] (1 - r_m)),

which binds only when m is the nearest present layer (r_{m+1} = .. = r_l = 0, r_m = 1); with
m = l and no switch it is the plain gating |W_{l+1}[k, j]| <= |w|_max u^l_j. Layer term:
c_l (#hidden layers without a switch + sum_l r_l), a constant when no layer is skippable (the unit switches
and the gating: :mod:`.objective`).

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
from typing import Any, Callable

import numpy as np
import pyomo.environ as pyo

from ..deadline import Deadline, OutOfTime
from ..encode import NetworkEncoding, Terms, VariableWeights, bilinear_product, encode_network
from ..encode.terms import constraint_list, new_binaries
from ..errors import DataError
from ..layers import Dense, Layer, ReLU
from ..network import Network
from .config import (  # noqa: F401
    CLASSIFY_LOSSES,
    HYPOTHESES,
    QUADRATIC_SOLVERS,
    REGRESS_LOSSES,
    TrainConfig,
    resolve_config,
)
from .hypothesis import (  # noqa: F401  (re-exports: the names of the module before the split)
    ExpansionProduct,
    LayerParams,
    _binary_times,
    _bits_for,
    _is_num,
    _switched_value,
    add_product_rows,
    layer_params,
)
from .linear_term import add_linear_part, linear_abs_terms, linear_nonzero_indicators, linear_square_terms
from .objective import ObjectiveTerms, tangent_points  # noqa: F401
from .readback import Readback, _val  # noqa: F401

#: building the model under a deadline: samples encoded between two projections of the build's time (the deadline
#: itself is looked at after every sample: one 10x10 conv sample took 1.7 s, and a 1 s limit ended after 15 s; a
#: projection after every sample refused small builds that fit); the rest of the build (losses, penalties, cuts) per
#: second of sample encoding (measured 0.1-0.25 at N = 300-3000)
BUILD_CHECK_EVERY = 16
BUILD_TAIL = 0.25
#: a projection from the first samples is noisy (a pause of the machine, first-use costs): before this share of the
#: samples is encoded, the build is refused only when the projection exceeds the time left by BUILD_EARLY_MARGIN x
BUILD_EARLY_SHARE = 0.25
BUILD_EARLY_MARGIN = 2.0


def _check_build(dl: Deadline, spent: float, done: int, total: int, after: float) -> None:
    """Raise OutOfTime if the deadline has passed, or if ``done`` of ``total`` samples encoded in ``spent``
    seconds show that the rest of the build and ``after`` x the whole build's time would not end before it
    (by a margin of BUILD_EARLY_MARGIN while fewer than BUILD_EARLY_SHARE of the samples are encoded)."""
    if dl.expired():
        raise OutOfTime("the time limit passed while the training model was being built")
    if spent < 0.5 or done < 0.05 * total:
        return  # too early for a projection
    rest = spent * (total - done) / done
    build = (spent + rest) * (1.0 + BUILD_TAIL)
    need = build - spent + after * build
    margin = BUILD_EARLY_MARGIN if done < BUILD_EARLY_SHARE * total else 1.0
    if need > margin * dl.remaining():
        raise OutOfTime(
            f"building the training model ({total} samples) would need about {need:.1f} s more, "
            f"{dl.remaining():.1f} s are left"
        )


def template_network(n_in: int, hidden: tuple[int, ...], n_out: int) -> Network:
    """Dense -> ReLU -> ... -> Dense with zero weights: the architecture the MILP fills in."""
    sizes = [n_in, *hidden, n_out]
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(np.zeros((b, a)), np.zeros(b)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, task="classify" if n_out >= 1 else "regress")


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


class TrainingProblem(ObjectiveTerms, Readback):
    """Builds the Pyomo model for standardised data; see the module docstring for the formulation.

    ``X`` (N, d) standardised inputs; ``target``: y in {-1, +1} (binary), class index (multiclass)
    or standardised value (regression). ``solver`` decides quadratic terms versus outer approximations.
    ``sample_weight``: a positive weight per row (the counts of :func:`merge_rows`), the loss is
    (1/D) sum_n c_n loss_n with D = ``loss_denominator`` (default: the sum of the weights, N without weights).

    The loss and penalty terms come from :class:`~.objective.ObjectiveTerms`, reading a solution back from
    :class:`~.readback.Readback`, the weight variables from :func:`~.hypothesis.layer_params`.
    """

    def __init__(
        self,
        X: np.ndarray,
        target: np.ndarray,
        task: str,
        n_classes: int,
        config: TrainConfig,
        solver: str = "highs",
        penalty_weight: float = 1.0,
        loss_denominator: float | None = None,
        deadline: Deadline | None = None,
        after_build: float = 0.0,
        sample_weight: np.ndarray | None = None,
    ) -> None:
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
            if (
                self.sample_weight.shape != (self.N,)
                or not np.all(np.isfinite(self.sample_weight))
                or np.any(self.sample_weight <= 0)
            ):
                raise DataError(f"sample_weight must be {self.N} finite positive numbers (one per row)")
        D = float(loss_denominator) if loss_denominator else float(self.sample_weight.sum())
        #: the loss is (1/D) sum_n c_n loss_n (an int when the weights are counts)
        self.loss_denominator = int(D) if D.is_integer() else D
        self.n_out = 1 if task == "regress" or n_classes == 2 else n_classes
        self.quadratic = solver in QUADRATIC_SOLVERS
        if config.hypothesis == "continuous":
            self.product: Any = bilinear_product
        else:
            self.product = ExpansionProduct()
        self.template = self._template()
        # parametrised layers (Dense and Conv2D) in order; params[k] belongs to layer dense_idx[k]
        self.dense_idx = [i for i, l in enumerate(self.template.layers) if l.parametrised]
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
        self.linear_var: Any = None  # w0 (K, d) of the linear term (:mod:`.linear_term`), None without it
        self.linear_w: np.ndarray | None = None  # its current value (read back with the weights)
        self.linear_abs: Any = None
        self.constraint_binaries: list[tuple[Any, Callable[..., float]]] = []  # (binary, its value from weights)
        t0 = time.monotonic()
        self._build()
        #: seconds the model took to build (translation and presolve costs are estimated from it)
        self.build_seconds = time.monotonic() - t0

    def _template(self) -> Network:
        """The architecture the MILP fills in (all parameters zero)."""
        return template_network(self.d, self.config.hidden, self.n_out)

    # ------------------------------------------------------------------ weights
    def _build_params(self) -> None:
        """The weight and bias terms of every parametrised layer (:func:`.hypothesis.layer_params`)."""
        self.params.extend(layer_params(self.model, self.template, self.dense_idx, self.config, self.product))

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
            elif dl is not None and n and dl.expired():
                raise OutOfTime("the time limit passed while the training model was being built")
            self.encodings.append(self.encode(m.S[n], inp))
        if dl is not None and dl.expired():
            raise OutOfTime("the time limit passed while the training model was being built")
        self.outputs = [enc.outputs for enc in self.encodings]

    def encode(self, block: pyo.Block, inputs: Terms) -> NetworkEncoding:
        """The template applied to ``inputs`` on ``block`` with the shared weight terms, the class's
        product rule and the layer switches: every sample, and any further point (monotone pairs)."""
        weights: list[VariableWeights | None] = [None] * len(self.template.layers)
        for k, i in enumerate(self.dense_idx):
            weights[i] = self.params[k].variable_weights()
        return encode_network(
            block, self.template, inputs, weights=weights, product=self.product, after=self._switch_hook(block)
        )

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
            if l.gated:  # the templates' activations are ReLU
                b = enc.binaries[i]
                assert b is not None  # the encoder makes a binary array for every ReLU layer
                out.append(b)
        return out

    def pre_activation_bounds(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        enc = self.encodings[n]
        return [(enc.terms[i + 1].lower, enc.terms[i + 1].upper) for i in self.dense_idx]

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
        if cfg.linear:  # the linear (skip) term on the outputs, before the loss reads them (:mod:`.linear_term`)
            add_linear_part(self)
        terms: dict[str, Any] = {"loss": self._loss()}
        pw = self.penalty_weight
        if cfg.l1 > 0:
            terms["l1"] = pw * cfg.l1 * pyo.quicksum(self._abs_terms() + linear_abs_terms(self))
        if cfg.l2 > 0:
            terms["l2"] = pw * cfg.l2 * pyo.quicksum(self._square_terms() + linear_square_terms(self))
        if cfg.l0 > 0 or cfg.max_nonzeros is not None:
            nz = self._nonzero_indicators() + linear_nonzero_indicators(self)
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
        if cfg.constraints:  # domain constraints (:mod:`.constraint_rows`)
            from .constraint_rows import add_constraint_rows

            add_constraint_rows(self)
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
        lin = getattr(self, "linear_abs", None)  # |w0 (x_n - x_m)| <= sum_i |dx_i| t0_i (:mod:`.linear_term`)
        T = [
            pyo.quicksum(
                [self.abs_vars[0][j, i] for j in range(self.params[0].shape[0])]
                + ([lin[0, i]] if lin is not None else [])
            )
            for i in range(self.d)
        ]
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
            cons.add(
                self.outputs[n].expr[0] - self.outputs[m_].expr[0]
                <= pyo.quicksum(float(dx[i]) * T[i] for i in range(self.d) if dx[i] > 0)
            )
        self.cut_pairs = sorted(pairs)

    def _extra_terms(self) -> dict[str, Any]:
        """Further objective terms of a subclass (conv: channel switches)."""
        return {}


__all__ = [
    "TrainingProblem",
    "TrainConfig",
    "resolve_config",
    "template_network",
    "merge_rows",
    "LayerParams",
    "ExpansionProduct",
    "add_product_rows",
    "tangent_points",
    "HYPOTHESES",
    "CLASSIFY_LOSSES",
    "REGRESS_LOSSES",
    "QUADRATIC_SOLVERS",
    "BUILD_CHECK_EVERY",
    "BUILD_EARLY_MARGIN",
    "BUILD_EARLY_SHARE",
    "BUILD_TAIL",
]
