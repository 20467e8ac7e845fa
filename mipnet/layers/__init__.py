"""Layer types of a :class:`mipnet.Network`: one module per layer type (or tight family), each owning
its rules (forward pass, interval, linear map, derivatives, relaxation, MILP encoding, ONNX / torch
export); see :mod:`mipnet.layers.base` for the uniform method names and structural attributes.

Every layer maps a batch ``x`` of shape ``(N, *input_shape)`` to ``(N, *output_shape)``.
Shapes follow the PyTorch/ONNX convention: images are ``(C, H, W)``, flattening is C-order.

Affine layers
    Dense       z = W x + b,                 W: (out, in), b: (out,)                  (:mod:`.dense`)
    Conv2D      z[o,i,j] = b[o] + sum_{c,p,q} W[o,c,p,q] x_pad[c, i*s_h + p, j*s_w + q] (:mod:`.conv`)
    Normalize   z = scale * x + offset       (elementwise; scale, offset have the input shape)
    AvgPool2D   z[c,i,j] = mean of the window (zero padding counted or not, as in ONNX/torch) (:mod:`.pool`)
    Flatten     (C, H, W) -> (C*H*W,)
Piecewise-linear activations
    ReLU        h = max(0, z)                                                          (:mod:`.relu`)
    LeakyReLU   h = max(alpha z, z), 0 <= alpha < 1
    Identity    h = z
    HardTanh    h = min(max(z, a), b)                                                   (:mod:`.hardtanh`)
    MaxPool2D   h[c,i,j] = max of the window (padding never wins)
Smooth activations (encoded later by sound linear envelopes only)                      (:mod:`.smooth`)
    GELU        h = z * Phi(z)  (exact erf form)
    Tanh, Sigmoid

A new layer type is one new module here, its line in :func:`register` below, and its tests.
"""

from .base import (
    LAYER_TYPES,
    Activation,
    Connections,
    Layer,
    OnnxGraph,
    Relaxation,
    Shape,
    Weighted,
    _as_array,
    _int,
    _pair,
    _scatter_windows,
    _windows,
    layer_from_dict,
    register,
    window_indices,
)
from .conv import Conv2D
from .dense import Dense
from .flatten import Flatten
from .hardtanh import HardTanh
from .identity import Identity
from .normalize import Normalize
from .pool import AvgPool2D, MaxPool2D, _Pool
from .relu import LeakyReLU, ReLU
from .smooth import GELU, GELU_ARGMIN, Sigmoid, Tanh

register(
    Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Normalize, ReLU, LeakyReLU, Identity, GELU, Tanh, Sigmoid, HardTanh
)

__all__ = [
    "LAYER_TYPES",
    "Activation",
    "Connections",
    "Layer",
    "OnnxGraph",
    "Relaxation",
    "Shape",
    "Weighted",
    "layer_from_dict",
    "register",
    "window_indices",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "Normalize",
    "ReLU",
    "HardTanh",
    "LeakyReLU",
    "Identity",
    "GELU",
    "Tanh",
    "Sigmoid",
    "GELU_ARGMIN",
    "_as_array",
    "_int",
    "_pair",
    "_windows",
    "_scatter_windows",
    "_Pool",
]
