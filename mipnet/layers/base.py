"""The base of every layer type: :class:`Layer` (its rules as uniform methods), shared numpy helpers,
the registry keyed by ``kind`` and :func:`layer_from_dict`.

Every layer maps a batch ``x`` of shape ``(N, *input_shape)`` to ``(N, *output_shape)``.
Shapes follow the PyTorch/ONNX convention: images are ``(C, H, W)``, flattening is C-order.

A layer type owns all of its rules; generic code (bounds, gradients, encoder, explainers, importers
and exporters) calls these methods and reads the structural class attributes, never ``isinstance``:

    forward(x)                    the batched forward pass
    interval(lo, hi)              a sound output box of a batch of input boxes
    linear_map(input_shape)       (A, c) with layer(x) = A x + c on flat vectors (affine layers; A sparse csr)
    linear_matrix(input_shape)    A dense (derived from :meth:`Layer.linear_map`)
    linear_forward(V)             the linear part layer(v) - layer(0) on a batch (affine layers)
    connections(input_shape)      the sparse connection list of Dense / Conv2D / AvgPool2D
    vjp(x, g), batch_vjp(x, g)    vector-Jacobian products; derivative(z) for elementwise activations
    relaxation(L, U, input_shape) linear lower/upper bounds al in + bl <= out <= au in + bu (non-affine)
    encode(block, name, x, ...)   the MILP encoding (Pyomo imported lazily, inside :mod:`mipnet.encode`)
    onnx_export(graph, x, out, p) the ONNX nodes;  to_torch(shape, dtype): the torch module

Structural attributes: ``affine``, ``activation``, ``piecewise_linear``, ``parametrised`` (trainable
weight and bias), ``unit_name`` ("neurons" / "channels") and the ``units`` property, ``keeps_units``
(a layer between two parametrised layers that keeps their unit structure), ``gated`` (ReLU-type: a
unit is on (z > 0) or off, slope 1 or ``negative_slope``), ``piece_kind`` (configuration-dependent
piece: "relu", "leaky", "maxpool"), ``passthrough`` (the output values are the input values,
possibly reshaped), ``onnx_op`` / ``torch_module`` (the parameterless op / module the layer is).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, cast

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError, UnsupportedError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms

Shape = tuple[int, ...]
#: (Al, bl, Au, bu): Al in + bl <= out <= Au in + bu on flat vectors
Relaxation = tuple[sparse.csr_matrix, np.ndarray, sparse.csr_matrix, np.ndarray]


def _as_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{name} is not a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ModelFormatError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ModelFormatError(f"{name} contains NaN or inf values")
    return arr


def _int(v: Any) -> int:
    """An integer given as int or integral float (as JSON may hold it); anything else is a format error."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) or v != int(v):
        raise ModelFormatError(f"expected an integer, got {v!r}")
    return int(v)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ModelFormatError(f"expected an int or a pair, got {v!r}")
        return _int(v[0]), _int(v[1])
    return _int(v), _int(v)


def _windows(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int], pad_value: float
) -> np.ndarray:
    """Sliding windows of a batch (N, C, H, W) -> (N, C, oh, ow, kh, kw) (a view where possible)."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return win[:, :, :: stride[0], :: stride[1]]


def window_indices(
    input_shape: Shape, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """Flat input index of every window element, -1 where the window covers padding.

    Returns an int array of shape (C, oh, ow, kh, kw); used by the encoder to write pooling
    and convolution terms without loops over the image in Python.
    """
    c, h, w = input_shape
    idx = np.arange(c * h * w, dtype=np.int64).reshape(1, c, h, w).astype(np.float64)
    win = _windows(idx, kernel, stride, padding, -1.0)[0]
    return win.astype(np.int64)


def _scatter_windows(g: np.ndarray, win: np.ndarray, weights: np.ndarray, n_in: int) -> np.ndarray:
    """sum over windows: out[m, win[w, e]] += g[m, w] * weights[w, e] (padding entries, win = -1, dropped)."""
    m = g.shape[0]
    contrib = g[:, :, None] * weights[None]  # (m, W, E)
    valid = win >= 0
    out = np.zeros((m, n_in))
    cols = np.broadcast_to(win, contrib.shape[1:])[valid]
    for r in range(m):
        np.add.at(out[r], cols, contrib[r][valid])
    return out


@dataclass
class Connections:
    """An affine layer as connections (j, k, i, c): output j receives c * W_k * x_i, plus b_{bias_idx[j]}."""

    out_idx: np.ndarray  # (K,) flat output index
    w_idx: np.ndarray  # (K,) flat weight index, -1 for a fixed coefficient
    in_idx: np.ndarray  # (K,) flat input index
    coef: np.ndarray  # (K,)
    bias_idx: np.ndarray  # (n_out,) flat bias index, -1 for no bias
    out_shape: Shape


#: the unit round-off of float64 (round to nearest)
UNIT_ROUNDOFF = 2.0**-53


def rounding_slack(magnitude: np.ndarray, n_terms: int | np.ndarray) -> np.ndarray:
    """How far an affine layer's interval bound, computed in float64, may lie inside the real one: a sum of
    ``n_terms`` products plus a bias is within gamma_{n+2} sum |terms| of its exact value (Higham, gamma_k =
    k u / (1 - k u) <= 1.01 k u), and an interval bound sums two such sums; ``magnitude`` = |W| max(|lo|, |hi|) + |b|
    bounds sum |terms|. Weights 5e5 on inputs 7e4 carry round-off of 1e-5 while the margin was 1e-6."""
    return 2.02 * (n_terms + 2) * UNIT_ROUNDOFF * np.asarray(magnitude, dtype=np.float64)


class OnnxGraph(Protocol):
    """What a layer's :meth:`Layer.onnx_export` writes to (built by :func:`mipnet.io.onnx_io.to_onnx`)."""

    #: exact float64 attribute values per node output (float32 ONNX attributes lose them)
    exact: dict[str, dict[str, float]]

    def node(self, op: str, inputs: list[str], out: str, **attrs: Any) -> None: ...

    def const(self, name: str, value: Any) -> str: ...

    def producer(self, name: str) -> str | None:
        """The op type of the node that wrote tensor ``name`` (None for the graph's input)."""
        ...


class Layer:
    """Base class. Subclasses define ``forward`` and ``output_shape`` and their rules (module docstring);
    parameters are numpy arrays. A rule a layer type does not have raises :class:`UnsupportedError`."""

    kind: ClassVar[str] = "Layer"
    #: True for layers that are affine maps of their input (encoded without binaries).
    affine: ClassVar[bool] = False
    #: True for elementwise activations.
    activation: ClassVar[bool] = False
    #: True for activations that are piecewise linear (exactly encodable in a MILP).
    piecewise_linear: ClassVar[bool] = True
    #: True for layers with a trainable ``weight`` and ``bias`` (Dense, Conv2D).
    parametrised: ClassVar[bool] = False
    #: what a unit of a parametrised layer is: "neurons" (Dense) or "channels" (Conv2D); None otherwise.
    unit_name: ClassVar[str | None] = None
    #: True for layers that may sit between two parametrised layers without changing their unit structure
    #: (activations, pooling, Flatten): unit k of the producer is unit (block) k of the consumer's input.
    keeps_units: ClassVar[bool] = False
    #: True for ReLU-type activations h = z (z > 0), h = negative_slope * z (z <= 0): an activation pattern.
    gated: ClassVar[bool] = False
    #: the configuration-dependent piece this layer is ("relu", "leaky", "maxpool"), None for the others.
    piece_kind: ClassVar[str | None] = None
    #: True when the output values are the input values (possibly reshaped): Identity, Flatten.
    passthrough: ClassVar[bool] = False
    #: True for an elementwise affine map ``scale * x + offset`` with ``scale`` and ``offset`` arrays (Normalize).
    scaling: ClassVar[bool] = False
    #: the parameterless ONNX operator computing this layer exactly (export and import), if any.
    onnx_op: ClassVar[str | None] = None
    #: the parameterless ``torch.nn`` module computing this layer exactly (export and import), if any.
    torch_module: ClassVar[str | None] = None
    #: ONNX operators with attributes or constant inputs that this layer type imports (:meth:`from_onnx`).
    onnx_imports: ClassVar[tuple[str, ...]] = ()
    #: ``torch.nn`` module class names with arguments that this layer type imports (:meth:`from_torch`).
    torch_imports: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ structure
    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise UnsupportedError(f"layer type {self.kind} has no forward pass")

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def n_params(self) -> int:
        return int(sum(p.size for p in self.parameters().values()))

    def n_nonzero(self) -> int:
        """Non-zero entries of all of this layer's parameters (biases and Normalize constants included);
        the network's sparsity count is :meth:`mipnet.Network.n_nonzero` (trainable weights only)."""
        return int(sum(np.count_nonzero(p) for p in self.parameters().values()))

    def config(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind}
        d.update(self.config())
        for k, v in self.parameters().items():
            d[k] = v.tolist()
        return d

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v.shape}" for k, v in self.parameters().items())
        cfg = ", ".join(f"{k}={v}" for k, v in self.config().items())
        return f"{self.kind}({', '.join(s for s in (params, cfg) if s)})"

    @property
    def flat_input_size(self) -> int | None:
        """The input size the layer fixes on its own (Dense: in_features), None if it does not."""
        return None

    @property
    def units(self) -> int:
        """Number of units (neurons or channels) of a parametrised layer."""
        raise UnsupportedError(f"layer type {self.kind} has no units")

    @property
    def negative_slope(self) -> float:
        """Slope alpha of a gated activation where z <= 0 (ReLU 0, LeakyReLU alpha)."""
        raise UnsupportedError(f"layer type {self.kind} is not a ReLU-type activation")

    def flat_windows(self, input_shape: Shape) -> np.ndarray:
        """Pooling: one row per output, the flat input index of each window slot (-1 on padding)."""
        raise UnsupportedError(f"layer type {self.kind} has no windows")

    def carry_constant(self, v: np.ndarray) -> np.ndarray | None:
        """The value a constant unit output ``v`` (shape (1,)) has after this unit-keeping layer, None
        if it is no longer one constant. Activations: f(v); pooling, Flatten: v (padding aside)."""
        return self.forward(v) if self.activation else v

    # ------------------------------------------------------------------ bounds
    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A sound box [out_lo, out_hi] of the outputs over the input box [lo, hi] (batched like forward)."""
        raise UnsupportedError(f"no interval rule for layer type {self.kind}")

    def connections(self, input_shape: Shape) -> Connections:
        """The connection list of an affine layer with weights (:class:`Connections`)."""
        raise UnsupportedError(f"no connection structure for layer type {self.kind}")

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(A, c) with layer(x) = A x + c on flat vectors (A sparse csr), for the affine layer types."""
        raise UnsupportedError(f"no affine matrix for layer type {self.kind}")

    def linear_matrix(self, input_shape: Shape) -> np.ndarray:
        """The Jacobian (n_out, n_in) of an affine layer, dense: A of :meth:`linear_map`."""
        return np.asarray(self.linear_map(input_shape)[0].toarray())

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        """The linear part L(v) - L(0) of an affine layer on a batch V (batched like forward)."""
        raise UnsupportedError(f"{self.kind} is not an affine layer")

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        """Lower and upper linear relaxations (Al, bl, Au, bu) of a non-affine layer on [L, U] (flat):
        Al x + bl <= layer(x) <= Au x + bu for every L <= x <= U."""
        raise UnsupportedError(f"no linear relaxation for layer type {self.kind}")

    # ------------------------------------------------------------------ derivatives
    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Elementwise derivative f'(z) of an activation."""
        raise UnsupportedError(f"no derivative for activation {self.kind}")

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g @ d layer(x) / d x for one input x (its own shape) and rows g of shape (m, *out_shape)."""
        raise UnsupportedError(f"no gradient rule for layer type {self.kind}")

    def batch_vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Row k of g (N, n_out flat) times the Jacobian at x[k] (x: (N, *input_shape)): (N, n_in flat).
        Default: :meth:`vjp` row by row."""
        n = x.shape[0]
        if not n:
            return np.zeros((0, int(np.prod(x.shape[1:]))))
        out_shape = tuple(self.output_shape(tuple(x.shape[1:])))
        return np.concatenate([self.vjp(x[k], g[k : k + 1].reshape((1,) + out_shape)).reshape(1, -1) for k in range(n)])

    # ------------------------------------------------------------------ MILP encoding
    def encode(
        self,
        block: Any,
        name: str,
        x: "Terms",
        *,
        weights: "VariableWeights | None" = None,
        product: Callable[..., Any] | None = None,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
        relax: bool = False,
    ) -> tuple["Terms", np.ndarray | None]:
        """The layer as constraints on ``block`` applied to input Terms ``x``: (output Terms, binaries or
        None). ``weights``/``product``: variable weights (training); ``bounds``: known sound output
        bounds; ``relax``: binaries continuous in [0, 1]. Formulations: :mod:`mipnet.encode`."""
        raise UnsupportedError(f"the encoder has no formulation for layer type {self.kind}")

    # ------------------------------------------------------------------ exchange formats
    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        """Write the ONNX node(s) computing ``out`` from ``x`` (``prefix`` names constants)."""
        if self.onnx_op is None:
            raise UnsupportedError(f"no ONNX export for layer type {self.kind!r}")
        graph.node(self.onnx_op, [x], out)

    def absorb_affine(self, a: np.ndarray, b: np.ndarray, shape: Shape, shift_only: bool) -> bool:
        """Merge a following elementwise ``a * out + b`` (ONNX import) into this layer where exact;
        ``shift_only``: a = 1. Returns whether it was merged."""
        return False

    @classmethod
    def from_onnx(
        cls, op: str, attrs: dict[str, Any], inputs: list[np.ndarray | None], exact: dict[str, float]
    ) -> "Layer":
        """The layer an ONNX node with ``op`` in :attr:`onnx_imports` computes: ``attrs`` its attributes, ``inputs``
        its constant inputs after the first (None where absent), ``exact`` the float64 attribute values a mipnet
        export recorded for it (float32 attributes lose them)."""
        raise UnsupportedError(f"no ONNX import for layer type {cls.kind!r}")

    @classmethod
    def from_torch(cls, module: Any) -> "Layer":
        """The layer a ``torch.nn`` module whose class name is in :attr:`torch_imports` computes."""
        raise UnsupportedError(f"no torch import for layer type {cls.kind!r}")

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        """The ``torch.nn`` module computing this layer on inputs of ``shape`` (torch imported lazily)."""
        if self.torch_module is None:
            raise UnsupportedError(f"no torch module for layer type {self.kind!r}")
        from torch import nn

        return getattr(nn, self.torch_module)()


def _connection_map(layer: Layer, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(A, c) of an affine layer given by :meth:`Layer.connections`: A_{j i} = sum c * W_k, c_j = b_{beta(j)}."""
    n_in = int(np.prod(input_shape))
    conn = layer.connections(input_shape)
    n_out = int(np.prod(conn.out_shape))
    params = layer.parameters()
    w = params["weight"].ravel()[np.maximum(conn.w_idx, 0)] if "weight" in params else 1.0
    vals = conn.coef * np.where(conn.w_idx >= 0, w, 1.0)
    A = sparse.csr_matrix((vals, (conn.out_idx, conn.in_idx)), shape=(n_out, n_in))
    c = params["bias"][conn.bias_idx] if "bias" in params else np.zeros(n_out)
    return A, np.asarray(c, dtype=np.float64)


def _torch_tensor(a: np.ndarray, dtype: Any) -> Any:
    import torch

    return torch.tensor(np.array(a, dtype=np.float64), dtype=dtype)


def _torch_param(a: np.ndarray, dtype: Any) -> Any:
    from torch import nn

    return nn.Parameter(_torch_tensor(a, dtype))


# ----------------------------------------------------------------------------- elementwise activations


class Weighted(Layer):
    """A layer with a trainable ``weight`` tensor (first axis: the units) and ``bias`` (one per unit):
    the parametrised layers (Dense, Conv2D). Code that reads or trains weights asks for this base class."""

    weight: np.ndarray
    bias: np.ndarray
    parametrised: ClassVar[bool] = True


class Activation(Layer):
    """An elementwise activation h = f(z): vjp g * f'(x), box [f(lo), f(hi)] (f non-decreasing)."""

    activation: ClassVar[bool] = True
    keeps_units: ClassVar[bool] = True

    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[f(lo), f(hi)]: f is monotone non-decreasing (GELU overrides)."""
        return self.forward(lo), self.forward(hi)

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g * f'(x), elementwise."""
        return g * self.derivative(x)[None]

    def batch_vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g * self.derivative(x).reshape(x.shape[0], -1)


# ----------------------------------------------------------------------------- registry

#: every layer type by its ``kind`` (filled by :func:`register`, in :mod:`mipnet.layers`)
LAYER_TYPES: dict[str, type[Layer]] = {}


def register(*classes: type[Layer]) -> None:
    """Make layer types known to :func:`layer_from_dict` and the ONNX / torch importers."""
    for cls in classes:
        LAYER_TYPES[cls.kind] = cls


def layer_from_dict(d: dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.to_dict` output; unknown types raise a clear error."""
    if not isinstance(d, dict) or "type" not in d:
        raise ModelFormatError("every layer must be an object with a 'type' field")
    kind = d["type"]
    cls = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UnsupportedError(f"unknown layer type {kind!r} (supported: {', '.join(LAYER_TYPES)})")
    kwargs = {k: v for k, v in d.items() if k != "type"}
    known = {f.name: f for f in fields(cast("type[DataclassInstance]", cls))}  # every layer type is a dataclass
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ModelFormatError(f"{kind} layer has unknown field(s) {unknown}")
    missing = [n for n, f in known.items() if f.default is MISSING and f.default_factory is MISSING and n not in kwargs]
    if missing:
        raise ModelFormatError(f"{kind} layer is missing field(s) {missing}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{kind} layer: {exc}") from None
