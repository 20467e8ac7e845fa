"""Put a trained network into your own Pyomo model: :func:`add_network`.

Given Pyomo variables ``x`` (the network's inputs, each with finite bounds), :func:`add_network` adds to a
block of your model the exact MILP form of ``y = net(x)`` (mipnet's one encoder, :func:`mipnet.encode.encode_network`):
affine layers as equalities, each ReLU / leaky ReLU / max-pool unit by its big-M formulation with one binary
(a HardTanh unit as two ReLUs),
units that the bounds prove stable without one. Your objective and constraints may then use the outputs ``y``
(a counterfactual explanation, an optimal decision under a learned cost, a verification query of your own).

**Soundness.** The big-M constants come from bounds of every layer computed over the box

    B = { x : lb(x_i) <= x_i <= ub(x_i) }

read from *the input variables' own bounds* at the time of the call, never from the network's stored domain or a
box handed in separately. So for every point of B - in particular every point your model admits - the encoded
``y`` equals the numpy forward pass (up to the solver's feasibility tolerance): no box that is too narrow can cut
off points of your model. The network's stored domain (integer features, one-hot groups, its box) is *not*
imposed on your variables: the network is a function on the reals, and what values are admissible is your
model's business. Tightening a variable's bounds after the call keeps the formulation valid (B only shrinks);
widening them does not: :meth:`NetworkHandle.check_bounds` says whether the variables still lie in B.

Only networks whose activations are piecewise linear (ReLU, LeakyReLU, HardTanh, Identity, MaxPool2D; affine layers of
any kind) have an exact MILP form; a network with a smooth activation (GELU, tanh, sigmoid) is refused.

Example::

    import pyomo.environ as pyo
    from mipnet import add_network

    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(net.n_inputs), bounds=(0, 1))
    h = add_network(m, net, m.x)                  # h.outputs: Pyomo expressions of y = net(x)
    m.obj = pyo.Objective(expr=h.outputs[0], sense=pyo.maximize)
    pyo.SolverFactory("appsi_highs").solve(m)
    h.values(), h.error()                         # the solved y, and |y - net.forward(x)|
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .choices import BOUND_METHODS
from .domain import Domain
from .errors import DataError, UnsupportedError

if TYPE_CHECKING:
    from .encode.network import NetworkEncoding
    from .network import Network

__all__ = ["add_network", "NetworkHandle", "network_over_box"]

#: the bound method used by ``bounds="auto"``: linear bound propagation (fast, no LP solves)
AUTO_BOUNDS = "linear"

_counter = itertools.count()


def network_over_box(net: Network, lower: np.ndarray, upper: np.ndarray) -> Network:
    """A shallow copy of ``net`` whose domain is the plain real box [lower, upper] (no integer features, no one-hot
    groups), so that bound computation and encoding cover exactly that box. Layers are shared, not copied."""
    box = copy.copy(net)
    box.domain = Domain(net.domain.names, np.asarray(lower, float), np.asarray(upper, float))
    return box


def _flat_vars(inputs: Any, what: str) -> list[Any]:
    """The scalar Pyomo variables of ``inputs`` (an indexed Var, a sequence of scalar Vars or an array), in order."""
    import pyomo.environ as pyo
    from pyomo.core.base.indexed_component_slice import IndexedComponent_slice

    if isinstance(inputs, pyo.Var) and inputs.is_indexed():
        items = [inputs[k] for k in inputs.index_set()]
    elif isinstance(inputs, IndexedComponent_slice):  # m.x[:] or m.x[1, :]: its variables, in index order
        items = list(inputs)
    elif isinstance(inputs, np.ndarray):
        items = list(inputs.ravel())
    elif isinstance(inputs, (list, tuple)):
        items = list(inputs)
    elif hasattr(inputs, "is_variable_type") and inputs.is_variable_type():
        items = [inputs]
    else:
        raise DataError(
            f"{what} must be an indexed Pyomo Var or a sequence of scalar Vars, got {type(inputs).__name__}"
        )
    for k, v in enumerate(items):
        if not (hasattr(v, "is_variable_type") and v.is_variable_type()):
            raise DataError(f"{what}[{k}] is not a Pyomo variable ({type(v).__name__})")
    return items


@dataclass
class NetworkHandle:
    """What :func:`add_network` added: the block holding the formulation, the input variables, the outputs.

    ``outputs`` is an object array of Pyomo variables (or expressions / constants for outputs that are fixed or
    affine in the inputs), one per network output, in the network's output order.
    """

    net: Network
    block: Any  # pyo.Block
    inputs: list[Any]
    outputs: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    encoding: NetworkEncoding
    bound_method: str

    def input_values(self) -> np.ndarray:
        """The input variables' values after a solve (flat, float). An input the solver left without a value
        appears in no row of the model: the encoding writes every nonzero weight, so the network does not read it
        (a pruned feature), and any point of its box serves; the one nearest 0 is used."""
        import pyomo.environ as pyo

        vals = [pyo.value(v, exception=False) for v in self.inputs]
        if all(v is None for v in vals):
            raise DataError("the input variables have no value: solve the model first")
        fill = np.clip(0.0, self.lower, self.upper)
        return np.array([fill[i] if v is None else v for i, v in enumerate(vals)], dtype=np.float64)

    def values(self) -> np.ndarray:
        """The outputs' values after a solve (flat, float), as the solver left them; before a solve an error, not
        the midpoints of the outputs' bounds (inputs declared with initial values have values before any solve)."""
        import pyomo.environ as pyo

        self.input_values()
        if any(pyo.value(e, exception=False) is None for e in self.encoding.outputs.expr.ravel()):
            raise DataError("the network's output variables have no value: solve the model first")
        return self.encoding.outputs.values().ravel().astype(np.float64)

    def forward(self) -> np.ndarray:
        """The network's numpy forward pass at the solved inputs (flat)."""
        x = self.input_values().reshape((1, *self.net.input_shape))
        return np.asarray(self.net.forward(x), dtype=np.float64).ravel()

    def error(self) -> float:
        """max_k |y_k - net(x)_k| at the solution: the encoded outputs against the numpy forward pass. Of the order
        of the solver's feasibility tolerance times the big-M constants when the formulation is exact."""
        return float(np.max(np.abs(self.values() - self.forward()), initial=0.0))

    def check_bounds(self) -> bool:
        """True if every input variable's current bounds lie inside the box the formulation was built for."""
        lb = np.array([-np.inf if v.lb is None else v.lb for v in self.inputs], dtype=np.float64)
        ub = np.array([np.inf if v.ub is None else v.ub for v in self.inputs], dtype=np.float64)
        return bool(np.all(lb >= self.lower) and np.all(ub <= self.upper))

    def remove(self) -> None:
        """Delete the formulation (its block) from the model; the input and given output variables stay."""
        parent = self.block.parent_block()
        if parent is not None:
            parent.del_component(self.block)


def add_network(
    block: Any,
    net: Network,
    inputs: Any,
    outputs: Any = None,
    *,
    bounds: str = "auto",
    name: str | None = None,
    time_limit: float | None = None,
) -> NetworkHandle:
    """Add ``y = net(x)`` to ``block`` (a Pyomo ``ConcreteModel`` or ``Block``) as an exact MILP.

    Parameters
    ----------
    block : pyomo Block or ConcreteModel
        Where the formulation goes: a new sub-block named ``name`` is added to it.
    net : Network
        The network (any mipnet model: trained here, or imported from ONNX, torch or scikit-learn).
    inputs : indexed pyomo Var or sequence of scalar Vars
        One variable per network input (flattened in C order for image inputs), each with finite lower and upper
        bounds: those bounds are the box the big-M constants are valid on (module docstring).
    outputs : indexed pyomo Var or sequence of scalar Vars, optional
        Variables of yours to tie to the network's outputs (``outputs[k] == y_k`` is added); default: the handle's
        ``outputs`` are the formulation's own terms.
    bounds : {"auto", "interval", "linear", "lp", "mip"}
        How the layer bounds (big-M constants) are computed over the input box: tighter is slower to build and
        faster to solve. ``"auto"`` is ``"linear"``.
    name : str, optional
        The sub-block's name (default ``mipnet_network_<k>``, unique).
    time_limit : float, optional
        Seconds for the bound computation (``"lp"`` and ``"mip"`` solve one problem per neuron): when they pass,
        the bounds tightened so far are kept and the rest stay the ``"linear"`` ones (sound, looser). Default: none.

    Returns
    -------
    NetworkHandle
        ``outputs``, ``values()``, ``error()``, ``check_bounds()``, ``remove()``.

    Raises
    ------
    DataError
        an input without finite bounds, a count of inputs or outputs that does not match the network.
    UnsupportedError
        a network with a smooth activation (no exact MILP form); an unknown ``bounds`` method.
    """
    import pyomo.environ as pyo

    from .bounds import compute_bounds
    from .encode.network import encode_network
    from .encode.terms import Terms, constraint_list
    from .network import Network

    if not isinstance(net, Network):
        raise DataError(f"net must be a mipnet Network, got {type(net).__name__} (add_network(block, net, inputs))")
    if not (hasattr(block, "add_component") and hasattr(block, "component")):
        raise DataError(f"block must be a Pyomo Block or ConcreteModel, got {type(block).__name__}")
    for i, layer in enumerate(net.layers):  # (weights edited after construction: NaN big-M constants otherwise)
        for key, value in layer.parameters().items():
            if not np.all(np.isfinite(value)):
                raise DataError(f"layer {i} ({layer.kind}) has NaN or inf in its {key}")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit >= 0):
        raise DataError(f"time_limit must be a number of seconds >= 0, got {time_limit!r}")
    method = AUTO_BOUNDS if bounds == "auto" else bounds
    if method not in BOUND_METHODS:
        raise UnsupportedError(f"unknown bounds method {bounds!r} (use auto or one of {', '.join(BOUND_METHODS)})")
    smooth = [layer.kind for layer in net.layers if layer.activation and not layer.piecewise_linear]
    if smooth:
        raise UnsupportedError(
            f"the network has smooth activations ({', '.join(sorted(set(smooth)))}) with no exact "
            "MILP form; add_network embeds piecewise-linear networks only"
        )
    xs = _flat_vars(inputs, "inputs")
    if len(xs) != net.n_inputs:
        raise DataError(f"the network has {net.n_inputs} inputs, {len(xs)} input variables were given")
    lb = np.array([np.nan if v.lb is None else v.lb for v in xs], dtype=np.float64)
    ub = np.array([np.nan if v.ub is None else v.ub for v in xs], dtype=np.float64)
    unbounded = np.flatnonzero(~(np.isfinite(lb) & np.isfinite(ub)))
    if unbounded.size:
        shown = ", ".join(xs[i].name for i in unbounded[:5])
        raise DataError(
            f"input variables need finite lower and upper bounds (the big-M constants are derived from "
            f"them); unbounded: {shown}" + (" ..." if unbounded.size > 5 else "")
        )
    if np.any(lb > ub):
        raise DataError("an input variable has a lower bound above its upper bound")
    ys = None
    if outputs is not None:
        ys = _flat_vars(outputs, "outputs")
        if len(ys) != net.n_outputs:
            raise DataError(f"the network has {net.n_outputs} outputs, {len(ys)} output variables were given")

    boxed = network_over_box(net, lb, ub)
    layer_bounds = compute_bounds(boxed, lb, ub, method=method, deadline=time_limit)
    name = name or f"mipnet_network_{next(_counter)}"
    if block.component(name) is not None:
        raise DataError(f"the block already has a component named {name!r}")
    sub = pyo.Block()
    block.add_component(name, sub)
    expr = np.empty(len(xs), dtype=object)
    expr[:] = xs
    enc = encode_network(sub, boxed, Terms(expr, lb.copy(), ub.copy()), bounds=layer_bounds)
    out = enc.outputs.flat()
    if ys is not None:
        link = constraint_list(sub, "output_link")
        for y_var, e in zip(ys, out.expr):
            link.add(y_var == e)
    return NetworkHandle(
        net=net, block=sub, inputs=xs, outputs=out.expr.copy(), lower=lb, upper=ub, encoding=enc, bound_method=method
    )
