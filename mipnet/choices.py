"""Named choices that users pick by name, in one light module (no numpy, no solver).

The command line builds its options (``--bounds``, the ``--l1`` grid in the help text) from these before any
heavy library is imported; the modules that implement them import the same names from here.
"""

from __future__ import annotations

#: bound-tightening methods of :func:`mipnet.bounds.compute_bounds`, weakest and fastest first
BOUND_METHODS: tuple[str, ...] = ("interval", "linear", "lp", "mip")

#: the l1 coefficients cross-validation tries by default (:mod:`mipnet.train.penalty_cv`)
DEFAULT_L1_GRID: tuple[float, ...] = (0.001, 0.002, 0.003, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1)


def comma_items(text: str, what: str) -> list[str]:
    """The items of a comma list, stripped. An empty item (``4,,3``, a trailing comma) is an input error naming
    ``what`` (an option): it used to be dropped, so a typo ran as another request."""
    from .errors import DataError

    items = [t.strip() for t in str(text).split(",")]
    if any(not t for t in items):
        raise DataError(f"{what}: empty item in {text!r} (give the values separated by single commas)")
    return items
