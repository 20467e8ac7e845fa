"""Verification: robustness in norm balls and VNN-LIB properties (monotonicity and resilience live in
their own modules of this package)."""

from .robustness import (
    PerturbationResult,
    RobustnessResult,
    encode_margin,
    margins,
    minimal_perturbation,
    verify_robustness,
    verify_sample,
)
from .vnnlib import Property, VnnResult, check_property, load_vnnlib, parse_vnnlib, verify_vnnlib

__all__ = [
    "RobustnessResult",
    "PerturbationResult",
    "verify_robustness",
    "verify_sample",
    "minimal_perturbation",
    "encode_margin",
    "margins",
    "Property",
    "VnnResult",
    "parse_vnnlib",
    "load_vnnlib",
    "check_property",
    "verify_vnnlib",
]
