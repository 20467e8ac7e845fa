"""ReLU-type activations, h = max(alpha z, z): ReLU (alpha = 0) and LeakyReLU (0 <= alpha < 1).

Rules (elementwise, on [L, U]):
    interval   [f(L), f(U)] (non-decreasing)
    derivative 1 where z > 0, alpha elsewhere (the forward pass's activation pattern)
    relaxation on: L >= 0 -> h = z;  off: U <= 0 -> h = alpha z;  else upper chord through
               (L, alpha L) and (U, U): su = (U - alpha L) / (U - L), bu = (alpha - su) L; lower
               slope 1 if U > -L else alpha (the nearer line), intercept 0
    encoding   big-M with one binary per unstable unit (:func:`mipnet.encode.activations.encode_relu`)
    ONNX       Relu / LeakyRelu(alpha; the exact float64 value in the metadata);  torch nn.ReLU / nn.LeakyReLU
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError, UnsupportedError
from .base import Activation, OnnxGraph, Relaxation, Shape

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


def slope_relaxation(alpha: float, L: np.ndarray, U: np.ndarray) -> Relaxation:
    """Linear relaxation of h = max(alpha z, z) on [L, U] (flat; module docstring)."""
    n = L.size
    on, off = L >= 0, U <= 0
    amb = ~on & ~off
    width = np.where(amb, U - L, 1.0)
    su = np.where(on, 1.0, np.where(off, alpha, (U - alpha * L) / width))
    bu = np.where(amb, (alpha - su) * L, 0.0)  # chord through (L, alpha L) and (U, U)
    sl = np.where(on, 1.0, np.where(off, alpha, np.where(U > -L, 1.0, alpha)))
    return sparse.diags(sl, format="csr"), np.zeros(n), sparse.diags(su, format="csr"), bu


class _Gated(Activation):
    gated: ClassVar[bool] = True

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        return slope_relaxation(self.negative_slope, L, U)

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
        from ..encode.activations import encode_relu

        return encode_relu(block, name, x, self.negative_slope, relax)


@dataclass(repr=False)
class ReLU(_Gated):
    kind: ClassVar[str] = "ReLU"
    piece_kind: ClassVar[str | None] = "relu"
    onnx_op: ClassVar[str | None] = "Relu"
    torch_module: ClassVar[str | None] = "ReLU"

    @property
    def negative_slope(self) -> float:
        return 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return (z > 0).astype(np.float64)


@dataclass(repr=False)
class LeakyReLU(_Gated):
    alpha: float = 0.01
    kind: ClassVar[str] = "LeakyReLU"
    piece_kind: ClassVar[str | None] = "leaky"
    onnx_imports: ClassVar[tuple[str, ...]] = ("LeakyRelu", "PRelu")
    torch_imports: ClassVar[tuple[str, ...]] = ("LeakyReLU",)

    def __post_init__(self) -> None:
        self.alpha = float(self.alpha)
        if not (0.0 <= self.alpha < 1.0):
            raise ModelFormatError(f"LeakyReLU alpha must be in [0, 1), got {self.alpha}")

    @property
    def negative_slope(self) -> float:
        return self.alpha

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, x, self.alpha * x)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, 1.0, self.alpha)

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        """LeakyRelu's ``alpha`` attribute is float32: an alpha it holds exactly goes there; any other (0.1) is
        PRelu's slope, a tensor of the graph's own dtype, so that a float64 export computes with alpha itself (the
        float32 attribute plus the exact value in metadata made runtimes compute another function than the one
        mipnet read back)."""
        if np.dtype(getattr(graph, "np_type", np.float64)) == np.float32 and np.float32(self.alpha) >= 1.0:
            raise UnsupportedError(
                f"LeakyReLU alpha {self.alpha!r} rounds to 1 in float32 (another function, and no LeakyReLU): export "
                "in float64"
            )
        if float(np.float32(self.alpha)) == self.alpha:
            graph.node("LeakyRelu", [x], out, alpha=self.alpha)
        else:
            graph.node("PRelu", [x, graph.const(prefix + "slope", [self.alpha])], out)

    @classmethod
    def from_onnx(
        cls, op: str, attrs: dict[str, Any], inputs: list[np.ndarray | None], exact: dict[str, float]
    ) -> "LeakyReLU":
        """What the graph computes, never the (editable) metadata: LeakyRelu's float32 attribute as its float32
        value, as onnxruntime computes with it (0.10000000149, not 0.1: reading the shortest decimal made a float64
        model's output at x = -1e6 differ by 1.5e-3 from onnxruntime's, and a false "holds"); PRelu's slope tensor,
        one value for every unit."""
        if op == "PRelu":
            slope = inputs[0] if inputs else None
            if slope is None or slope.size == 0:
                raise UnsupportedError("PRelu needs a constant slope")
            flat = np.asarray(slope, dtype=np.float64).reshape(-1)
            if not np.all(flat == flat[0]):
                raise UnsupportedError("PRelu with a slope per unit or channel is not supported (one slope only)")
            return cls(float(flat[0]))
        return cls(float(np.float32(attrs.get("alpha", 0.01))))

    @classmethod
    def from_torch(cls, module: Any) -> "LeakyReLU":
        return cls(float(module.negative_slope))

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        return nn.LeakyReLU(self.alpha)
