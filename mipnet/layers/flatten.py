"""Flatten: (C, H, W) -> (C*H*W,) in C order; the identity map on flat vectors.

Rules: interval [flat(l), flat(u)]; linear map A = I, c = 0; vjp g -> g reshaped to the input;
encoding: the input Terms flattened; ONNX Flatten(axis=1); torch nn.Flatten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from .base import Layer, OnnxGraph, Shape

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class Flatten(Layer):
    """(C, H, W) -> (C*H*W,) in C order."""

    kind: ClassVar[str] = "Flatten"
    affine: ClassVar[bool] = True
    keeps_units: ClassVar[bool] = True
    passthrough: ClassVar[bool] = True
    torch_module: ClassVar[str | None] = "Flatten"

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(np.prod(input_shape)),)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)

    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(lo), self.forward(hi)

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        n_in = int(np.prod(input_shape))
        return sparse.identity(n_in, format="csr"), np.zeros(n_in)

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        return self.forward(V)

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g.reshape((g.shape[0],) + x.shape)

    def batch_vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g

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
        return x.flat(), None

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        graph.node("Flatten", [x], out, axis=1)
