"""Layer types of a :class:`mipnet.Network` and their batched numpy forward passes.

Every layer maps a batch ``x`` of shape ``(N, *input_shape)`` to ``(N, *output_shape)``.
Shapes follow the PyTorch/ONNX convention: images are ``(C, H, W)``, flattening is C-order.

Affine layers
    Dense       z = W x + b,                 W: (out, in), b: (out,)
    Conv2D      z[o,i,j] = b[o] + sum_{c,p,q} W[o,c,p,q] x_pad[c, i*s_h + p, j*s_w + q]
    Normalize   z = scale * x + offset       (elementwise; scale, offset have the input shape)
    AvgPool2D   z[c,i,j] = mean of the window (zero padding counted or not, as in ONNX/torch)
    Flatten     (C, H, W) -> (C*H*W,)
Piecewise-linear activations
    ReLU        h = max(0, z)
    LeakyReLU   h = max(alpha z, z), 0 <= alpha < 1
    Identity    h = z
    MaxPool2D   h[c,i,j] = max of the window (padding never wins)
Smooth activations (encoded later by sound linear envelopes only)
    GELU        h = z * Phi(z)  (exact erf form)
    Tanh, Sigmoid
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from .errors import ModelFormatError, UnsupportedError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Shape = tuple[int, ...]


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


class Layer:
    """Base class. Subclasses define ``forward`` and ``output_shape``; parameters are numpy arrays."""

    kind: ClassVar[str] = "Layer"
    #: True for layers that are affine maps of their input (encoded without binaries).
    affine: ClassVar[bool] = False
    #: True for elementwise activations.
    activation: ClassVar[bool] = False
    #: True for activations that are piecewise linear (exactly encodable in a MILP).
    piecewise_linear: ClassVar[bool] = True

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


# ----------------------------------------------------------------------------- affine layers


@dataclass(repr=False)
class Dense(Layer):
    """Fully connected layer ``z = W x + b`` on a flat input."""

    weight: np.ndarray
    bias: np.ndarray
    kind: ClassVar[str] = "Dense"
    affine: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.weight = _as_array(self.weight, "Dense weight", 2)
        self.bias = _as_array(self.bias, "Dense bias", 1)
        if self.bias.shape[0] != self.weight.shape[0]:
            raise ModelFormatError(
                f"Dense bias has {self.bias.shape[0]} entries but the weight has {self.weight.shape[0]} rows"
            )

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1 or input_shape[0] != self.in_features:
            raise ModelFormatError(
                f"Dense layer expects {self.in_features} inputs but receives shape {input_shape}"
            )
        return (self.out_features,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias

    def parameters(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}


@dataclass(repr=False)
class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in PyTorch/ONNX) with zero padding."""

    weight: np.ndarray  # (out_channels, in_channels, kh, kw)
    bias: np.ndarray  # (out_channels,)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    kind: ClassVar[str] = "Conv2D"
    affine: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.weight = _as_array(self.weight, "Conv2D weight", 4)
        self.bias = _as_array(self.bias, "Conv2D bias", 1)
        self.stride = _pair(self.stride)
        self.padding = _pair(self.padding)
        if self.bias.shape[0] != self.weight.shape[0]:
            raise ModelFormatError("Conv2D bias length differs from its number of output channels")
        if min(self.stride) < 1 or min(self.padding) < 0:
            raise ModelFormatError("Conv2D stride must be >= 1 and padding >= 0")

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def in_channels(self) -> int:
        return self.weight.shape[1]

    @property
    def kernel(self) -> tuple[int, int]:
        return self.weight.shape[2], self.weight.shape[3]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3 or input_shape[0] != self.in_channels:
            raise ModelFormatError(
                f"Conv2D expects input (C={self.in_channels}, H, W) but receives shape {input_shape}"
            )
        _, h, w = input_shape
        kh, kw = self.kernel
        oh = (h + 2 * self.padding[0] - kh) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - kw) // self.stride[1] + 1
        if oh < 1 or ow < 1:
            raise ModelFormatError(f"Conv2D kernel {self.kernel} does not fit input {input_shape}")
        return (self.out_channels, oh, ow)

    def forward(self, x: np.ndarray) -> np.ndarray:
        kh, kw = self.kernel
        cols = _windows(x, (kh, kw), self.stride, self.padding, 0.0)  # (N, C, oh, ow, kh, kw)
        return np.einsum("ncijpq,ocpq->noij", cols, self.weight, optimize=True) + self.bias[None, :, None, None]

    def parameters(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}

    def config(self) -> dict[str, Any]:
        return {"stride": list(self.stride), "padding": list(self.padding)}


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


@dataclass(repr=False)
class _Pool(Layer):
    kernel: tuple[int, int] = (2, 2)
    # None (the default) means the kernel; __post_init__ sets it, so it is a pair after construction
    stride: tuple[int, int] = None  # type: ignore[assignment]
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.kernel = _pair(self.kernel)
        self.stride = _pair(self.stride) if self.stride is not None else self.kernel
        self.padding = _pair(self.padding)
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ModelFormatError(f"{self.kind} kernel and stride must be >= 1, padding >= 0")
        if self.padding[0] >= self.kernel[0] or self.padding[1] >= self.kernel[1]:
            # a window lying wholly in the padding would have no input element (max -inf, mean 0/0)
            raise ModelFormatError(f"{self.kind} padding {self.padding} must be smaller than the kernel {self.kernel}")

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise ModelFormatError(f"{self.kind} expects an input (C, H, W), receives shape {input_shape}")
        c, h, w = input_shape
        oh = (h + 2 * self.padding[0] - self.kernel[0]) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.kernel[1]) // self.stride[1] + 1
        if oh < 1 or ow < 1:
            raise ModelFormatError(f"{self.kind} kernel {self.kernel} does not fit input {input_shape}")
        return (c, oh, ow)

    def config(self) -> dict[str, Any]:
        return {"kernel": list(self.kernel), "stride": list(self.stride), "padding": list(self.padding)}


@dataclass(repr=False)
class MaxPool2D(_Pool):
    """Max pooling; padded positions never win (padding value -inf, as in PyTorch/ONNX)."""

    kind: ClassVar[str] = "MaxPool2D"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return _windows(x, self.kernel, self.stride, self.padding, -np.inf).max(axis=(4, 5))


@dataclass(repr=False)
class AvgPool2D(_Pool):
    """Average pooling; ``count_include_pad`` as in PyTorch (True) / ONNX (default False)."""

    count_include_pad: bool = True
    kind: ClassVar[str] = "AvgPool2D"
    affine: ClassVar[bool] = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        s = _windows(x, self.kernel, self.stride, self.padding, 0.0).sum(axis=(4, 5))
        return s / self.divisors(x.shape[1:])[None]

    def divisors(self, input_shape: Shape) -> np.ndarray:
        """Per output position, the number the window sum is divided by, shape (C, oh, ow)."""
        out = self.output_shape(tuple(input_shape))
        if self.count_include_pad or self.padding == (0, 0):
            return np.full(out, float(self.kernel[0] * self.kernel[1]))
        ones = np.ones((1,) + tuple(input_shape))
        return _windows(ones, self.kernel, self.stride, self.padding, 0.0).sum(axis=(4, 5))[0]

    def config(self) -> dict[str, Any]:
        d = super().config()
        d["count_include_pad"] = bool(self.count_include_pad)
        return d


@dataclass(repr=False)
class Flatten(Layer):
    """(C, H, W) -> (C*H*W,) in C order."""

    kind: ClassVar[str] = "Flatten"
    affine: ClassVar[bool] = True

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(np.prod(input_shape)),)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)


@dataclass(repr=False)
class Normalize(Layer):
    """Elementwise affine scaling ``z = scale * x + offset`` (e.g. standardisation folded into the model)."""

    scale: np.ndarray
    offset: np.ndarray
    kind: ClassVar[str] = "Normalize"
    affine: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.scale = _as_array(self.scale, "Normalize scale")
        self.offset = _as_array(self.offset, "Normalize offset")
        if self.scale.shape != self.offset.shape:
            raise ModelFormatError("Normalize scale and offset must have the same shape")

    def output_shape(self, input_shape: Shape) -> Shape:
        try:
            fits = np.broadcast_shapes(self.scale.shape, tuple(input_shape)) == tuple(input_shape)
        except ValueError:
            fits = False
        if not fits:  # the parameters must broadcast *to* the input shape, never enlarge it
            raise ModelFormatError(f"Normalize parameters of shape {self.scale.shape} do not fit input {input_shape}")
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.offset

    def parameters(self) -> dict[str, np.ndarray]:
        return {"scale": self.scale, "offset": self.offset}


# ----------------------------------------------------------------------------- activations


@dataclass(repr=False)
class ReLU(Layer):
    kind: ClassVar[str] = "ReLU"
    activation: ClassVar[bool] = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)


@dataclass(repr=False)
class LeakyReLU(Layer):
    alpha: float = 0.01
    kind: ClassVar[str] = "LeakyReLU"
    activation: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.alpha = float(self.alpha)
        if not (0.0 <= self.alpha < 1.0):
            raise ModelFormatError(f"LeakyReLU alpha must be in [0, 1), got {self.alpha}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, x, self.alpha * x)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@dataclass(repr=False)
class Identity(Layer):
    kind: ClassVar[str] = "Identity"
    activation: ClassVar[bool] = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x


@dataclass(repr=False)
class GELU(Layer):
    kind: ClassVar[str] = "GELU"
    activation: ClassVar[bool] = True
    piecewise_linear: ClassVar[bool] = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import erf  # imported on use: the command line starts without scipy

        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


@dataclass(repr=False)
class Tanh(Layer):
    kind: ClassVar[str] = "Tanh"
    activation: ClassVar[bool] = True
    piecewise_linear: ClassVar[bool] = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)


@dataclass(repr=False)
class Sigmoid(Layer):
    kind: ClassVar[str] = "Sigmoid"
    activation: ClassVar[bool] = True
    piecewise_linear: ClassVar[bool] = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x, dtype=np.float64)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        return out


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Normalize, ReLU, LeakyReLU, Identity, GELU, Tanh, Sigmoid)
}


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

