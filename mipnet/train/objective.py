"""The objective of the training MILP: losses, penalties and budgets (as methods of
:class:`~.formulation.TrainingProblem`, through :class:`ObjectiveTerms`).

**Losses** (mean over the N samples; with ``sample_weight`` c_n, the weighted sum (1/D) sum_n c_n loss_n over D =
``loss_denominator`` rows):

* ``hinge``: xi_n >= m - y_n f(x_n), xi_n >= 0
* ``multiclass_hinge`` (Crammer-Singer): xi_n >= m + f_k(x_n) - f_{y_n}(x_n) for all k != y_n, xi_n >= 0
* ``logistic`` (binary): z_n = y_n f(x_n), xi_n >= l(t) + l'(t) (z_n - t) for t on a tangent grid of the margin's
  range, xi_n >= 0, l(z) = log(1 + exp(-z)): the tangent envelope, a lower approximation within
  :data:`~.logistic.LOGISTIC_TOLERANCE` of l (:mod:`.logistic`); the certificate reports the true value
* ``zero_one``: e_n binary, y_n f(x_n) >= m - M_n e_n (multiclass: f_{y_n} - f_k >= m - M_nk e_n);
  the count of samples without margin m
* ``l1`` (regression): r_n >= +-(f(x_n) - y_n)
* ``squared``: r_n >= (f(x_n) - y_n)^2; for HiGHS (linear only) the tangent-line outer approximation
  r_n >= 2 a (f - y) - a^2 for a on a grid of the residual's bounds (a lower approximation, so the
  solver's bound stays valid; the certificate reports the true value too).

**Penalties** (over the Dense weights, biases excluded): l1 sum |w| (t >= +-w), l2 sum w^2 (quadratic for
Gurobi/SCIP, tangent outer approximation for HiGHS, :func:`tangent_points`), l0 sum s_w with
|w| <= |w|_max s_w, neuron penalty sum u_j with u_j = 1 needed for any nonzero in-weight, bias or out-weight of
hidden unit j (sign class: u_j = p_j + q_j), layer penalty c_l * (number of hidden layers present, see the
layer switches of :mod:`.formulation`). Budgets: sum s_w <= K (``max_nonzeros``), sum u_j <= J
(``max_neurons``). With layer switches the out-weights of a unit are gated by the unit that produces them
in the network without the skipped layers (:meth:`ObjectiveTerms._gate_out_weights`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..encode.terms import constraint_list, new_binaries, new_vars
from .logistic import LOGISTIC_TOLERANCE, logistic_loss, logistic_slope, logistic_tangent_points, restrict
from .problem_state import ProblemState

#: the margin range the logistic envelope's grid covers when an output has no finite bound
UNBOUNDED_MARGIN = 40.0


def tangent_points(lo: float, hi: float, k: int) -> np.ndarray:
    """Tangent points of the outer approximation of a^2 on [lo, hi]: 0 and +-M 2^{-i/2}, i = 0..2k,
    M = max(|lo|, |hi|), restricted to [lo, hi]. Between neighbours a < sqrt(2) a the approximation
    error of r^2 is at most ((sqrt(2) - 1) a)^2 / 4, about 4.3 % of a^2."""
    M = max(abs(float(lo)), abs(float(hi)))
    mags = M * 2.0 ** (-np.arange(2 * k + 1) / 2.0)
    pts = np.concatenate([[0.0], mags, -mags])
    pts = pts[(pts >= lo - 1e-12) & (pts <= hi + 1e-12)]
    return np.unique(np.concatenate([pts, [float(lo), float(hi)]]))


class ObjectiveTerms(ProblemState):
    """The loss and penalty terms of :class:`~.formulation.TrainingProblem` (module docstring)."""

    # ------------------------------------------------------------------ losses
    def _loss(self) -> Any:
        cfg, m, N = self.config, self.model, self.N
        mg = float(cfg.margin)
        inv = 1.0 / self.loss_denominator
        loss = cfg.loss
        self.loss_vars = {}
        if loss == "hinge":
            xi = new_vars(m, "xi", np.zeros(N), np.full(N, np.inf))
            cons = constraint_list(m, "hinge")
            for n in range(N):
                cons.add(xi[n] >= mg - float(self.target[n]) * self.outputs[n].expr[0])
            self.loss_vars["xi"] = xi
            return inv * self._weighted(xi)
        if loss == "multiclass_hinge":
            xi = new_vars(m, "xi", np.zeros(N), np.full(N, np.inf))
            cons = constraint_list(m, "mhinge")
            for n in range(N):
                f, k_n = self.outputs[n].expr, int(self.target[n])
                for k in range(self.n_out):
                    if k != k_n:
                        cons.add(xi[n] >= mg + f[k] - f[k_n])
            self.loss_vars["xi"] = xi
            return inv * self._weighted(xi)
        if loss == "logistic":
            return inv * self._logistic_loss()
        if loss == "zero_one":
            e = new_binaries(m, "err", (N,))
            cons = constraint_list(m, "zero_one")
            for n in range(N):
                o = self.outputs[n]
                if self.n_out == 1:
                    yn = float(self.target[n])
                    lb = o.lower[0] if yn > 0 else -o.upper[0]
                    M = max(mg - lb, 0.0) + 1e-6
                    cons.add(yn * o.expr[0] >= mg - M * e[n])
                else:
                    yn = int(self.target[n])
                    for k in range(self.n_out):
                        if k != yn:
                            M = max(mg - (o.lower[yn] - o.upper[k]), 0.0) + 1e-6
                            cons.add(o.expr[yn] - o.expr[k] >= mg - M * e[n])
            self.loss_vars["err"] = e
            return inv * self._weighted(e)
        # regression
        res_lo = np.array([o.lower[0] for o in self.outputs]) - self.target.astype(float)
        res_hi = np.array([o.upper[0] for o in self.outputs]) - self.target.astype(float)
        if loss == "l1":
            r = new_vars(m, "res", np.zeros(N), np.maximum(np.abs(res_lo), np.abs(res_hi)))
            cons = constraint_list(m, "l1loss")
            for n in range(N):
                diff = self.outputs[n].expr[0] - float(self.target[n])
                cons.add(r[n] >= diff)
                cons.add(r[n] >= -diff)
            self.loss_vars["res"] = r
            return inv * self._weighted(r)
        r = new_vars(m, "sq", np.zeros(N), np.maximum(res_lo**2, res_hi**2))
        cons = constraint_list(m, "sqloss")
        pts_all = []
        for n in range(N):
            diff = self.outputs[n].expr[0] - float(self.target[n])
            if self.quadratic:
                cons.add(r[n] >= diff * diff)
            else:
                pts = tangent_points(res_lo[n], res_hi[n], cfg.oa_points)
                for a in pts:
                    cons.add(r[n] >= 2.0 * float(a) * diff - float(a) ** 2)
                pts_all.append(pts)
        if not self.quadratic:
            self.oa_terms["loss"] = [(r[n], pts_all[n]) for n in range(N)]
        self.loss_vars["sq"] = r
        return inv * self._weighted(r)

    def _logistic_loss(self) -> Any:
        """sum_n c_n xi_n with xi_n above the tangents of l at the margin range's grid points (:mod:`.logistic`)."""
        m, N = self.model, self.N
        y = self.target.astype(float)
        lower = np.array([o.lower[0] for o in self.outputs], dtype=float)
        upper = np.array([o.upper[0] for o in self.outputs], dtype=float)
        z_lo = np.where(y > 0, lower, -upper)
        z_hi = np.where(y > 0, upper, -lower)
        # an unbounded output (no box) keeps the envelope valid, only looser beyond this range
        z_lo = np.clip(np.nan_to_num(z_lo, nan=-UNBOUNDED_MARGIN), -UNBOUNDED_MARGIN, UNBOUNDED_MARGIN)
        z_hi = np.clip(np.nan_to_num(z_hi, nan=UNBOUNDED_MARGIN), z_lo, UNBOUNDED_MARGIN)
        grid = logistic_tangent_points(float(z_lo.min()), float(z_hi.max()), LOGISTIC_TOLERANCE)
        xi = new_vars(m, "xi", np.zeros(N), np.full(N, np.inf))
        # the margin z_n = y_n f(x_n) once per sample: the tangent rows then have two non-zeros each
        z = new_vars(m, "margin", np.full(N, -np.inf), np.full(N, np.inf))
        define = constraint_list(m, "margin_def")
        cons = constraint_list(m, "logistic")
        pts_all = []
        for n in range(N):
            define.add(z[n] == float(y[n]) * self.outputs[n].expr[0])
            pts = restrict(grid, float(z_lo[n]), float(z_hi[n]), LOGISTIC_TOLERANCE)
            for t, lt, st in zip(pts, logistic_loss(pts), logistic_slope(pts)):
                cons.add(xi[n] - float(st) * z[n] >= float(lt) - float(st) * float(t))
            pts_all.append(pts)
        self.oa_terms["loss"] = [(xi[n], pts_all[n]) for n in range(N)]
        self.loss_vars["xi"] = xi
        return self._weighted(xi)

    def _weighted(self, v: Any) -> Any:
        """sum_n c_n v_n (the plain sum without weights)."""
        c = self.sample_weight
        return pyo.quicksum(v[n] if c[n] == 1.0 else float(c[n]) * v[n] for n in range(self.N))

    # ------------------------------------------------------------------ penalties
    def _abs_terms(self) -> list[Any]:
        """|w| for every weight (sign class: p + q exactly; otherwise t >= +-w)."""
        m, out = self.model, list[Any]()
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None  # the sign class's binaries
                out.extend((lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape))
                continue
            t = new_vars(m, f"absw{l}", np.zeros(lp.shape), lp.w_abs_max)
            self.abs_vars[l] = t
            cons = constraint_list(m, f"absw{l}_def")
            for idx in np.ndindex(lp.shape):
                cons.add(t[idx] >= lp.weight[idx])
                cons.add(t[idx] >= -lp.weight[idx])
                out.append(t[idx])
        return out

    def _square_terms(self) -> list[Any]:
        """w^2 for every weight: quadratic (Gurobi/SCIP) or tangent outer approximation (HiGHS)."""
        m, out, oa = self.model, list[Any](), list[tuple[Any, np.ndarray]]()
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None
                out.extend((lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape))  # v^2 = |v| for v in {-1,0,1}
                continue
            wmax = lp.w_abs_max
            t = new_vars(m, f"sqw{l}", np.zeros(lp.shape), wmax**2)
            cons = constraint_list(m, f"sqw{l}_def")
            for idx in np.ndindex(lp.shape):
                w = lp.weight[idx]
                if self.quadratic:
                    cons.add(t[idx] >= w * w)
                else:
                    pts = tangent_points(-wmax[idx], wmax[idx], self.config.oa_points)
                    for a in pts:
                        cons.add(t[idx] >= 2.0 * float(a) * w - float(a) ** 2)
                    oa.append((t[idx], pts))
                out.append(t[idx])
        if oa:
            self.oa_terms["l2"] = oa
        return out

    def _nonzero_indicators(self) -> list[Any]:
        """s_w in {0, 1} with |w| <= |w|_max s_w (sign class: p + q)."""
        m, out = self.model, []
        for l, lp in enumerate(self.params):
            if lp.kind == "sign":
                assert lp.p is not None and lp.q is not None
                inds = [(lp.p[idx] + lp.q[idx]) for idx in np.ndindex(lp.shape)]
            else:
                s = new_binaries(m, f"nz{l}", lp.shape)
                cons = constraint_list(m, f"nz{l}_def")
                wmax = lp.w_abs_max
                inds = []
                for idx in np.ndindex(lp.shape):
                    cons.add(lp.weight[idx] <= wmax[idx] * s[idx])
                    cons.add(-lp.weight[idx] <= wmax[idx] * s[idx])
                    inds.append(s[idx])
                    self.switch_groups.append((s[idx], [lp.weight[idx]]))
            self.nonzero_ind.append(inds)
            out.extend(inds)
        return out

    def _neuron_indicators(self, need_switch: bool) -> None:
        """u_j per hidden unit; sign class: p_j + q_j with the forcing of its weights (always on)."""
        m, cfg = self.model, self.config
        o = self.hidden_offset
        for l in range(len(cfg.hidden)):
            inc, out = self.params[o + l], self.params[o + l + 1]
            H = inc.shape[0]
            if out.kind == "sign":
                assert out.p is not None and out.q is not None
                u = np.array([out.p[0, j] + out.q[0, j] for j in range(H)], dtype=object)
                cons = constraint_list(m, f"unit{l}_force")
                for j in range(H):
                    for i in range(inc.shape[1]):
                        cons.add(inc.weight[j, i] <= cfg.weight_bound * u[j])
                        cons.add(-inc.weight[j, i] <= cfg.weight_bound * u[j])
                    cons.add(inc.bias[j] <= cfg.bias_bound * u[j])
                    cons.add(-inc.bias[j] <= cfg.bias_bound * u[j])
                self.neuron_ind.append(u)
                continue
            if not need_switch:
                self.neuron_ind.append(np.full(H, None, dtype=object))
                continue
            u = new_binaries(m, f"unit{l}", (H,))
            cons = constraint_list(m, f"unit{l}_def")
            win = inc.w_abs_max
            for j in range(H):
                gated = []
                for i in range(inc.shape[1]):
                    cons.add(inc.weight[j, i] <= win[j, i] * u[j])
                    cons.add(-inc.weight[j, i] <= win[j, i] * u[j])
                    gated.append(inc.weight[j, i])
                cons.add(inc.bias[j] <= cfg.bias_bound * u[j])
                cons.add(-inc.bias[j] <= cfg.bias_bound * u[j])
                gated.append(inc.bias[j])
                self.switch_groups.append((u[j], gated + list(out.weight[:, j])))
            self.neuron_ind.append(u)
            self._gate_out_weights(l, cons)

    def _gate_out_weights(self, l: int, cons: pyo.ConstraintList) -> None:
        """|W_{l+1}[k, j]| <= |w|_max (u^m_j + sum_{i=m+1..l} r_i + [m switched] (1 - r_m)) for m = l, l-1, ..
        down to the first layer without a switch: the unit that produces g^l_j gates its out-weights."""
        out = self.params[self.hidden_offset + l + 1]
        wout = out.w_abs_max
        slack: list[Any] = []  # r_{m+1}, .., r_l
        m = l
        while True:
            r = self.layer_switch[m]
            extra = slack + ([1 - r] if r is not None else [])
            u = self.neuron_ind[m]
            for j in range(out.shape[1]):
                rhs = u[j] + pyo.quicksum(extra) if extra else u[j]
                for k in range(out.shape[0]):
                    cons.add(out.weight[k, j] <= wout[k, j] * rhs)
                    cons.add(-out.weight[k, j] <= wout[k, j] * rhs)
            if r is None:
                return
            slack.append(r)
            m -= 1


__all__ = ["ObjectiveTerms", "tangent_points"]
