"""HardTanh (clip), h = min(max(z, a), b) with a < b: ONNX ``Clip``, torch ``nn.Hardtanh`` / ``nn.ReLU6``.

Rules (elementwise, on [L, U]):
    forward     clip(z, a, b)
    interval    [f(L), f(U)] (non-decreasing)
    derivative  1 where a < z < b, 0 elsewhere (the saturated pieces; 0 at the kinks, as torch)
    relaxation  two parallel lines of the chord's slope k = (f(U) - f(L)) / (U - L) (k = 0 when U = L):
                g(z) = f(z) - k z is piecewise linear with kinks at a and b, so its extremes on [L, U] lie in
                P = {L, U} u ({a, b} n [L, U]); then  k z + min_P g <= f(z) <= k z + max_P g  on [L, U],
                exact (both lines equal f) on a unit that stays inside one piece
    encoding    the composition  f(z) = b - relu((b - a) - relu(z - a)):  two ReLU units per input, each by
                the one ReLU formulation (:func:`mipnet.encode.activations.encode_relu`, one binary where the
                bounds leave it unstable); exact: z <= a gives b - (b - a) = a, a < z < b gives z, z >= b gives b
    ONNX        Clip(x, min, max) with min and max as constant inputs (opset >= 11) or attributes (older);
                the export records the exact float64 bounds (a float32 export rounds its constants). After a
                ReLU a min <= 0 is left out (the same function; onnxruntime cannot load a float64 Relu then a
                Clip with a min) and read back from the metadata (only a value <= 0; 0 without it)
    torch       nn.Hardtanh(min_val, max_val); nn.ReLU6 imports as HardTanh(0, 6)

Not supported (a clear error, not a wrong answer): explanations by local linear pieces and the gradient
encoding of monotonicity certificates, which read ReLU-type activation patterns (``gated`` is False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError, UnsupportedError
from .base import Activation, OnnxGraph, Relaxation, Shape

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class HardTanh(Activation):
    min_val: float = -1.0
    max_val: float = 1.0
    kind: ClassVar[str] = "HardTanh"
    onnx_imports: ClassVar[tuple[str, ...]] = ("Clip",)
    torch_imports: ClassVar[tuple[str, ...]] = ("Hardtanh", "ReLU6")

    def __post_init__(self) -> None:
        self.min_val, self.max_val = float(self.min_val), float(self.max_val)
        if not (math.isfinite(self.min_val) and math.isfinite(self.max_val) and self.min_val < self.max_val):
            raise ModelFormatError(f"HardTanh needs finite min_val < max_val, got [{self.min_val}, {self.max_val}]")

    def config(self) -> dict[str, Any]:
        return {"min_val": self.min_val, "max_val": self.max_val}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.min_val, self.max_val)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return ((z > self.min_val) & (z < self.max_val)).astype(np.float64)

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        L, U = L.ravel(), U.ravel()
        fL, fU = self.forward(L), self.forward(U)
        width = U - L
        k = np.where(width > 0, (fU - fL) / np.where(width > 0, width, 1.0), 0.0)
        points = np.stack([L, U, np.clip(self.min_val, L, U), np.clip(self.max_val, L, U)])
        g = self.forward(points) - k * points
        return sparse.diags(k, format="csr"), g.min(axis=0), sparse.diags(k, format="csr"), g.max(axis=0)

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
        from ..encode.terms import Terms

        a, b = self.min_val, self.max_val
        shifted = Terms(x.expr - a, x.lower - a, x.upper - a)  # z - a
        r1, bin1 = encode_relu(block, f"{name}_lo", shifted, 0.0, relax)  # relu(z - a) = max(z, a) - a
        room = Terms((b - a) - r1.expr, (b - a) - r1.upper, (b - a) - r1.lower)  # b - max(z, a)
        r2, bin2 = encode_relu(block, f"{name}_hi", room, 0.0, relax)  # relu(b - max(z, a))
        out = Terms(b - r2.expr, b - r2.upper, b - r2.lower)
        binaries = np.empty(x.shape + (2,), dtype=object)
        binaries[..., 0], binaries[..., 1] = bin1, bin2
        return out, binaries

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        hi = graph.const(prefix + "max", self.max_val)
        if self.min_val <= 0 and graph.producer(x) == "Relu":
            # the same function (the input is >= 0 >= min), and onnxruntime's Relu-Clip fusion fails on a
            # float64 Clip whose min is given ("Unexpected data type for Clip 'min' input of 11", up to 1.32)
            graph.node("Clip", [x, "", hi], out)
        else:
            graph.node("Clip", [x, graph.const(prefix + "min", self.min_val), hi], out)
        graph.exact[out] = {"min": self.min_val}  # (the min a Clip after a Relu leaves out)

    @classmethod
    def from_onnx(
        cls, op: str, attrs: dict[str, Any], inputs: list[np.ndarray | None], exact: dict[str, float]
    ) -> "HardTanh":
        given = [inputs[k] if k < len(inputs) else None for k in (0, 1)]
        bounds: list[float | None] = []
        for k, key in enumerate(("min", "max")):
            v = given[k]
            if v is not None:
                if v.size != 1:
                    raise UnsupportedError(f"Clip with a non-scalar {key} is not supported")
                value: float | None = float(v.reshape(-1)[0])
            else:
                value = float(attrs[key]) if key in attrs else None  # opset < 11: attributes
            bounds.append(value)  # what the graph computes with (a float32 export's rounded constant included)
        if bounds[0] is None and bounds[1] is not None and exact.get("input_nonnegative"):
            # after a ReLU a Clip without a min is HardTanh(a, max) for every a <= 0: the exporter's own a
            # (metadata, trusted only when <= 0), else 0 (max - 1 for a max <= 0: the constant max either way)
            e, top = exact.get("min"), bounds[1]
            bounds[0] = e if isinstance(e, float) and e <= 0 and e < top else min(0.0, top - 1.0)
        if bounds[0] is None or bounds[1] is None:
            raise UnsupportedError(
                "Clip without both a min and a max is not supported (import it as a ReLU-type layer instead)"
            )
        return cls(bounds[0], bounds[1])

    @classmethod
    def from_torch(cls, module: Any) -> "HardTanh":
        return cls(float(module.min_val), float(module.max_val))

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        return nn.Hardtanh(self.min_val, self.max_val)
