"""Encode a whole network (or a slice of it) into a Pyomo block: the one encoder of mipnet.

``encode_network`` walks the layers and calls each layer's own :meth:`~mipnet.layers.Layer.encode`,
which uses the layer encoders of :mod:`.affine` and :mod:`.activations`. Weights are the layer's
constants (verification) unless ``weights[i]`` gives :class:`VariableWeights` for layer i (training);
a product of a variable weight and a variable activation is delegated to ``product`` (the hypothesis
class decides how it is linearised).

Bounds: every layer output gets interval bounds computed on the fly from the input Terms; a caller
with tighter sound bounds (LP/MIP tightening, :mod:`mipnet.bounds`) passes them as
``bounds[i] = (lower, upper)`` of layer i's output; they are used for the affine layers (Dense,
Conv2D, AvgPool2D), whose outputs are the pre-activations, and activations derive theirs.

Hook: ``after(i, y)`` is called with layer i's output Terms y once layer i is encoded; what it
returns is stored as ``terms[i + 1]`` and is what layer i + 1 reads (training: the value a switched
layer passes on, :mod:`mipnet.train.formulation`). Its bounds must be sound, like every Terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pyomo.environ as pyo

from ..domain import Domain
from ..errors import UnsupportedError
from ..network import Network
from .affine import VariableWeights
from .terms import Terms, constraint_list, new_vars


@dataclass
class NetworkEncoding:
    """What the encoder built: Terms of every layer boundary and the binaries per layer."""

    block: pyo.Block
    terms: list[Terms]  # terms[0] = input, terms[i + 1] = output of layer i
    binaries: list[np.ndarray | None] = field(default_factory=list)  # per layer; None for layers without

    @property
    def inputs(self) -> Terms:
        return self.terms[0]

    @property
    def outputs(self) -> Terms:
        return self.terms[-1]

    def all_binaries(self) -> list[tuple[int, Any]]:
        """(layer index, binary var) for every binary of the encoding, in layer order."""
        out: list[tuple[int, Any]] = []
        for i, b in enumerate(self.binaries):
            if b is None:
                continue
            for v in b.ravel():
                if v is None:
                    continue
                if isinstance(v, np.ndarray):
                    out.extend((i, d) for d in v)
                else:
                    out.append((i, v))
        return out

    def n_binaries(self) -> int:
        return len(self.all_binaries())


#: inputs whose box lies farther from the origin than this many half-widths are encoded as offsets from a centre
#: (:func:`input_terms`). Not lower: at 10 HiGHS cut an integer corner off a robustness MILP that it decides at 100
#: (benchmarks/fuzz_robustness_scales.py seed 2, case 2: a false "holds"); HiGHS is fragile either way at these scales
CENTRE_RATIO = 100.0


def input_terms(
    block: pyo.Block,
    domain: Domain,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    name: str = "x",
    centre: np.ndarray | None = None,
) -> Terms:
    """Input variables x in the domain (box, integers, one-hot groups), optionally within a sub-box.

    lower_i <= x_i <= upper_i,  x_i integer (integer features),
    x_g binary with sum_{i in g} x_i = 1 (one-hot groups).

    With ``centre`` c, a coordinate whose box lies far from the origin against its width (|c_i| >
    ``CENTRE_RATIO`` half-widths; one-hot coordinates never) is the expression x_i = c_i + d_i over a variable
    d_i in [lower_i - c_i, upper_i - c_i] (rounded outward; c_i whole for an integer feature, d_i then integer):
    the first layer's rows then carry W d + (W c + b) in place of W x + b, whose terms of 1e9 cancelling to a
    margin of 1e3 made HiGHS cut off an integer corner (a false "holds"). The Terms' bounds stay x's.
    """
    lo = domain.lower.copy() if lower is None else np.maximum(domain.lower, lower)
    hi = domain.upper.copy() if upper is None else np.minimum(domain.upper, upper)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):  # (a finite sub-box of an open domain will do)
        domain.require_finite()
    integer = domain.integer.copy()
    onehot = np.zeros(integer.size, dtype=bool)
    for g in domain.onehot_groups:
        integer[g] = True
        onehot[g] = True
    lo = np.where(integer, np.ceil(lo - 1e-9), lo)
    hi = np.where(integer, np.floor(hi + 1e-9), hi)
    if np.any(lo > hi):
        raise UnsupportedError("the requested input region is empty")
    c = _offsets(centre, lo, hi, integer, onehot)
    if c is None:
        x = new_vars(block, name, lo, hi)
        dvars = x
    else:
        dlo = np.where(c != 0, lo - c, lo)
        dhi = np.where(c != 0, hi - c, hi)
        dlo = np.where((c != 0) & ~integer, np.nextafter(dlo, -np.inf), dlo)  # outward: never a smaller box
        dhi = np.where((c != 0) & ~integer, np.nextafter(dhi, np.inf), dhi)
        dvars = new_vars(block, f"{name}_offset", dlo, dhi)
        x = np.empty(lo.size, dtype=object)
        for i in range(lo.size):
            x[i] = float(c[i]) + dvars[i] if c[i] != 0 else dvars[i]
    for k in np.flatnonzero(integer):
        dvars[k].domain = pyo.Integers
    if domain.onehot_groups:
        cons = constraint_list(block, f"{name}_onehot")
        for g in domain.onehot_groups:
            cons.add(sum(x[i] for i in g) == 1)
    return Terms(x, lo, hi)


def domain_centre(domain: Domain) -> np.ndarray:
    """The midpoint of the domain's box, 0 where a bound is infinite: a ``centre`` for :func:`input_terms`."""
    with np.errstate(invalid="ignore", over="ignore"):
        mid = (np.asarray(domain.lower, dtype=np.float64) + np.asarray(domain.upper, dtype=np.float64)) / 2.0
    return np.where(np.isfinite(mid), mid, 0.0)


def input_variable(terms: Terms, i: int) -> Any:
    """The solver variable of input i of :func:`input_terms`: x_i itself, or the offset d_i of x_i = c_i + d_i
    (a caller that relaxes an integer input's domain in place changes d_i's)."""
    e = terms.expr.ravel()[i]
    if isinstance(e, pyo.Var) or getattr(e, "is_variable_type", lambda: False)():
        return e
    from pyomo.core.expr.visitor import identify_variables

    found = list(identify_variables(e, include_fixed=False))
    if len(found) != 1:
        raise UnsupportedError(f"input {i} is not one variable plus a constant")
    return found[0]


def _offsets(
    centre: np.ndarray | None, lo: np.ndarray, hi: np.ndarray, integer: np.ndarray, onehot: np.ndarray
) -> np.ndarray | None:
    """The offsets c of :func:`input_terms` (0 where a coordinate is not moved), or None when none is."""
    if centre is None:
        return None
    c = np.asarray(centre, dtype=np.float64).ravel().copy()
    if c.size != lo.size:
        return None
    c = np.where(integer, np.round(c), c)
    far = np.isfinite(c) & ~onehot & (np.abs(c) > CENTRE_RATIO * np.maximum((hi - lo) / 2.0, 1e-300))
    c = np.where(far, c, 0.0)
    return c if np.any(c != 0) else None


def encode_network(
    block: pyo.Block,
    net: Network,
    inputs: Terms,
    *,
    bounds: Sequence[tuple[np.ndarray, np.ndarray] | None] | None = None,
    weights: Sequence[VariableWeights | None] | None = None,
    product: Callable[..., Any] | None = None,
    relax: bool = False,
    start: int = 0,
    stop: int | None = None,
    prefix: str = "L",
    after: Callable[[int, Terms], Terms] | None = None,
) -> NetworkEncoding:
    """Encode layers ``start:stop`` of ``net`` on ``block`` applied to ``inputs`` (flat or shaped);
    ``after(i, y)`` may replace layer i's output Terms y (module docstring)."""
    stop = len(net.layers) if stop is None else stop
    x = inputs.reshape(net.shapes[start])
    enc = NetworkEncoding(block, [x], [])
    for i in range(start, stop):
        layer = net.layers[i]
        ob = bounds[i] if bounds is not None and i < len(bounds) else None
        w = weights[i] if weights is not None and i < len(weights) else None
        name = f"{prefix}{i}"
        y, b = layer.encode(block, name, x, weights=w, product=product, bounds=ob, relax=relax)
        if after is not None:
            y = after(i, y)
        enc.terms.append(y)
        enc.binaries.append(b)
        x = y
    return enc


#: seconds per nonzero of the affine layers to encode a network with fixed weights and hand it to the solver
#: (measured 3.8e-6 to 4.8e-6 on the shared 2-core machine, 55 k to 2 M nonzeros, encoding and translation
#: together); the prior is half that, so a build is declined only when it clearly cannot fit
BUILD_SECONDS_PER_NONZERO = 2e-6


def build_estimate(net: Network, copies: int = 1, start: int = 0, stop: int | None = None) -> float:
    """A lower estimate of the seconds to encode ``copies`` copies of layers ``start:stop`` of ``net`` (fixed
    weights) and translate them for the solver: a verifier that cannot interrupt the build declines it, as
    unknown, when even this does not fit in its time left (a build that started after the deadline ran on for
    5-10 s)."""
    nnz = 0
    for i, layer in list(enumerate(net.layers))[start:stop]:
        if layer.affine:
            nnz += int(layer.linear_map(net.shapes[i])[0].nnz)
        else:
            nnz += int(np.prod(net.shapes[i + 1]))
    return BUILD_SECONDS_PER_NONZERO * nnz * max(1, int(copies))
