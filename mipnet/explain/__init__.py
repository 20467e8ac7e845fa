"""Exact interpretation of piecewise-linear networks (OpenBox): local linear classifiers per
activation configuration, the polytope of each configuration and its non-redundant boundaries,
the consistency of explanations, and figures."""

from .openbox import (
    AffineMaps,
    Interpretation,
    PieceLayer,
    Polytope,
    affine_maps,
    configurations,
    input_box,
    interpret,
    nonredundant,
    piece_layers,
    polytope,
)

__all__ = [
    "AffineMaps",
    "Interpretation",
    "PieceLayer",
    "Polytope",
    "affine_maps",
    "configurations",
    "input_box",
    "interpret",
    "nonredundant",
    "piece_layers",
    "polytope",
]
