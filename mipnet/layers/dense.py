"""Dense: the fully connected layer z = W x + b, W: (out, in), b: (out,).

Rules:
    interval   lower = W^+ l + W^- u + b,  upper = W^+ u + W^- l + b   (W^+ = max(W, 0), W^- = min(W, 0))
    linear map A = W, c = b;  connections (j, k = (j, i), i, 1)
    vjp        g -> g W
    encoding   z_j = b_j + sum_i W_ji x_i (:func:`mipnet.encode.affine.encode_affine`, outputs as variables)
    ONNX       Gemm(x, W, b, transB=1);  torch: nn.Linear
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError
from .base import Connections, OnnxGraph, Shape, Weighted, _as_array, _torch_param, rounding_slack

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class Dense(Weighted):
    """Fully connected layer ``z = W x + b`` on a flat input."""

    weight: np.ndarray
    bias: np.ndarray
    kind: ClassVar[str] = "Dense"
    affine: ClassVar[bool] = True
    parametrised: ClassVar[bool] = True
    unit_name: ClassVar[str | None] = "neurons"

    def __post_init__(self) -> None:
        self.weight = _as_array(self.weight, "Dense weight", 2)
        self.bias = _as_array(self.bias, "Dense bias", 1)
        if self.bias.shape[0] != self.weight.shape[0]:
            raise ModelFormatError(
                f"Dense bias has {self.bias.shape[0]} entries but the weight has {self.weight.shape[0]} rows"
            )
        if 0 in self.weight.shape:  # (a file could not even say which: [] reads back as shape (0,))
            raise ModelFormatError(f"a Dense layer of shape {self.weight.shape} has no units or no inputs")

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    @property
    def units(self) -> int:
        return self.out_features

    @property
    def flat_input_size(self) -> int | None:
        return self.in_features

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1 or input_shape[0] != self.in_features:
            raise ModelFormatError(f"Dense layer expects {self.in_features} inputs but receives shape {input_shape}")
        return (self.out_features,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias

    def parameters(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}

    # ------------------------------------------------------------------ units (pruning)
    def input_unit_weights(self, n_units: int) -> np.ndarray:
        """The weight grouped by the producer's unit of each input column: (out, n_units, k) (a view;
        after a Flatten, the columns of one channel form a block)."""
        return self.weight.reshape(self.weight.shape[0], n_units, -1)

    def keep_input_units(self, keep: np.ndarray, n_units: int) -> None:
        """Drop the input columns (blocks) of the producer's units where ``keep`` is False."""
        self.weight = self.input_unit_weights(n_units)[:, keep].reshape(self.weight.shape[0], -1)

    def zero_input_unit(self, k: int, n_units: int) -> None:
        """Zero the weights reading the producer's unit k."""
        self.input_unit_weights(n_units)[:, k] = 0.0

    def keep_units(self, keep: np.ndarray) -> None:
        """Drop the output neurons where ``keep`` is False."""
        self.weight, self.bias = self.weight[keep], self.bias[keep]

    def absorb_constant_input(self, k: int, value: float) -> bool:
        """Input k is the constant ``value``: fold W[:, k] value into the bias (b' = b + W[:, k] value)."""
        self.bias = self.bias + self.weight[:, k] * value
        return True

    # ------------------------------------------------------------------ bounds and derivatives
    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[lo Wp^T + hi Wn^T + b, hi Wp^T + lo Wn^T + b], widened by its float64 round-off (:func:`rounding_slack`)."""
        Wp, Wn = np.maximum(self.weight, 0), np.minimum(self.weight, 0)
        slack = rounding_slack(
            np.maximum(np.abs(lo), np.abs(hi)) @ np.abs(self.weight).T + np.abs(self.bias), lo.shape[-1]
        )
        return lo @ Wp.T + hi @ Wn.T + self.bias - slack, hi @ Wp.T + lo @ Wn.T + self.bias + slack

    def connections(self, input_shape: Shape) -> Connections:
        out_shape = tuple(self.output_shape(input_shape))
        n_out, n_in = self.weight.shape
        jg, ig = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
        j, i = jg.ravel(), ig.ravel()
        return Connections(j, j * n_in + i, i, np.ones(j.size), np.arange(n_out), out_shape)

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(W, b) with W in CSR form holding every entry, zeros included: the matrix :func:`_connection_map`
        builds from :meth:`connections` (same indptr, indices and data), written directly, as a 2-M-weight net's
        coordinate lists took a third of a second per layer and per call."""
        self.output_shape(input_shape)  # the shape check of connections()
        n_out, n_in = self.weight.shape
        data = np.array(self.weight, dtype=np.float64).ravel()  # a copy: the matrix never aliases the layer
        indices = np.tile(np.arange(n_in), n_out)
        indptr = np.arange(0, n_out * n_in + 1, n_in) if n_in else np.zeros(n_out + 1, dtype=np.int64)
        A = sparse.csr_matrix((data, indices, indptr), shape=(n_out, n_in))
        return A, np.array(self.bias, dtype=np.float64)

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        return V @ self.weight.T

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g @ self.weight

    def batch_vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g @ self.weight

    # ------------------------------------------------------------------ encoding and exchange
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
        from ..encode.affine import encode_affine

        if len(x.shape) != 1:
            x = x.flat()
        return encode_affine(block, name, self, x, weights, product, bounds, as_variables=True), None

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        # every attribute written: readers such as OMLT do not apply the defaults
        graph.node(
            "Gemm",
            [x, graph.const(prefix + "W", self.weight), graph.const(prefix + "b", self.bias)],
            out,
            alpha=1.0,
            beta=1.0,
            transA=0,
            transB=1,
        )

    def absorb_affine(self, a: np.ndarray, b: np.ndarray, shape: Shape, shift_only: bool) -> bool:
        """A shift z + b goes into the bias."""
        if not shift_only:
            return False
        self.bias = self.bias + b
        return True

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        m = nn.Linear(self.in_features, self.out_features, dtype=dtype)
        m.weight, m.bias = _torch_param(self.weight, dtype), _torch_param(self.bias, dtype)
        return m
