"""Smooth activations, encoded by sound linear envelopes only (the encoding is then a relaxation).

    GELU     h = z Phi(z) = 0.5 z (1 + erf(z / sqrt 2))     (exact erf form)
             h' = Phi(z) + z phi(z);  not monotone: its minimum h(z*) at z* = GELU_ARGMIN
    Tanh     h = tanh z,                 h' = 1 - tanh^2 z
    Sigmoid  h = 1 / (1 + e^{-z}),       h' = h (1 - h)

Rules: interval [f(L), f(U)] (Tanh, Sigmoid: increasing; GELU: lower end f(z*) when z* in [L, U],
else min(f(L), f(U)), upper end max(f(L), f(U))); relaxation and encoding: the parallel-chord
envelopes of :mod:`mipnet.encode.envelopes` (with the interval as bounds); ONNX Gelu is written as
its erf subgraph x/sqrt2 -> Erf -> +1 -> *x -> *0.5; Tanh, Sigmoid as themselves; torch nn.GELU, nn.Tanh, nn.Sigmoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from .base import Activation, OnnxGraph, Relaxation, Shape

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms

GELU_ARGMIN = -0.7517915246935645  # argmin of z * Phi(z)


class _Smooth(Activation):
    piecewise_linear: ClassVar[bool] = False

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        from ..encode.envelopes import envelope

        a_lo, b_lo, a_hi, b_hi = envelope(self.kind, L, U)
        return sparse.diags(a_lo, format="csr"), b_lo, sparse.diags(a_hi, format="csr"), b_hi

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
        from ..encode.activations import encode_smooth

        return encode_smooth(block, name, self, x), None


@dataclass(repr=False)
class GELU(_Smooth):
    kind: ClassVar[str] = "GELU"
    torch_module: ClassVar[str | None] = "GELU"

    def forward(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import erf  # imported on use: the command line starts without scipy

        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))

    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fL, fU = self.forward(lo), self.forward(hi)
        fmin = self.forward(np.array([GELU_ARGMIN]))[0]
        inside = (lo <= GELU_ARGMIN) & (hi >= GELU_ARGMIN)
        return np.where(inside, fmin, np.minimum(fL, fU)), np.maximum(fL, fU)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        return 0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        # 0.5 * x * (1 + erf(x / sqrt 2))
        p = prefix
        graph.node("Div", [x, graph.const(p + "sqrt2", math.sqrt(2.0))], p + "div")
        graph.node("Erf", [p + "div"], p + "erf")
        graph.node("Add", [p + "erf", graph.const(p + "one", 1.0)], p + "add")
        graph.node("Mul", [x, p + "add"], p + "mul")
        graph.node("Mul", [p + "mul", graph.const(p + "half", 0.5)], out)


@dataclass(repr=False)
class Tanh(_Smooth):
    kind: ClassVar[str] = "Tanh"
    onnx_op: ClassVar[str | None] = "Tanh"
    torch_module: ClassVar[str | None] = "Tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return 1.0 - np.tanh(z) ** 2


@dataclass(repr=False)
class Sigmoid(_Smooth):
    kind: ClassVar[str] = "Sigmoid"
    onnx_op: ClassVar[str | None] = "Sigmoid"
    torch_module: ClassVar[str | None] = "Sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x, dtype=np.float64)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        return out

    def derivative(self, z: np.ndarray) -> np.ndarray:
        s = self.forward(z)
        return s * (1.0 - s)
