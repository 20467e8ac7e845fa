"""Exact interpretation of piecewise-linear networks (OpenBox): local linear classifiers per
activation configuration, the polytope of each configuration and its non-redundant boundaries,
the consistency of explanations, figures, and the whole model as an exact scorecard (:mod:`.scorecard`)."""

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
from .scorecard import LayerForm, Scorecard, readable, scorecard

__all__ = [
    "AffineMaps",
    "Interpretation",
    "LayerForm",
    "PieceLayer",
    "Polytope",
    "Scorecard",
    "affine_maps",
    "configurations",
    "input_box",
    "interpret",
    "nonredundant",
    "piece_layers",
    "polytope",
    "readable",
    "scorecard",
]
