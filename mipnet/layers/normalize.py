"""Normalize: the elementwise affine map z = scale * x + offset (scale, offset broadcast to the input).

Rules:
    interval   [min(a, b), max(a, b)] with a = scale l + offset, b = scale u + offset
    linear map A = diag(scale), c = offset (flat, broadcast to the input shape)
    vjp        g -> g * scale
    encoding   z = scale x + offset per element, no new variables (:func:`mipnet.encode.affine.encode_normalize`)
    ONNX       Mul(x, scale) -> Add(offset);  torch: :class:`mipnet.io.torch_io.Affine`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError
from .base import Layer, OnnxGraph, Shape, _as_array, _torch_tensor

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class Normalize(Layer):
    """Elementwise affine scaling ``z = scale * x + offset`` (e.g. standardisation folded into the model)."""

    scale: np.ndarray
    offset: np.ndarray
    kind: ClassVar[str] = "Normalize"
    affine: ClassVar[bool] = True
    scaling: ClassVar[bool] = True

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

    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.forward(lo), self.forward(hi)
        return np.minimum(a, b), np.maximum(a, b)

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        scale = np.broadcast_to(self.scale, input_shape).ravel()
        return sparse.diags(scale, format="csr"), np.broadcast_to(self.offset, input_shape).ravel().copy()

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        return V * self.scale

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g * np.broadcast_to(self.scale, x.shape)[None]

    def batch_vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g * np.broadcast_to(self.scale, x.shape[1:]).reshape(1, -1)

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
        from ..encode.affine import encode_normalize

        return encode_normalize(self.scale, self.offset, x), None

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        graph.node("Mul", [x, graph.const(prefix + "scale", self.scale)], prefix + "scaled")
        graph.node("Add", [prefix + "scaled", graph.const(prefix + "offset", self.offset)], out)

    def absorb_affine(self, a: np.ndarray, b: np.ndarray, shape: Shape, shift_only: bool) -> bool:
        """a (scale x + offset) + b, when the parameters have the full shape, or a and b (full shape) are constant
        where this layer's parameters broadcast (per-channel (C, 1, 1) stays per-channel)."""
        if self.scale.shape != shape:
            ac, bc = compact(a, self.scale.shape), compact(b, self.scale.shape)
            if ac is None or bc is None:
                return False
            a, b = ac, bc
        # a zero offset (the Mul of an exported Normalize) takes b as it is: 0.0 + -0.0 would lose the sign
        self.scale, self.offset = a * self.scale, np.where(self.offset == 0, b, a * self.offset + b)
        return True

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from ..io.torch_io import Affine

        return Affine(
            _torch_tensor(np.broadcast_to(self.scale, shape), dtype),
            _torch_tensor(np.broadcast_to(self.offset, shape), dtype),
        )


def compact(full: np.ndarray, small: Shape) -> np.ndarray | None:
    """``full`` as an array of shape ``small`` that broadcasts back to it exactly (None when it does not: the values
    vary along an axis where ``small`` has size 1)."""
    full = np.asarray(full, dtype=np.float64)
    small = tuple(small)
    if len(small) > full.ndim:
        return None
    lead = full.ndim - len(small)
    idx = tuple(0 for _ in range(lead)) + tuple(
        slice(0, 1) if s == 1 and f != 1 else slice(None) for s, f in zip(small, full.shape[lead:])
    )
    try:
        out = full[idx].reshape(small)
    except ValueError:
        return None
    same = np.array_equal(np.broadcast_to(out, full.shape).view(np.uint64), full.view(np.uint64))  # bits: -0.0 too
    return out.copy() if same else None


def positive_variance(v: np.ndarray, where: str) -> np.ndarray:
    """A batch normalisation's variance + epsilon, refused where not > 0 (NaN and inf scales with numpy's warnings
    on stderr before the error)."""
    v = np.asarray(v, dtype=np.float64)
    if not np.all(v > 0):
        raise ModelFormatError(
            f"{where}: batch normalisation with variance + epsilon {float(np.min(v))!r} (must be > 0)"
        )
    return v
