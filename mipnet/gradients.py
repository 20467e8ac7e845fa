"""Exact input gradients of a network (reverse mode), in numpy.

For a piecewise-linear network the Jacobian at x is the linear part of its local affine map,

    J(x) = W_L D_{L-1}(x) W_{L-1} ... D_1(x) W_1,

with D_l the diagonal 0/1 (LeakyReLU: alpha/1) activation pattern at x, max pooling routing the
gradient to the window's maximum (the first one on a tie, as the forward pass picks it). Smooth
activations use their derivatives. Each layer supplies a vector-Jacobian product
g -> g * d layer / d input evaluated at its own input; the whole Jacobian costs one forward pass plus
one backward pass of ``n_outputs`` rows, instead of ``n_inputs`` forward passes by finite differences.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from .errors import UnsupportedError
from .layers import (
    GELU,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    ReLU,
    Sigmoid,
    Tanh,
    window_indices,
)
from .network import Network


def _scatter_windows(g: np.ndarray, win: np.ndarray, weights: np.ndarray, n_in: int) -> np.ndarray:
    """sum over windows: out[m, win[w, e]] += g[m, w] * weights[w, e] (padding entries, win = -1, dropped)."""
    m = g.shape[0]
    contrib = g[:, :, None] * weights[None]  # (m, W, E)
    valid = win >= 0
    out = np.zeros((m, n_in))
    cols = np.broadcast_to(win, contrib.shape[1:])[valid]
    for r in range(m):
        np.add.at(out[r], cols, contrib[r][valid])
    return out


def vjp(layer: Layer, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g @ d layer(x) / d x for one input x (its own shape) and rows g of shape (m, *out_shape)."""
    m = g.shape[0]
    if isinstance(layer, Dense):
        return g @ layer.weight
    if isinstance(layer, (ReLU, LeakyReLU, Identity, GELU, Tanh, Sigmoid)):
        return g * derivative(layer, x)[None]
    if isinstance(layer, Normalize):
        return g * np.broadcast_to(layer.scale, x.shape)[None]
    if isinstance(layer, Flatten):
        return g.reshape((m,) + x.shape)
    if isinstance(layer, (Conv2D, AvgPool2D, MaxPool2D)):
        shape = x.shape
        win = window_indices(shape, layer.kernel, layer.stride, layer.padding)  # (C, oh, ow, kh, kw)
        C, oh, ow, kh, kw = win.shape
        n_in = int(np.prod(shape))
        if isinstance(layer, Conv2D):
            # d z[o,i,j] / d x[win[c,i,j,p,q]] = W[o,c,p,q]
            wins = win.transpose(1, 2, 0, 3, 4).reshape(oh * ow, C * kh * kw)  # per position
            Wf = layer.weight.reshape(layer.out_channels, C * kh * kw)
            gq = g.reshape(m, layer.out_channels, oh * ow)
            contrib = np.einsum("mop,oe->mpe", gq, Wf)  # (m, positions, C*kh*kw)
            out = np.zeros((m, n_in))
            valid = wins >= 0
            cols = wins[valid]
            for r in range(m):
                np.add.at(out[r], cols, contrib[r][valid])
            return out.reshape((m,) + shape)
        wf = win.reshape(C * oh * ow, kh * kw)
        if isinstance(layer, AvgPool2D):
            weights = np.broadcast_to(1.0 / layer.divisors(shape).reshape(-1, 1), wf.shape)
        else:
            xv = np.where(wf >= 0, x.ravel()[np.maximum(wf, 0)], -np.inf)
            weights = np.zeros(wf.shape)
            weights[np.arange(wf.shape[0]), np.argmax(xv, axis=1)] = 1.0
        return _scatter_windows(g.reshape(m, -1), wf, weights, n_in).reshape((m,) + shape)
    raise UnsupportedError(f"no gradient rule for layer type {layer.kind}")


def derivative(layer: Layer, z: np.ndarray) -> np.ndarray:
    """Elementwise derivative of an activation at z (ReLU: 1 where z > 0, as the forward pattern)."""
    if isinstance(layer, ReLU):
        return (z > 0).astype(np.float64)
    if isinstance(layer, LeakyReLU):
        return np.where(z > 0, 1.0, layer.alpha)
    if isinstance(layer, Identity):
        return np.ones_like(z, dtype=np.float64)
    if isinstance(layer, Tanh):
        return 1.0 - np.tanh(z) ** 2
    if isinstance(layer, Sigmoid):
        s = layer.forward(z)
        return s * (1.0 - s)
    if isinstance(layer, GELU):
        return 0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    raise UnsupportedError(f"no derivative for activation {layer.kind}")


def jacobian(net: Network, x: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(outputs at x, Jacobian d outputs / d x) of shapes (n_out,) and (n_out, n_in).

    ``rows`` (m, n_out) asks for rows @ J instead (e.g. one margin direction), shape (m, n_in).
    """
    trace = net.forward_trace(np.asarray(x, dtype=np.float64)[None])
    g = np.eye(net.n_outputs) if rows is None else np.atleast_2d(np.asarray(rows, dtype=np.float64))
    for i in range(len(net.layers) - 1, -1, -1):
        g = vjp(net.layers[i], trace[i][0], g)
    return trace[-1][0], g.reshape(g.shape[0], -1)


def batch_gradients(net: Network, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Gradient of ``coef^T f`` at every row of X, shape (N, n_in): one batched backward pass.

    The same local gradient as :func:`jacobian` (``coef @ J(x)``), vectorised over the rows for
    Dense, activation, Normalize, Flatten and Identity layers; conv and pooling layers apply
    :func:`vjp` row by row. At a kink the inactive side is taken (ReLU and LeakyReLU: slope 1 only
    where z > 0), which is the activation pattern the MILP encodings read off a forward pass.
    """
    X = np.asarray(X, dtype=np.float64)
    trace = net.forward_trace(X)
    n = trace[0].shape[0]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    g = np.broadcast_to(coef, (n, coef.size)).copy()
    for i in range(len(net.layers) - 1, -1, -1):
        layer, x = net.layers[i], trace[i]
        if isinstance(layer, Dense):
            g = g @ layer.weight
        elif isinstance(layer, (ReLU, LeakyReLU, Identity, GELU, Tanh, Sigmoid)):
            g = g * derivative(layer, x).reshape(n, -1)
        elif isinstance(layer, Normalize):
            g = g * np.broadcast_to(layer.scale, x.shape[1:]).reshape(1, -1)
        elif isinstance(layer, Flatten):
            continue
        else:
            out_shape = trace[i + 1].shape[1:]
            g = np.concatenate([vjp(layer, x[k], g[k:k + 1].reshape((1,) + out_shape)).reshape(1, -1)
                                for k in range(n)]) if n else np.zeros((0, int(np.prod(x.shape[1:]))))
    return g
