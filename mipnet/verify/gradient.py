"""Deprecated: the input-gradient MILP encoding moved to :mod:`mipnet.verify.slope_encoding` (this name
collided with :mod:`mipnet.gradients`, the numpy gradients). Kept as a re-export so old imports work."""

from .slope_encoding import (
    GradientEncoding,
    check_gradient_support,
    encode_gradient,
    linear_matrix,
    pattern_gradient,
)

__all__ = ["GradientEncoding", "encode_gradient", "linear_matrix", "pattern_gradient", "check_gradient_support"]
