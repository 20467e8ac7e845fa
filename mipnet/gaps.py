"""When a bound closes the gap to an incumbent: the one rule for "optimal" of the trainer and the re-check."""

from __future__ import annotations

#: An objective gap this small (absolute) is closed whatever the relative gap says: near an objective of 0 the
#: relative gap's denominator max(|incumbent|, 1e-10) turned a bound 1e-12 below a zero-loss network into a 1 % gap.
OPTIMAL_ABS_GAP = 1e-9


def gap_closed(incumbent: float, bound: float, relative: float) -> bool:
    """True when ``incumbent - bound <= max(relative * |incumbent|, OPTIMAL_ABS_GAP)``: the bound proves the
    incumbent optimal to the relative tolerance, or to an absolute 1e-9 (tighter than HiGHS's default 1e-6)."""
    return incumbent - bound <= max(relative * abs(incumbent), OPTIMAL_ABS_GAP)
