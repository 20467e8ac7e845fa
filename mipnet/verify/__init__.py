"""Verification: robustness in norm balls and VNN-LIB properties (monotonicity and resilience live in
their own modules of this package).

The names below are loaded on first use (PEP 562): importing a light module of this package, such as the VNN-LIB
parser :mod:`mipnet.verify.vnnlib_format`, does not import the MILP encoders (Pyomo: seconds on a loaded machine,
which a property's parse error waited for)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
#: each public name and the module it lives in (the first seven: robustness, the rest: VNN-LIB)
_HOMES = {name: ".robustness" if k < 7 else ".vnnlib" for k, name in enumerate(__all__)}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # a submodule, as `import mipnet.verify` made them attributes before (robustness, vnnlib)
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
