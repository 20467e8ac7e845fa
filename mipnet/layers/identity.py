"""Identity: h = z (an activation that passes its input on).

Rules: interval [L, U]; derivative 1; relaxation h = z (the ReLU-type relaxation with slope 1);
encoding: the input Terms; ONNX Identity; torch nn.Identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np

from .base import Activation, Relaxation, Shape
from .relu import slope_relaxation

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class Identity(Activation):
    kind: ClassVar[str] = "Identity"
    passthrough: ClassVar[bool] = True
    onnx_op: ClassVar[str | None] = "Identity"
    torch_module: ClassVar[str | None] = "Identity"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return np.ones_like(z, dtype=np.float64)

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        return slope_relaxation(1.0, L, U)

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
        return x, None
