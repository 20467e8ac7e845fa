"""Pooling: MaxPool2D (a piecewise-linear activation) and AvgPool2D (affine), over windows P_o.

    MaxPool2D  h[c,i,j] = max of the window (padding never wins: padded with -inf)
    AvgPool2D  z[c,i,j] = (sum of the window) / d[c,i,j], d the window size (count_include_pad, or no
               padding) or the number of non-padding elements

Rules:
    interval   both are monotone non-decreasing: [pool(l), pool(u)]
    MaxPool    relaxation: lower line y >= x_{k*}, k* the element with the largest lower bound L*;
               upper line y <= x_{k*} when every other element's upper bound is <= L* (dominant),
               else the constant max_k U_k.  vjp: the gradient goes to the window's argmax (first on a tie).
               encoding: one selection binary per candidate (:func:`mipnet.encode.activations.encode_maxpool`)
    AvgPool    connections (j = (c, r, s), no weight, i the window pixel, 1 / d_j); vjp: g / d spread
               over the window; encoding: the affine expressions themselves (no new variables)
    ONNX       MaxPool / AveragePool (count_include_pad);  torch: nn.MaxPool2d / nn.AvgPool2d
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
from scipy import sparse

from ..errors import ModelFormatError, UnsupportedError
from .base import (
    Connections,
    Layer,
    OnnxGraph,
    Relaxation,
    Shape,
    _connection_map,
    _pair,
    _scatter_windows,
    _windows,
    window_indices,
)

if TYPE_CHECKING:
    from ..encode.affine import VariableWeights
    from ..encode.terms import Terms


@dataclass(repr=False)
class _Pool(Layer):
    kernel: tuple[int, int] = (2, 2)
    # None (the default) means the kernel; __post_init__ sets it, so it is a pair after construction
    stride: tuple[int, int] = None  # type: ignore[assignment]
    padding: tuple[int, int] = (0, 0)
    keeps_units: ClassVar[bool] = True

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

    def window_indices(self, input_shape: Shape) -> np.ndarray:
        """Flat input index of every window element (C, oh, ow, kh, kw), -1 on padding."""
        return window_indices(tuple(input_shape), self.kernel, self.stride, self.padding)

    def flat_windows(self, input_shape: Shape) -> np.ndarray:
        """One row per output (C * oh * ow, kh * kw): the flat input index of each window slot, -1 on padding."""
        win = self.window_indices(input_shape)
        return win.reshape(-1, win.shape[-2] * win.shape[-1])

    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(lo), self.forward(hi)  # monotone non-decreasing maps

    def _vjp_weights(self, x: np.ndarray, wf: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise UnsupportedError(f"no gradient rule for layer type {self.kind}")

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """sum over windows o and slots e: out[win[o, e]] += g[o] * weight[o, e] (weights: :meth:`_vjp_weights`)."""
        m = g.shape[0]
        shape = x.shape
        win = self.window_indices(shape)  # (C, oh, ow, kh, kw)
        C, oh, ow, kh, kw = win.shape
        n_in = int(np.prod(shape))
        wf = win.reshape(C * oh * ow, kh * kw)
        return _scatter_windows(g.reshape(m, -1), wf, self._vjp_weights(x, wf), n_in).reshape((m,) + shape)

    def _check_torch(self) -> None:
        if any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise UnsupportedError(f"torch pools need padding <= kernel/2; {self!r} has more")


@dataclass(repr=False)
class MaxPool2D(_Pool):
    """Max pooling; padded positions never win (padding value -inf, as in PyTorch/ONNX)."""

    kind: ClassVar[str] = "MaxPool2D"
    piece_kind: ClassVar[str | None] = "maxpool"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return _windows(x, self.kernel, self.stride, self.padding, -np.inf).max(axis=(4, 5))

    def _vjp_weights(self, x: np.ndarray, wf: np.ndarray) -> np.ndarray:
        """1 at the window's argmax (the first on a tie, as the forward pass), 0 elsewhere."""
        xv = np.where(wf >= 0, x.ravel()[np.maximum(wf, 0)], -np.inf)
        weights = np.zeros(wf.shape)
        weights[np.arange(wf.shape[0]), np.argmax(xv, axis=1)] = 1.0
        return weights

    def relaxation(self, L: np.ndarray, U: np.ndarray, input_shape: Shape) -> Relaxation:
        n = L.size
        win = self.flat_windows(input_shape)
        m = win.shape[0]
        Lw = np.where(win >= 0, L[np.maximum(win, 0)], -np.inf)
        Uw = np.where(win >= 0, U[np.maximum(win, 0)], -np.inf)
        best = win[np.arange(m), np.argmax(Lw, axis=1)]
        Al = sparse.csr_matrix((np.ones(m), (np.arange(m), best)), shape=(m, n))
        Lstar = Lw.max(axis=1)
        # dominant element: every other element's upper bound is at most its lower bound
        others = np.where(win == best[:, None], -np.inf, Uw).max(axis=1)
        dom = others <= Lstar
        rows = np.flatnonzero(dom)
        Au = sparse.csr_matrix((np.ones(rows.size), (rows, best[rows])), shape=(m, n))
        bu = np.where(dom, 0.0, Uw.max(axis=1))
        return Al, np.zeros(m), Au, bu

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
        from ..encode.activations import encode_maxpool

        return encode_maxpool(block, name, self, x, relax)

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        graph.node(
            "MaxPool", [x], out, kernel_shape=list(self.kernel), strides=list(self.stride), pads=list(self.padding) * 2
        )

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        self._check_torch()
        return nn.MaxPool2d(self.kernel, self.stride, self.padding)


@dataclass(repr=False)
class AvgPool2D(_Pool):
    """Average pooling; ``count_include_pad`` as in PyTorch (True) / ONNX (default False)."""

    count_include_pad: bool = True
    kind: ClassVar[str] = "AvgPool2D"
    affine: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        flag = self.count_include_pad
        if isinstance(flag, np.bool_) or (isinstance(flag, (int, np.integer)) and flag in (0, 1)):
            flag = bool(flag)  # (torch and onnx give 0 / 1 and numpy booleans)
        if not isinstance(flag, bool):  # a file's "false" (a string) was read as True
            raise ModelFormatError(f"AvgPool2D count_include_pad must be true or false, got {flag!r}")
        self.count_include_pad = flag

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

    def carry_constant(self, v: np.ndarray) -> np.ndarray | None:
        """A nonzero constant averaged with counted zero padding is no longer one constant."""
        if self.padding != (0, 0) and self.count_include_pad and v[0] != 0:
            return None
        return v

    def connections(self, input_shape: Shape) -> Connections:
        out_shape = tuple(self.output_shape(input_shape))
        win = self.window_indices(input_shape)  # (C, oh, ow, kh, kw)
        C, oh, ow, kh, kw = win.shape
        c, r, s, p, q = np.meshgrid(
            np.arange(C), np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), indexing="ij"
        )
        inp = win[c, r, s, p, q]
        out = (c * oh + r) * ow + s
        div = self.divisors(tuple(input_shape)).ravel()
        keep = inp >= 0
        return Connections(
            out[keep],
            np.full(int(keep.sum()), -1),
            inp[keep],
            1.0 / div[out[keep]],
            np.full(C * oh * ow, -1),
            out_shape,
        )

    def linear_map(self, input_shape: Shape) -> tuple[sparse.csr_matrix, np.ndarray]:
        return _connection_map(self, input_shape)

    def linear_forward(self, V: np.ndarray) -> np.ndarray:
        return self.forward(V)

    def _vjp_weights(self, x: np.ndarray, wf: np.ndarray) -> np.ndarray:
        """1 / d_o for every slot of window o."""
        return np.broadcast_to(1.0 / self.divisors(x.shape).reshape(-1, 1), wf.shape)

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

        return encode_affine(block, name, self, x, weights, product, bounds, as_variables=False), None

    def onnx_export(self, graph: OnnxGraph, x: str, out: str, prefix: str) -> None:
        graph.node(
            "AveragePool",
            [x],
            out,
            kernel_shape=list(self.kernel),
            strides=list(self.stride),
            pads=list(self.padding) * 2,
            count_include_pad=int(self.count_include_pad),
        )

    def to_torch(self, shape: Shape, dtype: Any) -> Any:
        from torch import nn

        self._check_torch()
        return nn.AvgPool2d(self.kernel, self.stride, self.padding, count_include_pad=self.count_include_pad)
