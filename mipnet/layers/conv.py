"""Conv2D: 2-D convolution (cross-correlation, as in PyTorch/ONNX) with zero padding.

    z[o,i,j] = b[o] + sum_{c,p,q} W[o,c,p,q] x_pad[c, i*s_h + p, j*s_w + q]

Rules:
    interval   conv(W^+, b)(l) + conv(W^-, 0)(u)  and  conv(W^+, b)(u) + conv(W^-, 0)(l)
    linear map connections (j = (o, r, s), k = (o, c, p, q), i = the input pixel under the kernel, 1),
               padding pixels dropped; A_{j i} = W_k, c_j = b_o
    vjp        d z[o,i,j] / d x[win[c,i,j,p,q]] = W[o,c,p,q], scattered over the windows
    encoding   as Dense (:func:`mipnet.encode.affine.encode_affine`, outputs as variables)
    ONNX       Conv(x, W, b, kernel_shape, strides, pads);  torch: nn.Conv2d
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError
from .base import (
    Connections,
    OnnxGraph,
    Shape,
    Weighted,
    _as_array,
    _connection_map,
    _pair,
    _torch_param,
    _windows,
    rounding_slack,
    window_indices,
)

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class Conv2D(Weighted):
    """2-D convolution (cross-correlation, as in PyTorch/ONNX) with zero padding."""

    weight: np.ndarray  # (out_channels, in_channels, kh, kw)
    bias: np.ndarray  # (out_channels,)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    kind: ClassVar[str] = "Conv2D"
    affine: ClassVar[bool] = True
    parametrised: ClassVar[bool] = True
    unit_name: ClassVar[str | None] = "channels"

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

    @property
    def units(self) -> int:
        return self.out_channels

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

    def _correlate(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """sum_{c,p,q} weight[o,c,p,q] x_pad[n, c, i s_h + p, j s_w + q] + bias[o]."""
        kh, kw = self.kernel
        cols = _windows(x, (kh, kw), self.stride, self.padding, 0.0)  # (N, C, oh, ow, kh, kw)
        return np.einsum("ncijpq,ocpq->noij", cols, weight, optimize=True) + bias[None, :, None, None]

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._correlate(x, self.weight, self.bias)

    def parameters(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}

    def config(self) -> dict[str, Any]:
        return {"stride": list(self.stride), "padding": list(self.padding)}

    # ------------------------------------------------------------------ units (pruning)
    def input_unit_weights(self, n_units: int) -> np.ndarray:
        """The weight grouped by input channel: (out, C, kh * kw)."""
        return self.weight.reshape(self.weight.shape[0], n_units, -1)

    def keep_input_units(self, keep: np.ndarray, n_units: int) -> None:
        """Drop the input channels where ``keep`` is False."""
        self.weight = self.weight[:, keep]

    def zero_input_unit(self, k: int, n_units: int) -> None:
        """Zero the filters reading input channel k."""
        self.weight[:, k] = 0.0

    def keep_units(self, keep: np.ndarray) -> None:
        """Drop the output channels where ``keep`` is False."""
        self.weight, self.bias = self.weight[keep], self.bias[keep]

    def absorb_constant_input(self, k: int, value: float) -> bool:
        """A constant input channel meets the zero padding: not one constant per output, never folded."""
        return False

    # ------------------------------------------------------------------ bounds and derivatives
    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The interval of each output (positive weights on one end, negative on the other), widened by its float64
        round-off (:func:`rounding_slack` over the C kh kw terms of a window)."""
        Wp, Wn = np.maximum(self.weight, 0), np.minimum(self.weight, 0)
        zero = np.zeros_like(self.bias)
        mag = self._correlate(np.maximum(np.abs(lo), np.abs(hi)), np.abs(self.weight), np.abs(self.bias))
        slack = rounding_slack(mag, int(np.prod(self.weight.shape[1:])))
        return (
            self._correlate(lo, Wp, self.bias) + self._correlate(hi, Wn, zero) - slack,
            self._correlate(hi, Wp, self.bias) + self._correlate(lo, Wn, zero) + slack,
        )

    def connections(self, input_shape: Shape) -> Connections:
        out_shape = tuple(self.output_shape(input_shape))
        win = window_indices(tuple(input_shape), self.kernel, self.stride, self.padding)  # (C, oh, ow, kh, kw)
        C, oh, ow, kh, kw = win.shape
        O = self.out_channels
        o, c, r, s, p, q = np.meshgrid(
            np.arange(O), np.arange(C), np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), indexing="ij"
        )
        inp = win[c, r, s, p, q]
        out = (o * oh + r) * ow + s
        w = ((o * C + c) * kh + p) * kw + q
        keep = inp >= 0
        bias = np.repeat(np.arange(O), oh * ow)
        return Connections(out[keep], w[keep], inp[keep], np.ones(int(keep.sum())), bias, out_shape)

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        return _connection_map(self, input_shape)

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        return self._correlate(V, self.weight, np.zeros_like(self.bias))

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        m = g.shape[0]
        shape = x.shape
        win = window_indices(shape, self.kernel, self.stride, self.padding)  # (C, oh, ow, kh, kw)
        C, oh, ow, kh, kw = win.shape
        n_in = int(np.prod(shape))
        # d z[o,i,j] / d x[win[c,i,j,p,q]] = W[o,c,p,q]
        wins = win.transpose(1, 2, 0, 3, 4).reshape(oh * ow, C * kh * kw)  # per position
        Wf = self.weight.reshape(self.out_channels, C * kh * kw)
        gq = g.reshape(m, self.out_channels, oh * ow)
        contrib = np.einsum("mop,oe->mpe", gq, Wf)  # (m, positions, C*kh*kw)
        out = np.zeros((m, n_in))
        valid = wins >= 0
        cols = wins[valid]
        for r in range(m):
            np.add.at(out[r], cols, contrib[r][valid])
        return out.reshape((m,) + shape)

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

        return encode_affine(block, name, self, x, weights, product, bounds, as_variables=True), None

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        graph.node(
            "Conv",
            [x, graph.const(prefix + "W", self.weight), graph.const(prefix + "b", self.bias)],
            out,
            kernel_shape=list(self.kernel),
            strides=list(self.stride),
            pads=list(self.padding) * 2,
        )

    def absorb_affine(self, a: np.ndarray, b: np.ndarray, shape: Shape, shift_only: bool) -> bool:
        """A shift constant per channel goes into the bias."""
        if not (shift_only and np.all(b == b[:, :1, :1])):
            return False
        self.bias = self.bias + b[:, 0, 0]
        return True

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        m = nn.Conv2d(self.in_channels, self.out_channels, self.kernel, self.stride, self.padding, dtype=dtype)
        m.weight, m.bias = _torch_param(self.weight, dtype), _torch_param(self.bias, dtype)
        return m
