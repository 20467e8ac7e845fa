"""The one encoder: layers as Pyomo constraints, with constant weights (verification) or variable
weights (training). See :func:`encode_network`."""

from .activations import activation_interval, encode_maxpool, encode_relu, encode_smooth
from .affine import VariableWeights, bilinear_product, connections, encode_affine, encode_normalize
from .envelopes import envelope
from .network import NetworkEncoding, build_estimate, encode_network, input_terms
from .terms import Terms, constraint_list, new_binaries, new_vars

__all__ = [
    "Terms",
    "NetworkEncoding",
    "VariableWeights",
    "encode_network",
    "build_estimate",
    "input_terms",
    "encode_affine",
    "encode_normalize",
    "encode_relu",
    "encode_maxpool",
    "encode_smooth",
    "envelope",
    "connections",
    "bilinear_product",
    "activation_interval",
    "new_vars",
    "new_binaries",
    "constraint_list",
]
