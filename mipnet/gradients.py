"""Exact input gradients of a network (reverse mode), in numpy.

For a piecewise-linear network the Jacobian at x is the linear part of its local affine map,

    J(x) = W_L D_{L-1}(x) W_{L-1} ... D_1(x) W_1,

with D_l the diagonal 0/1 (LeakyReLU: alpha/1) activation pattern at x, max pooling routing the
gradient to the window's maximum (the first one on a tie, as the forward pass picks it). Smooth
activations use their derivatives. Each layer supplies (as its method) a vector-Jacobian product
g -> g * d layer / d input evaluated at its own input; the whole Jacobian costs one forward pass plus
one backward pass of ``n_outputs`` rows, instead of ``n_inputs`` forward passes by finite differences.
"""

from __future__ import annotations

import numpy as np

from .layers import Layer, _scatter_windows
from .network import Network

__all__ = ["vjp", "derivative", "jacobian", "batch_gradients", "_scatter_windows"]


def vjp(layer: Layer, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g @ d layer(x) / d x for one input x (its own shape) and rows g of shape (m, *out_shape)
    (:meth:`mipnet.layers.Layer.vjp`)."""
    return layer.vjp(x, g)


def derivative(layer: Layer, z: np.ndarray) -> np.ndarray:
    """Elementwise derivative of an activation at z (ReLU: 1 where z > 0, as the forward pattern)
    (:meth:`mipnet.layers.Layer.derivative`)."""
    return layer.derivative(z)


def jacobian(net: Network, x: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(outputs at x, Jacobian d outputs / d x) of shapes (n_out,) and (n_out, n_in).

    ``rows`` (m, n_out) asks for rows @ J instead (e.g. one margin direction), shape (m, n_in).
    """
    trace = net.forward_trace(np.asarray(x, dtype=np.float64)[None])
    g = np.eye(net.n_outputs) if rows is None else np.atleast_2d(np.asarray(rows, dtype=np.float64))
    for i in range(len(net.layers) - 1, -1, -1):
        g = net.layers[i].vjp(trace[i][0], g)
    return trace[-1][0], g.reshape(g.shape[0], -1)


def batch_gradients(net: Network, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Gradient of ``coef^T f`` at every row of X, shape (N, n_in): one batched backward pass.

    The same local gradient as :func:`jacobian` (``coef @ J(x)``), by each layer's
    :meth:`~mipnet.layers.Layer.batch_vjp` (vectorised over the rows for Dense, activation, Normalize,
    Flatten and Identity layers; conv and pooling layers apply their ``vjp`` row by row). At a kink
    the inactive side is taken (ReLU and LeakyReLU: slope 1 only where z > 0), which is the activation
    pattern the MILP encodings read off a forward pass.
    """
    X = np.asarray(X, dtype=np.float64)
    trace = net.forward_trace(X)
    n = trace[0].shape[0]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    g = np.broadcast_to(coef, (n, coef.size)).copy()
    for i in range(len(net.layers) - 1, -1, -1):
        g = net.layers[i].batch_vjp(trace[i], g)
    return g
