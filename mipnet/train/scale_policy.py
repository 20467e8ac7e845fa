"""Whether the training MILP is built at all: a size model of the model and a plan, decided before any build.

The training MILP of :mod:`.formulation` has one block per distinct row: for each of the h hidden units a
pre-activation, a ReLU output and its binary a_nj, the big-M rows h >= z, h <= z - L(1 - a), h <= U a, the sign
products with p_j, q_j, and the hinge slack. Its size is therefore linear in the distinct rows n, with a part in
the weights (h d of them) that does not depend on n:

    variables   ~ 5.51 n h + 2.04 h d
    binaries    ~ 1.00 n h + 8
    constraints ~ 15.0 n h + 4.06 h d
    build s     ~ n h (7.83e-4 + 2.61e-6 d)        (Pyomo, :class:`~.formulation.TrainingProblem`)
    translate s ~ n h (6.62e-4 + 2.31e-6 d)        (to a persistent HiGHS instance, :func:`~.warmstart.lp_instance`)
    model MB    ~ n h (4.57e-2 + 1.95e-4 d)        (resident memory added by build + translation)
    peak MB     ~ base + SOLVE_MEMORY_FACTOR x model MB

Fit: relative least squares on measurements taken on this machine (2 shared cores, load about 1 while measuring),
``python benchmarks/train_scale.py --calibrate --datasets compas,adult --sizes 200,400,800,1600`` (each in its
own process; sign class, 4 hidden units, hinge + l1 0.01; the rows of :data:`CALIBRATION`). The counts are
exact to 1 %; the seconds within a factor 1.5 (0.68-1.29 of measured), the memory within 12 %. The factor of
the solve's memory (HiGHS' presolved copy, the LP heuristic, the warm start and the final re-evaluation, all
holding the model) is anchored on the one full-pipeline figure measured: Adult 10000 rows peaked at 5.7 GB
(issue 23), where the model part above is 2.5 GB: 5.7 GB ~ 0.2 GB base + 2.2 x 2.5 GB.

The estimate is of the sign class with one hidden layer (what it was fitted on); for another class it takes
the units of every hidden layer and is a lower estimate (their products add binaries), so the plan only skips a
MILP that is too large even then; the build's own projection (:func:`.formulation._check_build`) still stops a
build that runs late.

The plan: ``"no milp"`` when the build and translation would take more than ``time_share`` (half) of the time
left -- the solver would then get the rest of a budget that also has to pay for the warm start, the dual bound
and the re-evaluation; at 3000 rows and 120 s the solver got 3 s and proved nothing -- or when the estimated
peak memory is above ``memory_cap_mb`` (6 GB). Seconds are scaled by the machine's load (``load1 / cores``,
at least 1: a process gets about cores / load of a core). Every estimate grows with n, so for a fixed time left
the decision is monotone in n: once "no milp", "no milp" for every larger n.

``MIPNET_SCALE_POLICY=off`` in the environment (or ``ScalePolicy(enabled=False)``) restores the behaviour before
this policy: the MILP is always built (the benchmark's "previous" method).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

#: (distinct rows n, d, h, variables, binaries, constraints, build s, translate s, model MB): the calibration,
#: COMPAS (d = 13) and Adult (d = 86) at N = 200, 400, 800, 1600 (measured 2026-12-04)
CALIBRATION: tuple[tuple[int, int, int, int, int, int, float, float, float], ...] = (
    (191, 13, 4, 4319, 772, 11522, 0.558, 0.414, 39.0),
    (367, 13, 4, 8191, 1476, 21962, 1.173, 1.144, 71.5),
    (697, 13, 4, 15451, 2796, 41582, 3.386, 1.973, 125.0),
    (1294, 13, 4, 28585, 5184, 77132, 4.373, 5.050, 226.1),
    (200, 86, 4, 5101, 808, 12400, 1.148, 0.860, 32.4),
    (399, 86, 4, 9479, 1604, 23310, 1.553, 1.039, 82.4),
    (794, 86, 4, 18169, 3184, 45040, 3.816, 3.344, 181.7),
    (1585, 86, 4, 35571, 6348, 88550, 6.453, 5.562, 387.9),
)
#: per (row x unit) and per (row x unit x feature) coefficients of the fit (module docstring)
VARIABLES = (5.51, 2.04)  # n h, h d
BINARIES = (1.00, 8.0)  # n h, constant
CONSTRAINTS = (15.0, 4.06)  # n h, h d
BUILD_SECONDS = (7.83e-4, 2.61e-6)  # n h, n h d
TRANSLATE_SECONDS = (6.62e-4, 2.31e-6)  # n h, n h d
MODEL_MB = (4.57e-2, 1.95e-4)  # n h, n h d
#: peak memory of the MILP path per MB of built + translated model (anchor: Adult 10000 rows, 5.7 GB)
SOLVE_MEMORY_FACTOR = 2.2
#: default share of the time left that building + translating may take
TIME_SHARE = 0.5
#: below this estimate (seconds to build and translate) the time share does not forbid the build
MIN_SECONDS = 10.0
#: default memory cap of the MILP path (MB)
MEMORY_CAP_MB = 6000.0
#: resident memory of a process that has read the data and imported the trainer, when it cannot be measured
BASE_MB = 250.0


@dataclass(frozen=True)
class SizeEstimate:
    """The estimated size and cost of the training MILP of ``rows`` distinct rows (module docstring)."""

    rows: int
    d: int
    units: int
    variables: int
    binaries: int
    constraints: int
    build_seconds: float
    translate_seconds: float
    model_mb: float
    peak_mb: float
    slowdown: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """``decision`` "milp" (build it) or "no milp" (do not), the ``reason`` in words and the estimate."""

    decision: str
    reason: str
    estimate: SizeEstimate
    #: False when the policy is off (the behaviour before it: the Pyomo MILP always built, nothing routed elsewhere)
    enabled: bool = True

    @property
    def build(self) -> bool:
        return self.decision == "milp"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reason": self.reason, "estimate": self.estimate.to_dict()}


@dataclass(frozen=True)
class ScalePolicy:
    """The thresholds of :func:`plan`: the MILP is built only if building + translating takes at most
    ``time_share`` of the time left (or at most ``min_seconds``) and the peak memory stays under
    ``memory_cap_mb``. ``slowdown``: the factor on the calibrated seconds (None: the machine's load,
    :func:`load_slowdown`). ``enabled=False``: always build."""

    enabled: bool = True
    time_share: float = TIME_SHARE
    #: a model estimated to build and translate within this many seconds is always built (the build's own
    #: deadline check still applies): the estimate is multiplied by the machine's load, and on a busy machine
    #: it kept even 300-row models from the solver
    min_seconds: float = MIN_SECONDS
    memory_cap_mb: float = MEMORY_CAP_MB
    slowdown: float | None = None

    @classmethod
    def from_env(cls) -> "ScalePolicy":
        """The default policy; ``MIPNET_SCALE_POLICY=off`` disables it, ``MIPNET_MEMORY_CAP_MB`` sets the cap."""
        enabled = os.environ.get("MIPNET_SCALE_POLICY", "on").strip().lower() not in ("off", "0", "false", "no")
        cap = os.environ.get("MIPNET_MEMORY_CAP_MB")
        return cls(enabled=enabled, memory_cap_mb=float(cap) if cap else MEMORY_CAP_MB)


def load_slowdown() -> float:
    """max(1, 1-minute load average / cores): the calibration ran with about one busy core of two."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 1.0
    return max(1.0, load / float(os.cpu_count() or 1))


def resident_mb() -> float:
    """This process's resident memory now (MB; :data:`BASE_MB` where /proc is not available)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        return BASE_MB


def estimate(
    rows: int, d: int, hidden: Sequence[int], *, base_mb: float | None = None, slowdown: float = 1.0
) -> SizeEstimate:
    """The size model (module docstring) for ``rows`` distinct rows of ``d`` features and the hidden layers'
    widths ``hidden`` (their sum is h)."""
    n, h = max(0, int(rows)), max(1, int(sum(int(u) for u in hidden)))
    nh = float(n * h)
    base = resident_mb() if base_mb is None else float(base_mb)
    model_mb = nh * (MODEL_MB[0] + MODEL_MB[1] * d)
    return SizeEstimate(
        rows=n,
        d=int(d),
        units=h,
        variables=int(round(VARIABLES[0] * nh + VARIABLES[1] * h * d)),
        binaries=int(round(BINARIES[0] * nh + BINARIES[1])),
        constraints=int(round(CONSTRAINTS[0] * nh + CONSTRAINTS[1] * h * d)),
        build_seconds=slowdown * nh * (BUILD_SECONDS[0] + BUILD_SECONDS[1] * d),
        translate_seconds=slowdown * nh * (TRANSLATE_SECONDS[0] + TRANSLATE_SECONDS[1] * d),
        model_mb=model_mb,
        peak_mb=base + SOLVE_MEMORY_FACTOR * model_mb,
        slowdown=float(slowdown),
    )


def plan(
    rows: int,
    d: int,
    hidden: Sequence[int],
    seconds_left: float,
    policy: ScalePolicy | None = None,
    *,
    base_mb: float | None = None,
) -> Plan:
    """ "milp" or "no milp" for a training MILP of ``rows`` distinct rows with ``seconds_left`` of the time limit
    left (``inf``: no limit): see the module docstring."""
    pol = policy if policy is not None else ScalePolicy.from_env()
    slow = pol.slowdown if pol.slowdown is not None else load_slowdown()
    est = estimate(rows, d, hidden, base_mb=base_mb, slowdown=slow)
    if not pol.enabled:
        return Plan("milp", "the scale policy is off: the MILP is always built", est, enabled=False)
    need = est.build_seconds + est.translate_seconds
    size = f"{est.rows} distinct rows x {est.units} units: about {est.binaries} binaries, {est.constraints} rows"
    if est.peak_mb > pol.memory_cap_mb:
        return Plan(
            "no milp",
            f"the training MILP ({size}) would need about {est.peak_mb / 1024:.1f} GB, "
            f"above the {pol.memory_cap_mb / 1024:.1f} GB cap",
            est,
        )
    if math.isfinite(seconds_left) and need > max(pol.time_share * max(0.0, seconds_left), pol.min_seconds):
        return Plan(
            "no milp",
            f"building and translating the training MILP ({size}) would take about {need:.0f} s, more than "
            f"{100 * pol.time_share:.0f} % of the {max(0.0, seconds_left):.0f} s left",
            est,
        )
    return Plan("milp", f"the training MILP ({size}) fits: about {need:.0f} s to build and translate", est)


def proved_words(dual: dict[str, Any] | None, milp_bound: float | None = None) -> str:
    """What a run without the Pyomo MILP proved, in words: the larger of the dual bound and the matrix MILP's bound
    when one is above 0, else no certificate."""
    db = None
    if dual is not None and "discarded" not in dual and float(dual.get("bound", 0.0)) > 0.0:
        db = float(dual["bound"])
    if milp_bound is not None and milp_bound > 0.0 and (db is None or milp_bound > db):
        return f"proved: the lower bound {milp_bound:.6g} (matrix MILP)"
    if db is not None:
        assert dual is not None
        return f"proved: the dual lower bound {db:.6g} ({dual.get('source', 'dual')})"
    return "no certificate: no bound was proved"


def check_calibration() -> np.ndarray:
    """Estimated / measured for every calibration row and quantity (columns: variables, binaries, constraints,
    build s, translate s, model MB); the fit's own check."""
    out = []
    for n, d, h, nv, nb, nc, bs, ts, mb in CALIBRATION:
        e = estimate(n, d, [h], base_mb=0.0)
        out.append(
            [
                e.variables / nv,
                e.binaries / nb,
                e.constraints / nc,
                e.build_seconds / bs,
                e.translate_seconds / ts,
                e.model_mb / mb,
            ]
        )
    return np.asarray(out)


__all__ = [
    "CALIBRATION",
    "Plan",
    "ScalePolicy",
    "SizeEstimate",
    "check_calibration",
    "estimate",
    "load_slowdown",
    "plan",
    "proved_words",
    "resident_mb",
]
