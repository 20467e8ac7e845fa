"""The training MILP of a conv net: :class:`~.formulation.TrainingProblem` with conv layers and channel switches.

Everything of the dense formulation is reused: the one encoder writes every sample on its own block
with the *same* weight terms; a Conv2D layer's weight term W[o, c, p, q] is shared by every output
position (the encoder's connection list), so

    z^1_n[o, r, s] = b_o + sum_{c, p, q} W[o, c, p, q] x_n[c, r s_h + p - pad, s s_w + q - pad]

is linear in (W, b) for the first layer (x_n is data), and from the second parametrised layer on
every product W h is the hypothesis class's product rule (``quantized``: binary expansion, exact;
``continuous``: bilinear, SCIP/Gurobi). ReLU binaries are per sample, per channel, per position (the
encoder's, with per-sample interval bounds); max pooling has one selection binary per window
element that can still be the maximum (:func:`mipnet.encode.encode_maxpool`).

**Channel switches** (``channel_penalty > 0`` or ``max_channels``): one binary s_c per output
channel c of every conv layer,

    |W[c, :, :, :]| <= |W|_max s_c,   |b_c| <= B_b s_c,   |W'[:, c, ...]| <= |W'|_max s_c,

where W' is the next parametrised layer's weights reading channel c (a conv filter slice, or the
block of Dense columns that Flatten makes of channel c). s_c = 0 zeroes the whole filter, its bias
and its outgoing weights: the channel is pruned. Objective term ``channels = c_ch sum_c s_c``;
budget ``sum_c s_c <= max_channels``.

**Symmetry breaking** (the channels of one conv layer are interchangeable: permuting them and the
next layer's input channels keeps the function): with switches s_{c+1} <= s_c and
b_c >= b_{c+1} - 2 B_b (1 - s_{c+1}) (active channels first, biases non-increasing among them);
without switches b_c >= b_{c+1}. The dense head keeps the neuron and layer switches and their
ordering (:class:`~.formulation.TrainingProblem`); conv layers are never skipped, only the dense
head's equal-width hidden layers.
"""

from __future__ import annotations

from typing import Any, Sequence, cast

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from ..encode.activations import pool_candidates
from ..encode.terms import constraint_list, new_binaries
from ..layers import Conv2D, Dense
from ..network import Network
from .architecture import parse_architecture, template_conv_network
from .formulation import TrainConfig, TrainingProblem

Weights = list[tuple[np.ndarray, np.ndarray]]


def unit_out(W_next: np.ndarray, n_units: int) -> np.ndarray:
    """View (O, units, k) of the next layer's weights grouped by the producer's unit (channel or neuron).

    Works for a Conv2D consumer (O, C, kh, kw) and for a Dense consumer after Flatten (O, C * P).
    """
    return W_next.reshape(W_next.shape[0], n_units, -1)


class ConvTrainingProblem(TrainingProblem):
    """The training MILP of a conv architecture (module docstring); ``X`` flat rows of standardised images."""

    def __init__(
        self,
        X: np.ndarray,
        target: np.ndarray,
        task: str,
        n_classes: int,
        config: TrainConfig,
        image_shape: Sequence[int],
        solver: str = "highs",
        penalty_weight: float = 1.0,
        loss_denominator: int | None = None,
        deadline: Any = None,
        after_build: float = 0.0,
    ) -> None:
        self.image_shape = tuple(int(s) for s in image_shape)
        self.channel_ind: list[np.ndarray] = []
        super().__init__(
            X,
            target,
            task,
            n_classes,
            config,
            solver=solver,
            penalty_weight=penalty_weight,
            loss_denominator=loss_denominator,
            deadline=deadline,
            after_build=after_build,
        )

    @property
    def n_conv(self) -> int:
        return self.hidden_offset

    def _template(self) -> Network:
        assert self.config.architecture is not None  # a conv problem has an architecture
        spec = parse_architecture(self.config.architecture)
        return template_conv_network(spec, self.image_shape, self.n_out)

    # ------------------------------------------------------------------ channel switches
    def _extra_terms(self) -> dict[str, Any]:
        cfg, m = self.config, self.model
        need = cfg.channel_penalty > 0 or cfg.max_channels is not None
        for k in range(self.n_conv):
            inc, out = self.params[k], self.params[k + 1]
            C = inc.shape[0]
            if not need:
                self.channel_ind.append(np.full(C, None, dtype=object))
                continue
            s = new_binaries(m, f"chan{k}", (C,))
            cons = constraint_list(m, f"chan{k}_def")
            win, wout = inc.w_abs_max, out.w_abs_max
            o_w = unit_out(out.weight, C)
            o_max = unit_out(wout, C)
            for c in range(C):
                gated = []
                for idx in np.ndindex(inc.shape[1:]):
                    w = inc.weight[(c,) + idx]
                    cons.add(w <= win[(c,) + idx] * s[c])
                    cons.add(-w <= win[(c,) + idx] * s[c])
                    gated.append(w)
                cons.add(inc.bias[c] <= cfg.bias_bound * s[c])
                cons.add(-inc.bias[c] <= cfg.bias_bound * s[c])
                gated.append(inc.bias[c])
                for o in range(o_w.shape[0]):
                    for t in range(o_w.shape[2]):
                        cons.add(o_w[o, c, t] <= o_max[o, c, t] * s[c])
                        cons.add(-o_w[o, c, t] <= o_max[o, c, t] * s[c])
                        gated.append(o_w[o, c, t])
                self.switch_groups.append((s[c], gated))
            self.channel_ind.append(s)
        terms: dict[str, Any] = {}
        switches = [v for layer in self.channel_ind for v in layer if v is not None]
        if cfg.channel_penalty > 0:
            terms["channels"] = self.penalty_weight * cfg.channel_penalty * pyo.quicksum(switches)
        if cfg.max_channels is not None:
            m.budget_channels = pyo.Constraint(expr=pyo.quicksum(switches) <= int(cfg.max_channels))
        return terms

    def _symmetry(self) -> None:
        super()._symmetry()
        cons = constraint_list(self.model, "channel_symmetry")
        B2 = 2.0 * self.config.bias_bound
        for k in range(self.n_conv):
            b, s = self.params[k].bias, self.channel_ind[k]
            for c in range(len(b) - 1):
                if s[c] is not None:
                    cons.add(s[c + 1] <= s[c])
                    cons.add(b[c] >= b[c + 1] - B2 * (1 - s[c + 1]))
                else:
                    cons.add(b[c] >= b[c + 1])

    # ------------------------------------------------------------------ values implied by weights
    def active_units(self, weights: Weights, k: int) -> np.ndarray:
        """Units of parametrised layer k (k < last) with a nonzero in-weight, bias or out-weight (in the
        layer that reads them, past skipped dense layers); none for a skipped layer."""
        W, b = weights[k]
        n = W.shape[0]
        if self.skipped_params(weights)[k]:
            return np.zeros(n, dtype=bool)
        inc = np.abs(W.reshape(n, -1)).sum(axis=1) + np.abs(b)
        out = np.abs(unit_out(weights[self.consumers(weights)[k]][0], n)).sum(axis=(0, 2))
        return (inc + out) > 0

    def zero_dead_units(self, w: Weights) -> Weights:
        """A hidden unit or channel without outgoing weights gets zero filter and bias, and one with zero
        filter and bias (a constant 0 after ReLU and pooling) zero outgoing weights: the function is unchanged.
        Out-weights are the consumer's (past skipped dense layers, which are left alone); repeated until
        nothing changes (a dense layer that becomes all zero is skipped and feeds zero weights)."""
        changed = True
        while changed:
            changed = False
            skip, cons = self.skipped_params(w), self.consumers(w)
            for k in range(len(w) - 1):
                if skip[k]:
                    continue
                W, b = w[k]
                n = W.shape[0]
                out = unit_out(w[cons[k]][0], n)
                before = np.count_nonzero(W) + np.count_nonzero(b) + np.count_nonzero(out)
                dead = np.all(out == 0, axis=(0, 2))
                W[dead] = 0.0
                b[dead] = 0.0
                silent = (np.abs(W.reshape(n, -1)).sum(axis=1) == 0) & (b == 0)
                out[:, silent, :] = 0.0
                changed |= np.count_nonzero(W) + np.count_nonzero(b) + np.count_nonzero(out) < before
        return w

    def selection_values(self, weights: Weights) -> Any:
        """Channel switches, and the max-pool selection binaries from a numpy forward pass (the window's
        argmax among the encoder's candidates)."""
        vals = ComponentMap()
        for k, switches in enumerate(self.channel_ind):
            act = self.active_units(weights, k)
            for c, s in enumerate(switches):
                if s is not None:
                    vals[s] = float(act[c])
        pools = [i for i, l in enumerate(self.template.layers) if l.piece_kind == "maxpool"]
        if not pools:
            return vals
        trace = self.template_trace(weights)
        for i in pools:
            layer = self.template.layers[i]
            for n, enc in enumerate(self.encodings):
                xin, bins = enc.terms[i], enc.binaries[i]
                assert bins is not None  # the encoder makes selection binaries for every max-pool layer
                win = layer.flat_windows(xin.shape)
                xl, xu = xin.lower.ravel(), xin.upper.ravel()
                v = trace[i][n].ravel()
                for j, d in enumerate(bins.ravel()):
                    if d is None:
                        continue
                    idx = win[j][win[j] >= 0]
                    cand = pool_candidates(idx, xl, xu)
                    t = int(np.argmax(v[cand]))
                    for u, dv in enumerate(d):
                        vals[dv] = float(u == t)
        return vals

    def weight_values(self) -> Weights:
        """(W, b) per parametrised layer; a switched-off channel's weights are exactly zero."""
        return self.zero_dead_units(super().weight_values())


def conv_layers(net: Network) -> list[int]:
    return [i for i, l in enumerate(net.layers) if l.parametrised and l.unit_name == "channels"]


def channel_activity(net: Network) -> list[np.ndarray]:
    """Per Conv2D layer with a parametrised consumer: channels with a nonzero filter, bias or outgoing weight."""
    params = [i for i, l in enumerate(net.layers) if l.parametrised]
    out = []
    for a, b in zip(params[:-1], params[1:]):
        if net.layers[a].unit_name != "channels":
            continue
        p, c = cast(Conv2D, net.layers[a]), cast("Conv2D | Dense", net.layers[b])  # parametrised layers
        n = p.out_channels
        inc = np.abs(p.weight.reshape(n, -1)).sum(axis=1) + np.abs(p.bias)
        outw = np.abs(unit_out(c.weight, n)).sum(axis=(0, 2))
        out.append((inc + outw) > 0)
    return out
