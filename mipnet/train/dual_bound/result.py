"""The outcome of every dual bound of :mod:`mipnet.train.dual_bound` and the tolerances they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: alpha is quantised to multiples of 1 / (D 2^QUANT_BITS) to make sum alpha y = 0 exact (any width, free c)
QUANT_BITS = 30
#: Gub = dual bound + REL_SAFETY |dual bound| + ABS_SAFETY sum |a_n| (U_n + |L_n|)
REL_SAFETY = 1e-6
ABS_SAFETY = 1e-6
#: a pricing column enters the master if its reduced cost is below -ENTER_TOL (relative to lam + kappa)
ENTER_TOL = 1e-7
#: bound_for_config(method="auto"): column generation up to this many distinct rows, the hybrid above
AUTO_CG_ROWS = 300
#: pricing MILP: pair cuts h_p - h_q <= (w . (x_p - x_q))_+ to this many nearest opposite-sign rows per binary row
PAIR_CUTS = 5
#: pricing MILP: rounds of the root loop of strong ReLU cuts (:mod:`.relu_cuts`) before the branch and bound; off
#: by default: at COMPAS 1000's multipliers they lower the root LP (0.278 -> 0.213) but HiGHS' own root cuts reach
#: more, and the extra rows slow its root: the dual bound after 15 s is 0.146-0.152 with them, 0.139 without
#: (results/training/dual_bound_cuts.md)
RELU_CUT_ROUNDS = 0
#: hybrid: nearest opposite rows per row in its transport part up to HYBRID_NEIGHBOURS_ROWS distinct rows (20 above)
HYBRID_NEIGHBOURS = 50
HYBRID_NEIGHBOURS_ROWS = 5000
#: rows with alpha_n below this (absolute) leave the pricing problem (they contribute exactly 0 as alpha_n := 0)
ALPHA_ZERO = 1e-12


@dataclass
class DualBoundResult:
    """Outcome of :func:`any_width_lower_bound`.

    ``bound``: the lower bound on the training objective (valid whatever ``status`` is); ``alpha``: the
    multipliers (per original row, in [0, 1/D]) that gave it; ``g_upper``: the certified upper bound of the
    pricing problem at that alpha (any width: Gub >= G(alpha); width J: Vub >= V(alpha)); ``scale``: the t of
    the bound; ``trace``: (seconds, best bound so far) per pricing round; ``units``: the master's columns
    (K, d + 1) as (w, b); ``master_value``: the last restricted master LP value (an upper bound on what the
    relaxation can give with the units found so far: the bound cannot exceed the relaxation's optimum)."""

    bound: float
    alpha: np.ndarray
    g_upper: float
    scale: float
    iterations: int
    trace: list[tuple[float, float]]
    units: np.ndarray
    status: str
    mode: str
    n_rows: int
    n_merged: int
    master_value: float | None
    seconds: float
    pricing_optimal: bool
    info: dict[str, Any] = field(default_factory=dict)
    #: what re-checks the bound without trusting the solver (width J only; :func:`recheck_record`): the
    #: multipliers as sparse lists over *original* row indices (a representative row of each merged group)
    record: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bound": self.bound,
            "g_upper": self.g_upper,
            "scale": self.scale,
            "iterations": self.iterations,
            "trace": [list(t) for t in self.trace],
            "n_units": int(self.units.shape[0]),
            "status": self.status,
            "mode": self.mode,
            "n_rows": self.n_rows,
            "n_merged": self.n_merged,
            "master_value": self.master_value,
            "seconds": self.seconds,
            "pricing_optimal": self.pricing_optimal,
            "info": self.info,
        }
